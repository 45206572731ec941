"""`handoff` / `python -m bot.cli`: the seed's administration CLI (section 6) over the REST API.

Only the standard library talks HTTP, so installing the CLI on an operator's machine pulls in
nothing else. Exit status: 0 done, 1 the server said no, 2 bad usage or no usable server.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
from collections.abc import Callable
from typing import Any
from urllib import error, parse, request

from bot import cli_texts as texts
from bot import replies
from handoff.model import Mode, Source

DEFAULT_URL = "http://localhost:8000"
TIMEOUT_SECONDS = 10.0
EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2


class CliError(Exception):
    """One line for stderr and the exit status that goes with it."""

    def __init__(self, line: str, code: int) -> None:
        super().__init__(line)
        self.line = line
        self.code = code


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _marked(template: str, message: str) -> str:
    """The seed prefixes ✅/❌; a server message that starts with its own emoji keeps only that."""
    message = _one_line(message)
    if message and not message[0].isalnum():
        return message
    return template.format(message=message)


class Client:
    """The server at `url`, with the bearer token when one is configured."""

    def __init__(self, url: str, token: str | None) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.last_status = 0

    def call(self, method: str, path: str, query: dict[str, str] | None = None) -> dict[str, Any]:
        """The JSON answer of a 2xx; anything else becomes a `CliError`."""
        full = self.url + path + ("?" + parse.urlencode(query) if query else "")
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            req = request.Request(full, method=method, headers=headers)
            with request.urlopen(req, timeout=TIMEOUT_SECONDS) as resp:
                status, raw = resp.status, resp.read()
        except error.HTTPError as exc:
            status, raw = exc.code, exc.read()
        except (error.URLError, OSError, http.client.HTTPException, ValueError) as exc:
            reason = _one_line(str(getattr(exc, "reason", exc)))
            raise CliError(texts.CLI_UNREACHABLE.format(url=self.url, reason=reason),
                           EXIT_USAGE) from exc
        self.last_status = status
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise CliError(texts.CLI_BAD_ANSWER.format(status=status), EXIT_USAGE)
        if status >= 400:
            said = body.get("message") or body.get("error")
            if not isinstance(said, str):
                raise CliError(texts.CLI_BAD_ANSWER.format(status=status), EXIT_USAGE)
            # 400 is a malformed request (bad phone): usage. 5xx: the server could not answer.
            code = EXIT_USAGE if status == 400 or status >= 500 else EXIT_REFUSED
            raise CliError(_marked(texts.CLI_FAIL, said), code)
        return body


def _phone_path(phone: str, action: str) -> str:
    return f"/session/{parse.quote(phone, safe='')}/{action}"


def list_sessions(client: Client, args: argparse.Namespace) -> int:
    query = {"mode": args.mode} if args.mode else None
    sessions = client.call("GET", "/sessions/active", query)["sessions"]
    print(texts.CLI_TOTAL.format(count=len(sessions)))
    for s in sessions:
        print(texts.CLI_SESSION.format(emoji=replies.MODE_EMOJI.get(s["mode"], "❓"),
                                       phone=s["phone"], mode=s["mode"].upper()))
        if s.get("human_attendant"):
            print(texts.CLI_HOLDER.format(holder=s["human_attendant"]))
    return EXIT_OK


def _action(client: Client, phone: str, action: str, query: dict[str, str]) -> int:
    """Takeover and release answer alike; `source=cli` marks the history entry as ours."""
    result = client.call("POST", _phone_path(phone, action), {**query, "source": Source.CLI.value})
    if result["success"] is not True:
        print(_marked(texts.CLI_FAIL, result["message"]), file=sys.stderr)
        return EXIT_REFUSED
    print(_marked(texts.CLI_OK, result["message"]))
    return EXIT_OK


def takeover(client: Client, args: argparse.Namespace) -> int:
    return _action(client, args.phone, "takeover", {"attendant_id": args.attendant})


def release(client: Client, args: argparse.Namespace) -> int:
    return _action(client, args.phone, "release", {})


def status(client: Client, args: argparse.Namespace) -> int:
    session = client.call("GET", _phone_path(args.phone, "status"))
    print(texts.CLI_STATUS.format(phone=session["phone"]))
    print(texts.CLI_MODE.format(mode=session["mode"].upper()))
    if session.get("human_attendant"):
        print(texts.CLI_ATTENDANT.format(holder=session["human_attendant"]))
    if session.get("last_customer_text"):
        print(texts.CLI_LAST_TEXT.format(text=_one_line(session["last_customer_text"])))
    return EXIT_OK


Command = Callable[[Client, argparse.Namespace], int]


def parser() -> argparse.ArgumentParser:
    # --url is accepted before or after the command; SUPPRESS keeps a later absence from
    # overwriting an earlier value.
    url = argparse.ArgumentParser(add_help=False)
    url.add_argument("--url", default=argparse.SUPPRESS, help=texts.CLI_HELP_URL)
    top = argparse.ArgumentParser(prog="handoff", description=texts.CLI_HELP, parents=[url])
    commands = top.add_subparsers(dest="command", required=True, metavar="COMANDO")

    ls = commands.add_parser("list-sessions", parents=[url], help=texts.CLI_HELP_LIST)
    ls.add_argument("--mode", choices=[m.value for m in Mode], help=texts.CLI_HELP_MODE)
    ls.set_defaults(run=list_sessions)

    take = commands.add_parser("takeover", parents=[url], help=texts.CLI_HELP_TAKEOVER)
    take.add_argument("phone", metavar="PHONE")
    take.add_argument("attendant", metavar="ATTENDANT")
    take.set_defaults(run=takeover)

    rel = commands.add_parser("release", parents=[url], help=texts.CLI_HELP_RELEASE)
    rel.add_argument("phone", metavar="PHONE")
    rel.set_defaults(run=release)

    st = commands.add_parser("status", parents=[url], help=texts.CLI_HELP_STATUS)
    st.add_argument("phone", metavar="PHONE")
    st.set_defaults(run=status)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)  # exits 2 with argparse's usage line on bad usage
    url = getattr(args, "url", None) or os.environ.get("HANDOFF_URL") or DEFAULT_URL
    client = Client(url, os.environ.get("HANDOFF_API_TOKEN") or None)
    run: Command = args.run
    try:
        return run(client, args)
    except CliError as exc:
        print(exc.line, file=sys.stderr)
        return exc.code
    except (KeyError, TypeError, AttributeError):
        # A 2xx whose JSON lacks the contract's fields: not our server, or not this version.
        print(texts.CLI_BAD_ANSWER.format(status=client.last_status), file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
