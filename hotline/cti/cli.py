"""``flask cti asterisk``: the Asterisk adapter as its own long-running process (docs/telephony.md)."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

import click
from flask import current_app
from flask.cli import AppGroup

from hotline.cti.asterisk import AdapterSettings, LoginRefused, run

cti_cli = AppGroup("cti", help="Connect the call centre's telephony to the hotline.")


@cti_cli.command("asterisk")
@click.option("--host", help="AMI host (CTI_AMI_HOST, default 127.0.0.1).")
@click.option("--port", type=int, help="AMI port (CTI_AMI_PORT, default 5038).")
@click.option("--username", help="The manager.conf user (CTI_AMI_USERNAME).")
@click.option("--secret", help="Its secret (CTI_AMI_SECRET; prefer the variable: options show in ps).")
@click.option("--url", "hotline_url", help="The hotline's address (CTI_HOTLINE_URL, default http://127.0.0.1:5000).")
@click.option("--api-key", help="A key of kind cti (CTI_API_KEY; flask apikeys create --kind cti).")
@click.option(
    "--recording-url-prefix", help="Where the PBX serves MixMonitor files (CTI_RECORDING_URL_PREFIX; unset: none)."
)
@click.option(
    "--monitor-dir", help="MixMonitor's folder on the PBX (CTI_AMI_MONITOR_DIR, /var/spool/asterisk/monitor)."
)
@click.option(
    "--context", "contexts", multiple=True, help="Follow only calls entering this dialplan context (CTI_AMI_CONTEXTS)."
)
def asterisk_command(host, port, username, secret, hotline_url, api_key, recording_url_prefix, monitor_dir, contexts):
    """Report Asterisk's calls to the hotline until stopped. A refused AMI login exits with status 2."""
    config = current_app.config
    settings = AdapterSettings(
        ami_host=host or config["CTI_AMI_HOST"],
        ami_port=port or int(config["CTI_AMI_PORT"]),
        username=username or config.get("CTI_AMI_USERNAME") or "",
        secret=secret or config.get("CTI_AMI_SECRET") or "",
        hotline_url=hotline_url or config["CTI_HOTLINE_URL"],
        api_key=api_key or config.get("CTI_API_KEY") or "",
        recording_prefix=recording_url_prefix or config.get("CTI_RECORDING_URL_PREFIX"),
        monitor_dir=monitor_dir or config["CTI_AMI_MONITOR_DIR"],
        contexts=frozenset(contexts or config["CTI_AMI_CONTEXTS"]),
    )
    missing = [
        name
        for name, value in (
            ("--username / CTI_AMI_USERNAME", settings.username),
            ("--secret / CTI_AMI_SECRET", settings.secret),
            ("--api-key / CTI_API_KEY", settings.api_key),
        )
        if not value
    ]
    if missing:
        raise click.UsageError(f"missing: {', '.join(missing)}")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        asyncio.run(_until_signalled(settings))
    except LoginRefused as exc:
        click.echo(
            f"Asterisk at {settings.ami_host}:{settings.ami_port} refused the login of AMI user "
            f"{settings.username!r}: {exc}. Check CTI_AMI_USERNAME, CTI_AMI_SECRET and the user's permit= "
            "in manager.conf.",
            err=True,
        )
        sys.exit(2)


async def _until_signalled(settings: AdapterSettings) -> None:
    """SIGTERM (systemd stop) and SIGINT end the adapter after it delivered what it had read."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await run(settings, stop)
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
