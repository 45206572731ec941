"""`handoff` / `python -m bot.cli`: the seed's administration CLI (section 6) over the REST API.

Only the standard library talks HTTP, so installing the CLI on an operator's machine pulls in
nothing else. Exit status: 0 done, 1 the server said no, 2 bad usage or no usable server.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import sys
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, NoReturn
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

    def call(self, method: str, path: str, query: dict[str, str] | None = None,
             body: dict[str, Any] | None = None) -> dict[str, Any]:
        """The JSON answer of a 2xx; anything else becomes a `CliError`."""
        full = self.url + path + ("?" + parse.urlencode(query) if query else "")
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body, ensure_ascii=False).encode()
            headers["Content-Type"] = "application/json"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            req = request.Request(full, data=data, method=method, headers=headers)
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


def _action(client: Client, phone: str, action: str, query: dict[str, str],
            body: dict[str, Any] | None = None) -> int:
    """Takeover, release and transfer answer alike; `source=cli` marks the history entry as ours
    (a server that does not read it for an action ignores it)."""
    result = client.call("POST", _phone_path(phone, action), {**query, "source": Source.CLI.value},
                         body)
    if result["success"] is not True:
        print(_marked(texts.CLI_FAIL, result["message"]), file=sys.stderr)
        return EXIT_REFUSED
    print(_marked(texts.CLI_OK, result["message"]))
    return EXIT_OK


def takeover(client: Client, args: argparse.Namespace) -> int:
    return _action(client, args.phone, "takeover", {"attendant_id": args.attendant})


def release(client: Client, args: argparse.Namespace) -> int:
    return _action(client, args.phone, "release", {})


def transfer(client: Client, args: argparse.Namespace) -> int:
    return _action(client, args.phone, "transfer", {}, {"to": args.attendant})


def _when(at: Any) -> str:
    """An ISO time as the operator's clock reads it; anything else as it came. The server's
    times are UTC, written without an offset."""
    try:
        moment = datetime.fromisoformat(at)
    except (TypeError, ValueError):
        return _one_line(str(at))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone().strftime(texts.CLI_TIME_FORMAT)


def _who(message: dict[str, Any]) -> str:
    sender = str(message["sender"])
    who = texts.CLI_SENDERS.get(sender, sender)
    if message.get("attendant"):
        who = texts.CLI_SENDER_WITH_ATTENDANT.format(who=who, attendant=message["attendant"])
    return _one_line(who)


def messages(client: Client, args: argparse.Namespace) -> int:
    """The conversation, one line a message: when, who, what."""
    answer = client.call("GET", _phone_path(args.phone, "messages"))
    lines = answer["messages"]
    if not lines:
        print(texts.CLI_NO_MESSAGES.format(phone=answer.get("phone") or args.phone))
    for m in lines:
        print(texts.CLI_MESSAGE.format(at=_when(m["at"]), who=_who(m), text=_one_line(m["text"])))
    return EXIT_OK


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


def _template_pattern(template: str) -> re.Pattern[str]:
    """argparse's `%`-template as a pattern capturing its arguments (`%s` → group `_0`)."""
    parts = re.split(r"%\((\w+)\)[sr]|%[sr]", template)
    out, anonymous = [re.escape(parts[0])], 0
    for i in range(1, len(parts), 2):
        name = parts[i]
        if name is None:
            name, anonymous = f"_{anonymous}", anonymous + 1
        out.append(f"(?P<{name}>.+?)" + re.escape(parts[i + 1]))
    return re.compile("".join(out), re.DOTALL)


def _literal_length(template: str) -> int:
    return len(re.sub(r"%\(\w+\)[sr]|%[sr]", "", template))


# The most specific first: "expected one argument" before "expected %s argument".
_ARGPARSE = [(_template_pattern(en), texts.CLI_ARGPARSE[en])
             for en in sorted(texts.CLI_ARGPARSE, key=_literal_length, reverse=True)]


def translated(message: str) -> str:
    """One of argparse's error messages in pt-BR (nested ones too: `argument X: <message>`)."""
    for pattern, template in _ARGPARSE:
        match = pattern.fullmatch(message)
        if match is None:
            continue
        named = {k: translated(v) if k == "message" else v
                 for k, v in match.groupdict().items() if not k.startswith("_")}
        positional = [v for k, v in match.groupdict().items() if k.startswith("_")]
        return template.format(*positional, **named)
    return message


class HelpFormatter(argparse.HelpFormatter):
    """argparse's layout with our `uso: `."""

    def add_usage(self, usage: str | None, actions: Iterable[argparse.Action],
                  groups: Iterable[argparse._MutuallyExclusiveGroup],
                  prefix: str | None = None) -> None:
        super().add_usage(usage, actions, groups, texts.CLI_USAGE if prefix is None else prefix)


class Parser(argparse.ArgumentParser):
    """An ArgumentParser that says everything in pt-BR; subcommands get one too (argparse gives
    subparsers the class of their parent). Bad usage exits 2 with the usage and one line why."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(**kwargs)
        self._positionals.title = texts.CLI_POSITIONALS
        self._optionals.title = texts.CLI_OPTIONALS
        for action in self._actions:
            if isinstance(action, argparse._HelpAction):
                action.help = texts.CLI_HELP_HELP

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, texts.CLI_USAGE_ERROR.format(
            prog=self.prog, message=_one_line(translated(message))))


Positional = tuple[str, str, str]  # dest, metavar, help


def _command(commands: argparse._SubParsersAction[Parser], name: str,
             help: str, run: Command, *positionals: Positional) -> argparse.ArgumentParser:
    """A subcommand taking `--url` (before or after its name) and its `positionals`."""
    sub = commands.add_parser(name, help=help, description=help)
    _url(sub)
    for dest, metavar, what in positionals:
        sub.add_argument(dest, metavar=metavar, help=what)
    sub.set_defaults(run=run)
    return sub


def _url(p: argparse.ArgumentParser) -> None:
    # SUPPRESS keeps a later absence (after the command) from overwriting an earlier value.
    p.add_argument("--url", default=argparse.SUPPRESS, help=texts.CLI_HELP_URL)


def parser() -> argparse.ArgumentParser:
    top = Parser(prog="handoff", description=texts.CLI_HELP)
    _url(top)
    commands = top.add_subparsers(dest="command", required=True,
                                  metavar=texts.CLI_METAVAR_COMMAND)
    phone: Positional = ("phone", texts.CLI_METAVAR_PHONE, texts.CLI_HELP_PHONE)

    ls = _command(commands, "list-sessions", texts.CLI_HELP_LIST, list_sessions)
    ls.add_argument("--mode", choices=[m.value for m in Mode], help=texts.CLI_HELP_MODE)
    _command(commands, "takeover", texts.CLI_HELP_TAKEOVER, takeover,
             phone, ("attendant", texts.CLI_METAVAR_ATTENDANT, texts.CLI_HELP_ATTENDANT))
    _command(commands, "release", texts.CLI_HELP_RELEASE, release, phone)
    _command(commands, "transfer", texts.CLI_HELP_TRANSFER, transfer,
             phone, ("attendant", texts.CLI_METAVAR_ATTENDANT, texts.CLI_HELP_TO))
    _command(commands, "status", texts.CLI_HELP_STATUS, status, phone)
    _command(commands, "messages", texts.CLI_HELP_MESSAGES, messages, phone)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)  # bad usage exits 2: the usage, then one line why
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
