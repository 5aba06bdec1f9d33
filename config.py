"""Configuration: one base class, one subclass per way of running the app.

Secrets and service URLs come from the environment. With none set, the
Development config runs everything embedded: SQLite under ``instance/`` and
Celery on kombu's SQLAlchemy transport over another SQLite file.
"""

import json
import os
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("HOTLINE_INSTANCE_DIR", BASE_DIR / "instance"))


def _sqlite_url(name: str) -> str:
    return f"sqlite:///{INSTANCE_DIR / name}"


def sqlalchemy_url(url: str) -> str:
    """``postgresql://`` and ``postgres://`` (how every PostgreSQL tool writes a URL) mean the installed
    psycopg 3 driver; SQLAlchemy would look for psycopg2."""
    for scheme in ("postgresql://", "postgres://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url[len(scheme) :]
    return url


def _json_environ(name: str, default: object) -> object:
    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise RuntimeError(f"{name} is not valid JSON: {exc}") from exc


DEFAULT_SECRET_KEY = "dev-only-change-me"  # public: it is in this file


def refuse_development_on_postgresql(database_url: str, config_chosen: bool) -> None:
    """The development config (chosen because nothing else was) must not start on PostgreSQL: that is a
    deployment that forgot ``HOTLINE_CONFIG=production``, serving sessions signed with a key anyone can read
    here. ``HOTLINE_CONFIG=development`` asks for development on PostgreSQL on purpose."""
    if config_chosen or not sqlalchemy_url(database_url).startswith("postgresql"):
        return
    from sqlalchemy.engine import make_url

    shown = make_url(sqlalchemy_url(database_url)).render_as_string(hide_password=True)
    raise RuntimeError(
        f"refusing to start: DATABASE_URL points at PostgreSQL ({shown}) but HOTLINE_CONFIG is not set, so the "
        "development config would run: it is made for one machine, its default SECRET_KEY is public (anyone "
        "could sign a session) and its cookies are not Secure. "
        "Set HOTLINE_CONFIG=production for a deployment (docs/deployment.md), or HOTLINE_CONFIG=development "
        "to run the development config on this database on purpose."
    )


def celery_settings(broker_url: str, result_backend: str, key_prefix: str | None = None) -> dict:
    # A key prefix lets several installations (or test runs) share one Redis.
    prefix = key_prefix or os.environ.get("HOTLINE_REDIS_PREFIX")
    transport = {"global_keyprefix": prefix} if prefix and broker_url.startswith("redis") else {}
    return {
        "broker_transport_options": transport,
        "broker_url": broker_url,
        "result_backend": result_backend,
        "task_ignore_result": True,
        # Tasks are idempotent, so a task lost by a dying worker is redelivered.
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "broker_connection_retry_on_startup": True,
        # A request must not hang when the broker is down: the outbox re-drive sends it later.
        "task_publish_retry": False,
        "broker_connection_timeout": 2,
        "timezone": "Asia/Shanghai",
        "enable_utc": True,
    }


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", DEFAULT_SECRET_KEY)
    SQLALCHEMY_DATABASE_URI = sqlalchemy_url(os.environ.get("DATABASE_URL") or _sqlite_url("hotline.db"))
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    # A PostgreSQL streaming replica for the dashboard, the public statistics and the exports; used while at
    # most REPLICA_MAX_STALENESS_SECONDS behind (measured every REPLICA_CHECK_SECONDS), else the primary.
    DATABASE_REPLICA_URL = os.environ.get("DATABASE_REPLICA_URL")
    REPLICA_MAX_STALENESS_SECONDS = float(os.environ.get("REPLICA_MAX_STALENESS_SECONDS", "60"))
    REPLICA_CHECK_SECONDS = float(os.environ.get("REPLICA_CHECK_SECONDS", "5"))
    REDIS_URL = os.environ.get("REDIS_URL")
    # Screen pops go through Redis pub/sub so that every web worker and host can deliver them (hotline.cti.bus).
    CTI_BUS_URL = os.environ.get("CTI_BUS_URL") or REDIS_URL
    # The Asterisk adapter (flask cti asterisk, docs/telephony.md): its AMI login, the hotline it reports to and
    # the cti key it reports with, and where the PBX serves MixMonitor's recordings (unset: none reported).
    CTI_AMI_HOST = os.environ.get("CTI_AMI_HOST", "127.0.0.1")
    CTI_AMI_PORT = int(os.environ.get("CTI_AMI_PORT", "5038"))
    CTI_AMI_USERNAME = os.environ.get("CTI_AMI_USERNAME")
    CTI_AMI_SECRET = os.environ.get("CTI_AMI_SECRET")
    CTI_AMI_CONTEXTS = [c for c in os.environ.get("CTI_AMI_CONTEXTS", "").split(",") if c.strip()]
    CTI_AMI_MONITOR_DIR = os.environ.get("CTI_AMI_MONITOR_DIR", "/var/spool/asterisk/monitor")
    CTI_RECORDING_URL_PREFIX = os.environ.get("CTI_RECORDING_URL_PREFIX")
    CTI_HOTLINE_URL = os.environ.get("CTI_HOTLINE_URL", "http://127.0.0.1:5000")
    CTI_API_KEY = os.environ.get("CTI_API_KEY")
    # The console's wrap-up list: the operator's calls that ended without a ticket in the last this many hours.
    CTI_WRAP_UP_HOURS = float(os.environ.get("CTI_WRAP_UP_HOURS", "8"))
    BABEL_DEFAULT_LOCALE = "zh_Hans_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = {"zh_Hans_CN": "中文", "en": "English"}
    BOOTSTRAP_SERVE_LOCAL = True
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    # "Remember me" lasts a working fortnight, not Flask-Login's 365 days, and is never sent cross-site.
    REMEMBER_COOKIE_DURATION = timedelta(days=14)
    REMEMBER_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = None
    TICKETS_PER_PAGE = 50
    # The ticket list's per-status counts: how long a process reuses them (seconds; 0 counts afresh).
    TICKET_COUNTS_SECONDS = 15
    # The dispatch desk's duplicate hints: how long a process reuses a ticket's while it is unchanged (0: afresh).
    DESK_HINTS_SECONDS = 15
    # Reverse proxies in front of the app (nginx: 1); 0 when clients connect directly.
    PROXY_COUNT = int(os.environ.get("HOTLINE_PROXY_COUNT", "0"))
    # The appeal form shows a map only with the city's own tile server (never an external one by default),
    # e.g. MAP_TILE_URL=https://tiles.city.gov.cn/{z}/{x}/{y}.png
    MAP_TILE_URL = os.environ.get("MAP_TILE_URL")
    MAP_TILE_ATTRIBUTION = os.environ.get("MAP_TILE_ATTRIBUTION", "")
    MAP_CENTER = tuple(float(v) for v in os.environ.get("MAP_CENTER", "30.59,114.30").split(","))
    # 统一督办 (docs/sla.md): when a working day ends, and the ladder's working-day steps.
    SLA_WORKDAY_ENDS = os.environ.get("SLA_WORKDAY_ENDS", "23:59:59")
    SLA_ESCALATION_WORKING_DAYS = int(os.environ.get("SLA_ESCALATION_WORKING_DAYS", 5))
    SLA_CALLBACK_WORKING_DAYS = int(os.environ.get("SLA_CALLBACK_WORKING_DAYS", 3))
    SLA_ORDER_RESPONSE_WORKING_DAYS = int(os.environ.get("SLA_ORDER_RESPONSE_WORKING_DAYS", 1))
    SLA_URGING_RESPONSE_WORKING_DAYS = int(os.environ.get("SLA_URGING_RESPONSE_WORKING_DAYS", 1))
    # The yellow card: when this share of the limit is left, at most this many working days before.
    SLA_WARNING_SHARE = float(os.environ.get("SLA_WARNING_SHARE", 0.2))
    SLA_WARNING_WORKING_DAYS = float(os.environ.get("SLA_WARNING_WORKING_DAYS", 1))
    # Notifications: e-mail over SMTP (Flask-Mail), SMS through a gateway ("logging" or "http").
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "localhost")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", 25))
    MAIL_USE_TLS = os.environ.get("MAIL_USE_TLS") == "1"
    MAIL_USE_SSL = os.environ.get("MAIL_USE_SSL") == "1"
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "12345@hotline.local")
    MAIL_SUPPRESS_SEND = not os.environ.get("MAIL_SERVER")  # no SMTP server configured: log only
    # SMS (docs/sms.md): SMS_GATEWAY is logging, http (a JSON relay) or aliyun (Alibaba Cloud SMS).
    SMS_GATEWAY = os.environ.get("SMS_GATEWAY", "logging")
    SMS_GATEWAY_URL = os.environ.get("SMS_GATEWAY_URL", "")
    SMS_GATEWAY_TOKEN = os.environ.get("SMS_GATEWAY_TOKEN")
    SMS_ALIYUN_ACCESS_KEY_ID = os.environ.get("SMS_ALIYUN_ACCESS_KEY_ID")
    SMS_ALIYUN_ACCESS_KEY_SECRET = os.environ.get("SMS_ALIYUN_ACCESS_KEY_SECRET")
    SMS_ALIYUN_SIGN_NAME = os.environ.get("SMS_ALIYUN_SIGN_NAME")
    # Our notification template names → the TemplateCodes Aliyun approved, as JSON: {"reply_released": "SMS_1"}.
    SMS_ALIYUN_TEMPLATES = _json_environ("SMS_ALIYUN_TEMPLATES", {})
    SMS_ALIYUN_ENDPOINT = os.environ.get("SMS_ALIYUN_ENDPOINT", "https://dysmsapi.aliyuncs.com/")
    SMS_ALIYUN_REGION = os.environ.get("SMS_ALIYUN_REGION", "cn-hangzhou")
    # Every SMS webhook (replies, delivery receipts) is signed with this secret (docs/sms.md); unset: refused.
    SMS_WEBHOOK_SECRET = os.environ.get("SMS_WEBHOOK_SECRET")
    # The release SMS's rating link: valid this many days (and only while the answer awaits its rating), on
    # this public address (unset: the address the reviewer's request came to).
    SMS_RATING_LINK_DAYS = int(os.environ.get("SMS_RATING_LINK_DAYS", 7))
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL")
    # No rate is published on fewer answers than this (hotline.core.stats.published_rate): "too few answers".
    PUBLIC_MIN_ANSWERS = int(os.environ.get("PUBLIC_MIN_ANSWERS", "10"))
    # The PostgreSQL search index is partitioned by ranges of this many ticket ids (hotline.search.partitions):
    # about a month of a big city's appeals, so a search of recent words reads one or two partitions' GIN.
    SEARCH_PARTITION_TICKETS = int(os.environ.get("SEARCH_PARTITION_TICKETS", "1000000"))
    # `flask archive` moves tickets closed more than this many years ago out of the working tables
    # (docs/operations.md "Retention and the archive"): two full years stay for year-on-year figures.
    ARCHIVE_AFTER_YEARS = int(os.environ.get("ARCHIVE_AFTER_YEARS", "3"))
    # The 社会监督评议 link sent after a ticket (hotline.evaluation.services.evaluation_link_token): valid days.
    EVALUATION_LINK_DAYS = int(os.environ.get("EVALUATION_LINK_DAYS", 60))
    # Rate limits live in Redis when there is one (shared by all gunicorn workers), in memory otherwise.
    # If Redis goes down, Flask-Limiter falls back to per-process memory and never fails a request.
    RATELIMIT_STORAGE_URI = REDIS_URL or "memory://"
    RATELIMIT_STORAGE_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 1} if REDIS_URL else {}
    RATELIMIT_KEY_PREFIX = os.environ.get("HOTLINE_REDIS_PREFIX", "hotline")
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = True
    RATELIMIT_HEADERS_ENABLED = True
    # Whole request bodies (JSON with base64 photos, or multipart) are refused above this, before reading.
    MAX_CONTENT_LENGTH = 26 * 1024 * 1024
    API_TOKEN_MAX_AGE = 8 * 3600  # seconds a staff bearer token from /api/v1/auth/token stays valid
    # Each process writes partner keys' request counts and last use at most this often (/admin/api-keys).
    API_KEY_USAGE_FLUSH_SECONDS = int(os.environ.get("API_KEY_USAGE_FLUSH_SECONDS", "10"))
    # Hours an Idempotency-Key's first answer is replayed to retries (hotline.api.idempotency; purged by beat).
    IDEMPOTENCY_KEY_HOURS = int(os.environ.get("IDEMPOTENCY_KEY_HOURS", "24"))
    CELERY = celery_settings(
        os.environ.get("CELERY_BROKER_URL") or REDIS_URL or "sqla+" + _sqlite_url("broker.db"),
        os.environ.get("CELERY_RESULT_BACKEND") or REDIS_URL or "db+" + _sqlite_url("results.db"),
    )


class DevelopmentConfig(Config):
    pass


class TestingConfig(Config):
    TESTING = True
    WTF_CSRF_ENABLED = False
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"
    # Tasks sent by tests go nowhere unless a test wires a real broker (see test_celery_roundtrip).
    CELERY = celery_settings("memory://", "cache+memory://")
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_STORAGE_OPTIONS = {}
    CTI_BUS_URL = None  # in-process; test_cti wires Redis
    CTI_STREAM_SECONDS = 1  # a test that reads a stream reads it to its end
    TICKET_COUNTS_SECONDS = 0
    DESK_HINTS_SECONDS = 0


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True

    def __init__(self) -> None:
        missing = [n for n in ("SECRET_KEY", "DATABASE_URL", "REDIS_URL") if not os.environ.get(n)]
        if missing:
            raise RuntimeError(f"production needs these environment variables: {', '.join(missing)}")


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}
