"""``flask cti asterisk`` end to end: a fake Asterisk manager interface (tests/fake_ami.py) sends a day's calls, the
adapter posts them over HTTP to a live server of the test app, and the calls are stored as the hotline's own
door stores them. Also: a refused login ends it with status 2, a dropped AMI link is dialled again, and events
read while the hotline is down are delivered once it is back."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from hotline.api.services import create_api_key
from hotline.cti.asterisk import AdapterSettings, post_event, run
from hotline.cti.models import Call
from hotline.extensions import db
from tests.fake_ami import ABANDONED_CALL, ANSWERED_CALL, FakeAmi, abandoned_call, answered_call

PREFIX = "https://pbx.example.gov.cn/rec/"
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LiveHotline:
    """The test app served over HTTP in a thread (as tests/e2e do), on ``port`` or a free one."""

    def __init__(self, app, port: int = 0) -> None:
        self.server = make_server("127.0.0.1", port, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def telephony(app, world):
    """A cti key and the world's operator at extension 8001."""
    _, world.cti_key = create_api_key("呼叫中心", kind="cti")
    world.operator.extension = "8001"
    db.session.commit()
    return world


@pytest.fixture
def hotline(app):
    live = LiveHotline(app)
    yield live
    live.close()


@pytest.fixture
def fake_ami():
    servers: list[FakeAmi] = []

    def start(*scripts: list[str], **options) -> FakeAmi:
        servers.append(FakeAmi(list(scripts), **options))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def settings_for(ami: FakeAmi, url: str, key: str) -> AdapterSettings:
    return AdapterSettings(
        ami_host="127.0.0.1",
        ami_port=ami.port,
        username="hotline",
        secret="s3cret",
        hotline_url=url,
        api_key=key,
        recording_prefix=PREFIX,
        retry_first_seconds=0.05,
        retry_max_seconds=0.2,
        timeout_seconds=2,
    )


def calls() -> dict[str, Call]:
    db.session.expire_all()
    return {call.call_id: call for call in db.session.execute(select(Call)).scalars()}


def ended(*call_ids: str) -> Callable[[], bool]:
    def check() -> bool:
        found = calls()
        return all(found.get(c) is not None and found[c].state == "ended" for c in call_ids)

    return check


def run_adapter(settings: AdapterSettings, until: Callable[[], bool], *, timeout: float = 20, then=None) -> None:
    """The adapter until ``until()`` holds (checked against the database every 0.1 s) or ``timeout``; ``then``
    is called once, from the loop, after the first second (to bring a server up, say)."""

    async def main() -> None:
        stop = asyncio.Event()
        adapter = asyncio.create_task(run(settings, stop))
        started, pending = time.monotonic(), [then] if then else []
        while not until() and time.monotonic() - started < timeout and not adapter.done():
            await asyncio.sleep(0.1)
            if pending and time.monotonic() - started > 1:
                pending.pop()()
        stop.set()
        await adapter

    asyncio.run(main())


def test_an_answered_call_and_an_abandoned_one_are_stored_as_asterisk_reported_them(app, telephony, hotline, fake_ami):
    ami = fake_ami(answered_call() + abandoned_call())
    run_adapter(settings_for(ami, hotline.url, telephony.cti_key), ended(ANSWERED_CALL, ABANDONED_CALL))
    found = calls()
    answered, abandoned = found[ANSWERED_CALL], found[ABANDONED_CALL]
    assert answered.caller == "13800138000"  # +86 dropped, as operators type it
    assert answered.agent == "8001" and answered.operator_id == telephony.operator.id
    assert answered.ringing_at == datetime(2026, 12, 7, 1, 0, 0)  # Asterisk's own timestamps, stored in UTC
    assert answered.answered_at == datetime(2026, 12, 7, 1, 0, 8) and answered.duration_seconds == 210
    assert answered.recording_url == PREFIX + "2026/12/07/in-12345-1796605200.17.wav"
    assert abandoned.caller == "02787654321" and abandoned.state == "ended"
    assert abandoned.answered_at is None and abandoned.operator_id is None and abandoned.agent is None
    assert abandoned.ringing_at is not None and abandoned.recording_url is None
    assert ami.logins == [
        {
            "action": "Login",
            "actionid": "hotline-login",
            "username": "hotline",
            "secret": "s3cret",
            "events": "call,agent,dialplan",
        }
    ]


def test_the_command_reads_its_settings_from_the_environment_and_stops_on_sigterm(
    app, telephony, hotline, fake_ami, tmp_path
):
    """``flask cti asterisk`` as systemd runs it: its own process, configured by environment variables."""
    ami = fake_ami(answered_call())
    env = {
        **os.environ,
        "FLASK_APP": "wsgi",
        "HOTLINE_CONFIG": "testing",
        "HOTLINE_INSTANCE_DIR": str(tmp_path),
        "CTI_AMI_PORT": str(ami.port),
        "CTI_AMI_USERNAME": "hotline",
        "CTI_AMI_SECRET": "s3cret",
        "CTI_HOTLINE_URL": hotline.url,
        "CTI_API_KEY": telephony.cti_key,
        "CTI_RECORDING_URL_PREFIX": PREFIX,
    }
    adapter = subprocess.Popen(
        [sys.executable, "-m", "flask", "cti", "asterisk"],
        env=env,
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not ended(ANSWERED_CALL)() and time.monotonic() < deadline and adapter.poll() is None:
            time.sleep(0.1)
        adapter.send_signal(signal.SIGTERM)
        _, log = adapter.communicate(timeout=15)
    finally:
        adapter.kill()
    assert adapter.returncode == 0, log
    assert f"logged in to AMI at 127.0.0.1:{ami.port} as hotline" in log
    assert "call 1796605200.17: answered" in log and "13800138000" not in log  # calls by id, never the caller's number
    call = calls()[ANSWERED_CALL]
    assert call.operator_id == telephony.operator.id and call.recording_url.startswith(PREFIX)


def test_a_refused_login_ends_the_adapter_with_status_2_and_says_why(app, fake_ami):
    ami = fake_ami([], secret="the-right-one")
    result = app.test_cli_runner().invoke(
        args=["cti", "asterisk", "--port", str(ami.port), "--username", "hotline", "--secret", "wrong"]
        + ["--api-key", "k", "--url", "http://127.0.0.1:9"]
    )
    assert result.exit_code == 2, result.output
    assert "refused the login of AMI user 'hotline': Authentication failed" in result.output
    assert len(ami.logins) == 1  # a wrong secret is not tried again and again


def test_a_dropped_ami_link_is_dialled_again_and_the_call_completes(app, telephony, hotline, fake_ami):
    first_half, second_half = answered_call()[:8], answered_call()[8:]  # dropped right after the answer
    ami = fake_ami(first_half, second_half)
    run_adapter(settings_for(ami, hotline.url, telephony.cti_key), ended(ANSWERED_CALL))
    call = calls()[ANSWERED_CALL]
    assert len(ami.logins) == 2
    assert call.operator_id == telephony.operator.id and call.duration_seconds == 210
    assert call.recording_url.endswith("in-12345-1796605200.17.wav")  # what was read before the drop is kept


def test_a_link_that_falls_silent_is_pinged_then_given_up_and_dialled_again(app, telephony, hotline, fake_ami):
    ami = fake_ami(answered_call()[:8], answered_call()[8:], hang=True)
    settings = replace(settings_for(ami, hotline.url, telephony.cti_key), ping_seconds=0.3)
    run_adapter(settings, ended(ANSWERED_CALL))
    assert len(ami.logins) == 2 and calls()[ANSWERED_CALL].duration_seconds == 210


def test_events_read_while_the_hotline_is_down_are_delivered_when_it_is_back(app, telephony, fake_ami):
    port = free_port()
    ami = fake_ami(answered_call() + abandoned_call())
    servers: list[LiveHotline] = []

    def hotline_comes_up() -> None:
        assert calls() == {}  # nothing got through meanwhile
        servers.append(LiveHotline(app, port))

    try:
        settings = settings_for(ami, f"http://127.0.0.1:{port}", telephony.cti_key)
        run_adapter(settings, ended(ANSWERED_CALL, ABANDONED_CALL), then=hotline_comes_up)
    finally:
        for server in servers:
            server.close()
    found = calls()
    assert len(servers) == 1 and set(found) == {ANSWERED_CALL, ABANDONED_CALL}
    assert found[ANSWERED_CALL].operator_id == telephony.operator.id
    assert found[ANSWERED_CALL].ringing_at == datetime(2026, 12, 7, 1, 0, 0)  # when it rang, not when delivered


def test_an_event_the_hotline_refuses_is_dropped_and_the_next_call_still_arrives(app, telephony, hotline, fake_ami):
    """The API answers 422 to a two-digit caller; a 4xx is logged and not sent again, nor does it block the
    queue behind it."""
    bad = "1796605100.5"
    ami = fake_ami(abandoned_call(caller="12", call=bad) + answered_call())
    # A retry would hold the queue for a minute, longer than the test waits for the answered call behind it.
    settings = replace(settings_for(ami, hotline.url, telephony.cti_key), retry_first_seconds=60)
    run_adapter(settings, ended(ANSWERED_CALL), timeout=30)
    found = calls()
    assert set(found) == {ANSWERED_CALL}  # the bad call's ringing and hang-up were refused (422) and dropped
    assert found[ANSWERED_CALL].operator_id == telephony.operator.id


def test_a_redirect_is_not_followed_as_a_get_but_reported(caplog):
    """nginx sending http:// on to https:// would turn the POST into a GET without its body."""

    def redirecting(environ, start_response):
        start_response("308 Permanent Redirect", [("Location", "https://hotline.example.gov.cn/api/v1/cti/events")])
        return [b""]

    server = make_server("127.0.0.1", 0, redirecting)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        settings = AdapterSettings("127.0.0.1", 5038, "u", "s", f"http://127.0.0.1:{server.server_port}", "k")
        with caplog.at_level(logging.ERROR, logger="hotline.cti.asterisk"):
            outcome = post_event(settings, {"event": "hangup", "call_id": "c-1"})
    finally:
        server.shutdown()
        server.server_close()
    assert outcome == "refused"
    assert "redirected the hangup of call c-1 to https://hotline.example.gov.cn/api/v1/cti/events" in caplog.text
