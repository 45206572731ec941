"""`python -m bot`: serve the app, refusing an open network bind without a token."""

from __future__ import annotations

import ipaddress
import logging
import sys

from aiohttp import web
from pydantic import ValidationError

from bot import logs
from bot.app import create_app
from bot.cli import Parser
from bot.settings import Settings
from bot.web import texts as web_texts
from handoff.hours import BadSchedule

log = logging.getLogger("handoff")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def main(argv: list[str] | None = None) -> int:
    parser = Parser(prog="python -m bot", description=web_texts.SERVE_DESCRIPTION)
    parser.add_argument("--host", help=web_texts.SERVE_HOST_HELP)
    parser.add_argument("--port", type=int, help=web_texts.SERVE_PORT_HELP)
    args = parser.parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as exc:
        reasons = "; ".join(
            ".".join(str(p) for p in e["loc"]).upper() + (": " if e["loc"] else "")
            + e["msg"].removeprefix("Value error, ") for e in exc.errors())
        print(web_texts.BAD_SETTINGS.format(reason=reasons), file=sys.stderr)
        return 2
    host = args.host or settings.host
    port = args.port if args.port is not None else settings.port
    logs.configure()
    if not is_loopback(host) and not settings.handoff_api_token:
        print(web_texts.REFUSE_OPEN_HOST.format(host=host), file=sys.stderr)
        return 2
    log.info("starting", extra={"host": host, "port": port,
                                "store": "redis" if settings.redis_url else "memory"})
    try:
        app = create_app(settings)
    except BadSchedule as exc:
        print(web_texts.BAD_SCHEDULE.format(reason=exc), file=sys.stderr)
        return 2
    web.run_app(app, host=host, port=port, shutdown_timeout=5,
                access_log_class=logs.AccessLogger, print=None, handle_signals=True)
    log.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
