"""Safe setup: PostgreSQL URLs as every tool writes them, and no development config on PostgreSQL by accident."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from config import sqlalchemy_url
from hotline import create_app
from tests.conftest import PG_ADMIN_URL

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "url, expected",
    [
        ("postgresql://hotline:pw@db:5432/hotline", "postgresql+psycopg://hotline:pw@db:5432/hotline"),
        ("postgres://hotline@db/hotline", "postgresql+psycopg://hotline@db/hotline"),
        ("postgresql+psycopg://hotline@db/hotline", "postgresql+psycopg://hotline@db/hotline"),
        ("sqlite:////srv/hotline.db", "sqlite:////srv/hotline.db"),
    ],
)
def test_postgresql_urls_without_a_driver_use_psycopg(url, expected):
    assert sqlalchemy_url(url) == expected


def _plain(url: str) -> str:
    """The test server's URL as psql writes it: ``postgresql://…``."""
    return sa.engine.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def test_an_app_on_a_plain_postgresql_url_connects(pg_databases, monkeypatch):
    monkeypatch.setenv("HOTLINE_CONFIG", "development")
    app = create_app(SQLALCHEMY_DATABASE_URI=_plain(PG_ADMIN_URL))
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg://")
    from hotline.extensions import db

    with app.app_context():
        assert db.session.execute(sa.text("SELECT 1")).scalar() == 1
        db.engine.dispose()


def test_development_config_on_postgresql_is_refused_unless_chosen(monkeypatch):
    monkeypatch.delenv("HOTLINE_CONFIG", raising=False)
    with pytest.raises(RuntimeError) as refused:
        create_app(SQLALCHEMY_DATABASE_URI="postgres://hotline:s3cret@db.example/hotline")
    message = str(refused.value)
    assert "HOTLINE_CONFIG=production" in message and "HOTLINE_CONFIG=development" in message
    assert "db.example" in message and "s3cret" not in message
    monkeypatch.setenv("HOTLINE_CONFIG", "development")
    chosen = create_app(SQLALCHEMY_DATABASE_URI="postgres://hotline:s3cret@db.example/hotline")
    assert chosen.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://hotline:s3cret@db.example/hotline"


def test_development_config_on_sqlite_and_testing_config_start_as_before(monkeypatch, tmp_path):
    monkeypatch.delenv("HOTLINE_CONFIG", raising=False)
    assert create_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'x.db'}").config["SECRET_KEY"]
    assert create_app("testing", SQLALCHEMY_DATABASE_URI="postgresql://x@db/y").testing


def test_the_flask_command_refuses_from_the_environment(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "HOTLINE_CONFIG"}
    env.update(DATABASE_URL="postgresql://hotline:s3cret@127.0.0.1:9/hotline", HOTLINE_INSTANCE_DIR=str(tmp_path))
    flask = [sys.executable, "-m", "flask", "--app", "wsgi", "users", "list"]
    refused = subprocess.run(flask, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert refused.returncode != 0 and "HOTLINE_CONFIG=development" in refused.stderr
    assert "s3cret" not in refused.stderr
    run = subprocess.run(
        [sys.executable, "scripts/run.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 2 and "HOTLINE_CONFIG=development" in run.stderr


def test_a_csrf_failure_from_a_secure_cookie_over_http_says_so_in_the_log(app, caplog):
    secure = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
        WTF_CSRF_ENABLED=True,
        SESSION_COOKIE_SECURE=True,
    )
    page = secure.test_client().get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    # the browser kept the Secure cookie to itself over http://: the form arrives without its session
    refused = secure.test_client().post("/login", data={"username": "admin", "password": "x", "csrf_token": token})
    assert refused.status_code == 400
    assert 'class="error-code mb-2">400<' in refused.get_data(as_text=True)  # the friendly page
    lines = [r.getMessage() for r in caplog.records if "CSRF failure" in r.getMessage()]
    assert len(lines) == 1 and "SESSION_COOKIE_SECURE" in lines[0] and "plain HTTP" in lines[0]
    assert "/login" in lines[0]
    caplog.clear()
    over_https = secure.test_client().post("/login", base_url="https://localhost", data={"username": "admin"})
    assert over_https.status_code == 400  # an ordinary CSRF failure: nothing about the deployment
    assert not [r for r in caplog.records if "CSRF failure" in r.getMessage()]
    with secure.app_context():
        from hotline.extensions import db

        db.engine.dispose()


def _catalogue(root: Path, language: str, compiled: bool, mo_older=False) -> Path:
    po = root / language / "LC_MESSAGES" / "messages.po"
    po.parent.mkdir(parents=True)
    po.write_text('msgid ""\nmsgstr ""\n', encoding="utf-8")
    if compiled:
        mo = po.with_suffix(".mo")
        subprocess.run(
            [sys.executable, "-m", "babel.messages.frontend", "compile", "-i", str(po), "-o", str(mo)],
            check=True,
            capture_output=True,
        )
        if mo_older:
            os.utime(mo, (po.stat().st_mtime - 60, po.stat().st_mtime - 60))
    return po


def test_a_start_without_compiled_translations_warns_in_the_log(tmp_path, caplog):
    missing = _catalogue(tmp_path, "zh_Hans_CN", compiled=False)
    stale = _catalogue(tmp_path, "fr", compiled=True, mo_older=True)
    _catalogue(tmp_path, "en", compiled=True)
    create_app("testing", BABEL_TRANSLATION_DIRECTORIES=str(tmp_path))
    lines = [r.getMessage() for r in caplog.records if "translations not compiled" in r.getMessage()]
    assert len(lines) == 2
    assert str(missing.with_suffix(".mo")) in lines[1] and "zh_Hans_CN" in lines[1] and "pybabel compile" in lines[1]
    assert str(stale.with_suffix(".mo")) in lines[0]


def test_production_start_warns_too(tmp_path, caplog, monkeypatch):
    _catalogue(tmp_path, "zh_Hans_CN", compiled=False)
    for name, value in {
        "SECRET_KEY": "x" * 32,
        "DATABASE_URL": "postgresql://h@db/h",
        "REDIS_URL": "redis://r/0",
    }.items():
        monkeypatch.setenv(name, value)
    create_app("production", BABEL_TRANSLATION_DIRECTORIES=str(tmp_path))
    assert any("translations not compiled" in r.getMessage() for r in caplog.records)
