"""Asterisk's Manager Interface (AMI), as pure functions: reading its messages, and turning a call's events into
the hotline's telephony events (``POST /api/v1/cti/events``). No sockets here: ``hotline.cti.asterisk`` runs
the connection and the delivery. The mapping is described in docs/telephony.md ("The Asterisk adapter").

A call is the set of channels sharing one ``Linkedid``: the caller's channel (the oldest, whose ``Uniqueid`` is
the ``Linkedid``) and the channels dialled for it. The ``Linkedid`` is the call id the hotline is given."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

BANNER = re.compile(r"^Asterisk Call Manager/\S+")
RING_STATES = {"4", "5"}  # ChannelState 4 "Ring" (an inbound call rings at Asterisk), 5 "Ringing" (remote)
RECORDING_VARIABLE = "MIXMONITOR_FILENAME"
# A channel name is TECH/RESOURCE-SEQUENCE (PJSIP/8001-00000012, SIP/8001-0000a1b2) or, for Local channels
# (queues, follow-me), Local/EXTEN@CONTEXT-SEQUENCE;N. The resource is the extension.
_CHANNEL = re.compile(r"^[A-Za-z0-9]+/(?P<resource>[^@/;]+?)(?:@[^;]*)?(?:-[0-9a-fA-F]+)?(?:;\d)?$")
_NUMBER = re.compile(r"^\+?[0-9][0-9 -]{1,30}$")
_FORGET_AFTER_SECONDS = 12 * 3600  # a call whose hang-up was never seen (the link was down) is forgotten
# An ended call is remembered a while: its dialled channels' last events (DialEnd CANCEL, their Hangup) follow.
_FORGET_ENDED_AFTER_SECONDS = 600

Message = dict[str, str]


def login_action(username: str, secret: str, action_id: str = "hotline-login") -> bytes:
    """The ``Login`` action, asking only for the event classes the mapping reads (call, agent, dialplan:
    ``VarSet`` is a dialplan event)."""
    return action("Login", action_id, Username=username, Secret=secret, Events="call,agent,dialplan")


def action(name: str, action_id: str, **fields: str) -> bytes:
    lines = [f"Action: {name}", f"ActionID: {action_id}"] + [f"{k}: {v}" for k, v in fields.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def parse_message(block: str) -> Message:
    """One AMI message (its ``Key: Value`` lines, the blank line excluded) as a dict with lower-case keys
    (Asterisk's own spelling varies between versions: ``UniqueID``, ``Uniqueid``). A repeated key keeps its
    first value; a line without a colon (``Response: Follows`` output) is ignored."""
    message: Message = {}
    for line in block.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip():
            message.setdefault(key.strip().lower(), value.strip())
    return message


def extension_of(channel: str | None) -> str | None:
    """``PJSIP/8001-00000012`` → ``8001``; ``Local/8001@from-queue-0000001a;1`` → ``8001``; None if unreadable."""
    match = _CHANNEL.match(channel or "")
    return match.group("resource") if match else None


def recording_url(filename: str, prefix: str, monitor_dir: str) -> str:
    """Where the hotline plays a MixMonitor file: ``prefix`` plus the file's path under ``monitor_dir`` (so
    dated folders are kept), or plus its name when it was recorded elsewhere."""
    root = monitor_dir.rstrip("/") + "/"
    relative = filename[len(root) :] if filename.startswith(root) else filename.rsplit("/", 1)[-1]
    return prefix.rstrip("/") + "/" + quote(relative.lstrip("/"))


def event_time(message: Message, received: datetime) -> datetime:
    """The event's own ``Timestamp`` (manager.conf ``timestampevents = yes``), else when it was read: never when
    it is delivered, which may be much later if the hotline was down."""
    try:
        return datetime.fromtimestamp(float(message["timestamp"]), tz=UTC)
    except (KeyError, ValueError, OverflowError):
        return received


def _number(value: str | None) -> str | None:
    """A caller id that is a telephone number; Asterisk says ``<unknown>`` or leaves it empty otherwise."""
    return value if value and _NUMBER.match(value) else None


def _answers(name: str, message: Message) -> bool:
    return (name == "dialend" and message.get("dialstatus") == "ANSWER") or name == "agentconnect"


@dataclass
class _Call:
    first_seen: float
    followed: bool
    caller: str | None = None
    recording: str | None = None
    sent: set[str] = field(default_factory=set)
    ended: float | None = None


@dataclass
class CallMapper:
    """Turns AMI events into hotline events, each sent once per call (the hotline also ignores repeats).

    - ringing: ``Newchannel``/``Newstate`` of the caller's channel in state 4 or 5, or a ``DialBegin`` from it;
    - answered: ``DialEnd`` with ``DialStatus: ANSWER``, or ``AgentConnect`` (queues); the extension is read
      from the answering channel's name (the queue member's ``Interface``, else ``DestChannel``), else its
      ``DestCallerIDNum``;
    - hangup: ``Hangup`` of the caller's channel, with the recording when a ``VarSet`` of
      ``MIXMONITOR_FILENAME`` was seen on any channel of the call and ``recording_prefix`` is set.

    With ``contexts``, only calls whose caller's channel started in one of these dialplan contexts (the trunk's
    inbound context, e.g. ``from-pstn``) are followed, so the operators' own outgoing calls are not reported."""

    recording_prefix: str | None = None
    monitor_dir: str = "/var/spool/asterisk/monitor"
    contexts: frozenset[str] = frozenset()
    calls: dict[str, _Call] = field(default_factory=dict)

    def feed(self, message: Message, received: datetime, clock: float | None = None) -> list[dict[str, Any]]:
        """The hotline events (API bodies) this AMI message makes; usually none."""
        name = message.get("event", "").lower()
        call_id = message.get("linkedid") or message.get("uniqueid")
        if not name or not call_id:
            return []
        now = time.monotonic() if clock is None else clock
        from_caller = message.get("uniqueid") == call_id  # the caller's own channel, not one dialled for it
        call = self.calls.get(call_id)
        if call is None:
            if not (from_caller or _answers(name, message) or name == "varset"):
                return []  # e.g. a dialled channel hanging up after the call ended: nothing to start following
            self._forget_old(now)
            # A call first seen mid-way (the adapter (re)connected during it) can only be judged on its context
            # when its first event comes from the caller's channel.
            context_ok = not self.contexts or (from_caller and message.get("context") in self.contexts)
            call = self.calls[call_id] = _Call(first_seen=now, followed=context_ok)
        if from_caller:
            call.caller = _number(message.get("calleridnum")) or call.caller
        if name == "varset" and message.get("variable") == RECORDING_VARIABLE and message.get("value"):
            call.recording = message["value"]
        if call.ended is not None:
            return []  # the dialled channels' last events, after the caller hung up
        if name == "hangup" and from_caller:
            call.ended = now
        if not call.followed:
            return []
        at = event_time(message, received).isoformat()
        out: list[dict[str, Any]] = []

        def emit(event: str, **extra: str) -> None:
            if event in call.sent or (event != "hangup" and not call.caller):
                return  # the hotline requires the caller's number but on hang-up; a withheld number is not reported
            call.sent.add(event)
            body: dict[str, Any] = {"event": event, "call_id": call_id, "time": at, **extra}
            if call.caller:
                body["caller"] = call.caller
            out.append(body)

        if name in ("newchannel", "newstate") and from_caller and message.get("channelstate") in RING_STATES:
            emit("ringing")
        elif name == "dialbegin" and from_caller:
            emit("ringing")
        elif _answers(name, message):
            agent = (
                extension_of(message.get("interface"))
                or extension_of(message.get("destchannel"))
                or _number(message.get("destcalleridnum"))
            )
            if agent:
                emit("answered", agent=agent)
        elif name == "hangup" and from_caller:
            extra = {}
            if call.recording and self.recording_prefix:
                extra["recording_url"] = recording_url(call.recording, self.recording_prefix, self.monitor_dir)
            emit("hangup", **extra)
        return out

    def _forget_old(self, now: float) -> None:
        old = [
            key
            for key, call in self.calls.items()
            if now - call.first_seen > _FORGET_AFTER_SECONDS
            or (call.ended is not None and now - call.ended > _FORGET_ENDED_AFTER_SECONDS)
        ]
        for key in old:
            del self.calls[key]
