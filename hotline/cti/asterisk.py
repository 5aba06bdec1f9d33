"""The Asterisk adapter's process (``flask cti asterisk``): one AMI connection, read line by line, its events
mapped by ``hotline.cti.ami`` and queued; a sender posts the queue to ``POST /api/v1/cti/events`` in order.

The two halves fail apart: a dropped AMI link is dialled again with a growing pause while the queue keeps what
was read; a hotline that is down or answers 5xx/429 has the same event sent again, with a growing pause, until it
is taken (the hotline stores each event of a call once, so a repeat is harmless). Only a refused login ends
the process (``LoginRefused``): retrying a wrong secret would never succeed."""

from __future__ import annotations

import asyncio
import json
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from hotline.cti.ami import BANNER, CallMapper, Message, action, login_action, parse_message

log = logging.getLogger(__name__)

EVENTS_PATH = "/api/v1/cti/events"
_LOGIN_ID = "hotline-login"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """urllib would follow a redirect of a POST as a GET without the body (http:// to https://, say): a 3xx is
    reported instead, so the address can be corrected."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


class LoginRefused(Exception):
    """Asterisk answered the Login action with an error (wrong username or secret, or a host not permitted)."""


@dataclass(frozen=True)
class AdapterSettings:
    ami_host: str
    ami_port: int
    username: str
    secret: str
    hotline_url: str
    api_key: str
    recording_prefix: str | None = None
    monitor_dir: str = "/var/spool/asterisk/monitor"
    contexts: frozenset[str] = frozenset()
    retry_first_seconds: float = 1.0
    retry_max_seconds: float = 30.0
    ping_seconds: float = 30.0  # a silent link is pinged; no answer within as long again: it is dead
    timeout_seconds: float = 10.0  # to connect to AMI, for its banner and login answer, and for each POST
    drain_seconds: float = 10.0  # on the way out, how long the queue may still be delivered


class Backoff:
    """1, 2, 4 … seconds, at most ``longest``; ``reset`` after a success."""

    def __init__(self, first: float, longest: float) -> None:
        self.first, self.longest, self.delay = first, longest, first

    def next(self) -> float:
        delay, self.delay = self.delay, min(self.delay * 2, self.longest)
        return delay

    def reset(self) -> None:
        self.delay = self.first


def outcome_of(status: int) -> str:
    """``delivered``, ``retry`` (the hotline is overloaded or failing: send it again) or ``refused`` (the event
    or the key is wrong: sending it again would be refused again)."""
    if 200 <= status < 300:
        return "delivered"
    if status == 429 or status >= 500:
        return "retry"
    return "refused"


async def run(settings: AdapterSettings, stop: asyncio.Event | None = None) -> None:
    """Listen and deliver until ``stop`` is set (then deliver what is queued, for ``drain_seconds`` at most).
    Raises ``LoginRefused`` after delivering what was queued the same way."""
    stop = stop or asyncio.Event()
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    mapper = CallMapper(settings.recording_prefix, settings.monitor_dir, settings.contexts)
    sender = asyncio.create_task(deliver_forever(settings, queue))
    listener = asyncio.create_task(listen_forever(settings, mapper, queue))
    stopped = asyncio.create_task(stop.wait())
    failure: BaseException | None = None
    try:
        done, _ = await asyncio.wait({listener, stopped}, return_when=asyncio.FIRST_COMPLETED)
        if listener in done:  # it only ends by raising: a refused login (or a bug)
            failure = listener.exception()
    finally:
        listener.cancel()
        stopped.cancel()
        try:
            await asyncio.wait_for(queue.join(), settings.drain_seconds)
        except TimeoutError:
            # the sender holds one more, the one it keeps sending again
            log.error("stopping with %d event(s) not delivered to the hotline", queue.qsize() + 1)
        sender.cancel()
    if failure is not None:
        raise failure


async def listen_forever(settings: AdapterSettings, mapper: CallMapper, queue: asyncio.Queue[dict[str, Any]]) -> None:
    backoff = Backoff(settings.retry_first_seconds, settings.retry_max_seconds)
    where = f"{settings.ami_host}:{settings.ami_port}"
    while True:
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(settings.ami_host, settings.ami_port), settings.timeout_seconds
            )
        except (OSError, TimeoutError) as exc:
            delay = backoff.next()
            log.warning("AMI at %s unreachable (%s); trying again in %g s", where, exc or "timeout", delay)
            await asyncio.sleep(delay)
            continue
        try:
            await login(reader, writer, settings)
            log.info("logged in to AMI at %s as %s", where, settings.username)
            backoff.reset()
            await read_events(reader, writer, mapper, queue, settings.ping_seconds)
            reason = "closed by Asterisk"
        except (OSError, ConnectionError, TimeoutError) as exc:
            reason = str(exc) or type(exc).__name__
        finally:
            writer.close()
        delay = backoff.next()
        log.warning("AMI link to %s lost (%s); reconnecting in %g s", where, reason, delay)
        await asyncio.sleep(delay)


async def _messages(reader: asyncio.StreamReader, timeout: float | None = None) -> Message | None:
    """The next message, None at the end of the stream. Raises ``TimeoutError`` when no line comes in
    ``timeout`` (a half-arrived line stays in ``reader``'s buffer; the lines of a message cut off by the timeout
    are dropped, which only a stalled Asterisk would do: it writes each message at once)."""
    lines: list[str] = []
    while True:
        raw = await asyncio.wait_for(reader.readline(), timeout)
        if not raw:
            return None
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        if line:
            lines.append(line)
        elif lines:
            return parse_message("\n".join(lines))


async def login(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, settings: AdapterSettings) -> None:
    banner = (await asyncio.wait_for(reader.readline(), settings.timeout_seconds)).decode("utf-8", "replace")
    if not BANNER.match(banner):
        raise ConnectionError(f"not an Asterisk manager interface (it said {banner.strip()[:60]!r})")
    writer.write(login_action(settings.username, settings.secret, _LOGIN_ID))
    await writer.drain()
    while True:
        message = await _messages(reader, settings.timeout_seconds)
        if message is None:
            raise ConnectionError("closed before answering the login")
        if message.get("actionid") == _LOGIN_ID or ("response" in message and "actionid" not in message):
            if message.get("response", "").lower() == "success":
                return
            raise LoginRefused(message.get("message") or "login refused")


async def read_events(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    mapper: CallMapper,
    queue: asyncio.Queue[dict[str, Any]],
    ping_seconds: float,
) -> None:
    """Until Asterisk closes the link; a link silent for ``ping_seconds`` is pinged, and one that stays silent
    as long again is given up (``ConnectionError``)."""
    pinged = False
    while True:
        try:
            message = await _messages(reader, ping_seconds)
        except TimeoutError:
            if pinged:
                raise ConnectionError("no answer to a ping") from None
            writer.write(action("Ping", "hotline-ping"))
            await writer.drain()
            pinged = True
            continue
        if message is None:
            return
        pinged = False
        for body in mapper.feed(message, datetime.now(UTC)):
            log.info("call %s: %s", body["call_id"], body["event"])
            queue.put_nowait(body)


async def deliver_forever(settings: AdapterSettings, queue: asyncio.Queue[dict[str, Any]]) -> None:
    """Each event in turn (the order of a call's events is kept); a failed one is sent again until taken."""
    backoff = Backoff(settings.retry_first_seconds, settings.retry_max_seconds)
    while True:
        body = await queue.get()
        while (outcome := await asyncio.to_thread(post_event, settings, body)) == "retry":
            delay = backoff.next()
            log.warning("%d event(s) waiting for the hotline; sending again in %g s", queue.qsize() + 1, delay)
            await asyncio.sleep(delay)
        if outcome == "delivered":
            backoff.reset()
        queue.task_done()


def post_event(settings: AdapterSettings, body: dict[str, Any]) -> str:
    """One ``POST``; its ``outcome_of``. Blocking (run in a thread). The caller's number is never logged."""
    request = urllib.request.Request(
        settings.hotline_url.rstrip("/") + EVENTS_PATH,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "X-API-Key": settings.api_key},
        method="POST",
    )
    what = f"{body['event']} of call {body['call_id']}"
    try:
        with _opener.open(request, timeout=settings.timeout_seconds) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
        detail = exc.read(2000).decode("utf-8", "replace")
        if 300 <= status < 400:
            log.error(
                "the hotline redirected the %s to %s: set CTI_HOTLINE_URL to that address; dropped",
                what,
                exc.headers.get("Location"),
            )
        elif outcome_of(status) == "refused":
            log.error("the hotline refused the %s (HTTP %d): %s; dropped", what, status, _error_message(detail))
        else:
            log.warning("the hotline answered HTTP %d to the %s", status, what)
    except (urllib.error.URLError, OSError) as exc:
        log.warning("the hotline at %s is unreachable (%s)", settings.hotline_url, getattr(exc, "reason", exc))
        return "retry"
    return outcome_of(status)


def _error_message(detail: str) -> str:
    """The API's ``{"error": {"message", "fields"}}``, shortened for a log line."""
    try:
        error = json.loads(detail)["error"]
        return f"{error.get('message')} {error.get('fields') or ''}".strip()[:300]
    except (ValueError, KeyError, TypeError, AttributeError):
        return detail[:300]
