"""A stand-in for Asterisk's manager interface: the banner, the Login check, then scripted events, as Asterisk 20
sends them for an inbound call through a PJSIP trunk to extension 8001 (Dial, MixMonitor, a bridge)."""

from __future__ import annotations

import asyncio
import threading

BANNER = b"Asterisk Call Manager/9.0.0\r\n"

# Answered at 8001 and hung up by the operator: 09:00:00 ringing, 09:00:08 answered, 09:03:38 hang-up (+08:00),
# with manager.conf's timestampevents = yes.
T0 = 1796605200.0  # 2026-12-07 09:00:00 +08:00
ANSWERED_CALL = "1796605200.17"
ABANDONED_CALL = "1796605260.19"
RECORDING = "/var/spool/asterisk/monitor/2026/12/07/in-12345-1796605200.17.wav"


def _channel(name: str, uniqueid: str, linkedid: str, state: str, caller: str, **extra: str) -> str:
    desc = {"0": "Down", "4": "Ring", "5": "Ringing", "6": "Up"}[state]
    fields = {
        "Channel": name,
        "ChannelState": state,
        "ChannelStateDesc": desc,
        "CallerIDNum": caller,
        "CallerIDName": "<unknown>",
        "ConnectedLineNum": "<unknown>",
        "ConnectedLineName": "<unknown>",
        "Language": "zh",
        "AccountCode": "",
        "Context": extra.pop("Context", "from-pstn"),
        "Exten": extra.pop("Exten", "12345"),
        "Priority": "1",
        "Uniqueid": uniqueid,
        "Linkedid": linkedid,
    }
    fields.update(extra)
    return "".join(f"{k}: {v}\r\n" for k, v in fields.items())


def event(name: str, privilege: str, at: float | None, body: str, **extra: str) -> str:
    stamp = f"Timestamp: {at:.6f}\r\n" if at is not None else ""
    tail = "".join(f"{k}: {v}\r\n" for k, v in extra.items())
    return f"Event: {name}\r\nPrivilege: {privilege},all\r\n{stamp}{body}{tail}\r\n"


def _dest(name: str, uniqueid: str, linkedid: str, state: str, caller: str) -> str:
    return "".join(
        f"Dest{line}\r\n"
        for line in _channel(name, uniqueid, linkedid, state, caller, Context="from-internal", Exten="8001")
        .strip()
        .split("\r\n")
    )


def answered_call(caller: str = "+8613800138000", call: str = ANSWERED_CALL) -> list[str]:
    trunk, agent = "PJSIP/trunk-00000011", "PJSIP/8001-00000012"
    leg = call.rsplit(".", 1)[0] + "." + str(int(call.rsplit(".", 1)[1]) + 1)
    t = T0 if call == ANSWERED_CALL else None

    def at(seconds: float) -> float | None:
        return None if t is None else t + seconds

    mine = _channel(trunk, call, call, "4", caller)
    up = _channel(trunk, call, call, "6", caller)
    return [
        event("Newchannel", "call", at(0), mine),
        event("Newexten", "dialplan", at(0), mine, Extension="12345", Application="Answer", AppData=""),
        event("VarSet", "dialplan", at(0.1), mine, Variable="MIXMONITOR_FILENAME", Value=RECORDING),
        event("Newchannel", "call", at(0.2), _channel(agent, leg, call, "0", "8001", Context="from-internal")),
        event("DialBegin", "call", at(0.2), mine + _dest(agent, leg, call, "0", caller), DialString="8001"),
        event("Newstate", "call", at(0.3), _channel(agent, leg, call, "5", caller, Context="from-internal")),
        event("Newstate", "call", at(8), _channel(agent, leg, call, "6", caller, Context="from-internal")),
        event("DialEnd", "call", at(8), mine + _dest(agent, leg, call, "6", caller), DialStatus="ANSWER"),
        event("Newstate", "call", at(8), up),
        event("BridgeEnter", "call", at(8), up, BridgeUniqueid="b-1", BridgeType="basic"),
        event("BridgeLeave", "call", at(218), up, BridgeUniqueid="b-1", BridgeType="basic"),
        event(
            "Hangup",
            "call",
            at(218),
            _channel(agent, leg, call, "6", caller, Context="from-internal"),
            Cause="16",
            **{"Cause-txt": "Normal Clearing"},
        ),
        event("Hangup", "call", at(218), up, Cause="16", **{"Cause-txt": "Normal Clearing"}),
    ]


def abandoned_call(caller: str = "027-87654321", call: str = ABANDONED_CALL) -> list[str]:
    """It rings at 8001; the caller gives up (no Timestamp: the adapter uses the time it read each event)."""
    trunk, agent = "PJSIP/trunk-00000013", "PJSIP/8001-00000014"
    leg = call.rsplit(".", 1)[0] + "." + str(int(call.rsplit(".", 1)[1]) + 1)
    mine = _channel(trunk, call, call, "4", caller)
    return [
        event("Newchannel", "call", None, mine),
        event("Newchannel", "call", None, _channel(agent, leg, call, "0", "8001", Context="from-internal")),
        event("DialBegin", "call", None, mine + _dest(agent, leg, call, "0", caller), DialString="8001"),
        event("Newstate", "call", None, _channel(agent, leg, call, "5", caller, Context="from-internal")),
        event("Hangup", "call", None, mine, Cause="16", **{"Cause-txt": "Normal Clearing"}),
        event("DialEnd", "call", None, mine + _dest(agent, leg, call, "5", caller), DialStatus="CANCEL"),
        event(
            "Hangup",
            "call",
            None,
            _channel(agent, leg, call, "5", caller, Context="from-internal"),
            Cause="26",
            **{"Cause-txt": "Answered elsewhere"},
        ),
    ]


class FakeAmi:
    """Serves on 127.0.0.1 (a free port) in a thread of its own. Connection n gets ``scripts[n]``; every scripted
    connection but the last is then closed (a dropped link), or with ``hang`` falls silent and answers nothing
    (a link that died without a goodbye); the last stays open and answers pings."""

    def __init__(
        self, scripts: list[list[str]], username: str = "hotline", secret: str = "s3cret", hang: bool = False
    ) -> None:
        self.scripts, self.username, self.secret, self.hang = scripts, username, secret, hang
        self.logins: list[dict[str, str]] = []
        self.loop = asyncio.new_event_loop()
        self.port = 0
        ready = threading.Event()
        self.thread = threading.Thread(target=self._serve, args=(ready,), daemon=True)
        self.thread.start()
        ready.wait(5)

    def _serve(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        self.server = self.loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", 0))
        self.port = self.server.sockets[0].getsockname()[1]
        ready.set()
        self.loop.run_forever()

    def close(self) -> None:
        def stop() -> None:
            self.server.close()
            self.loop.stop()

        self.loop.call_soon_threadsafe(stop)
        self.thread.join(5)

    async def _block(self, reader: asyncio.StreamReader) -> dict[str, str] | None:
        fields: dict[str, str] = {}
        while True:
            line = (await reader.readline()).decode()
            if not line:
                return None
            if not line.strip():
                if fields:
                    return fields
                continue
            key, _, value = line.partition(":")
            fields[key.strip().lower()] = value.strip()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        n = len(self.logins)
        writer.write(BANNER)
        login = await self._block(reader)
        if login is None:
            writer.close()
            return
        self.logins.append(login)
        action_id = login.get("actionid", "")
        if login.get("action", "").lower() != "login" or (login.get("username"), login.get("secret")) != (
            self.username,
            self.secret,
        ):
            writer.write(f"Response: Error\r\nActionID: {action_id}\r\nMessage: Authentication failed\r\n\r\n".encode())
            await writer.drain()
            writer.close()  # as Asterisk does
            return
        writer.write(f"Response: Success\r\nActionID: {action_id}\r\nMessage: Authentication accepted\r\n\r\n".encode())
        writer.write(b"Event: FullyBooted\r\nPrivilege: system,all\r\nUptime: 3600\r\nStatus: Fully Booted\r\n\r\n")
        for text in self.scripts[n] if n < len(self.scripts) else []:
            writer.write(text.encode())
            await writer.drain()
        if n < len(self.scripts) - 1:
            while self.hang and await reader.read(1024):
                pass  # pings go unanswered
            writer.close()
            return
        while (action := await self._block(reader)) is not None:
            if action.get("action", "").lower() == "ping":
                writer.write(f"Response: Success\r\nActionID: {action.get('actionid')}\r\nPing: Pong\r\n\r\n".encode())
                await writer.drain()
        writer.close()
