"""`bot.logs`: JSON lines for machines, a readable line an event at a terminal, the same fields
either way; the record's own time kept; secrets never written."""

from __future__ import annotations

import io
import json
import logging
import re
import shlex
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from pydantic import SecretStr

from bot import logs

PHONE = "5531999999999"
TIME = r"\d\d:\d\d:\d\d"


class Stream(io.StringIO):
    """stderr as `configure` sees it: a terminal or not."""

    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


@pytest.fixture
def configured(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Stream]]:
    """`configure` onto a fake stderr; the root logger is put back as it was afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    monkeypatch.delenv(logs.FORMAT_VARIABLE, raising=False)

    def configure(*, tty: bool, env: str | None = None) -> Stream:
        if env is not None:
            monkeypatch.setenv(logs.FORMAT_VARIABLE, env)
        stream = Stream(tty)
        logs.configure("INFO", stream)
        return stream

    yield configure
    root.handlers[:] = handlers
    root.setLevel(level)


log = logging.getLogger("handoff.test")
TAKEOVER = {"phone": PHONE, "event": "takeover", "actor": "ana@empresa.com"}


def parse_console(line: str) -> tuple[str, str, str, dict[str, str]]:
    """time, level, msg and the key=value fields of one console line."""
    match = re.fullmatch(rf"({TIME}) (\w+) +(\S+)  (.*)", line)
    assert match, line
    pairs = dict(word.split("=", 1) for word in shlex.split(match[4]))
    return match[1], match[2], match[3], pairs


def test_json_lines_when_stderr_is_not_a_terminal(configured: Callable[..., Stream]) -> None:
    stream = configured(tty=False)
    log.info("mode_change", extra={**TAKEOVER, "attempts": 2, "force": False, "to": None})
    [line] = stream.getvalue().splitlines()
    out = json.loads(line)
    assert out == {"ts": out["ts"], "level": "info", "logger": "handoff.test",
                   "msg": "mode_change", **TAKEOVER, "attempts": 2, "force": False, "to": None}
    ts = datetime.fromisoformat(out["ts"])
    assert ts.utcoffset() == timedelta(0)
    assert abs(datetime.now(UTC) - ts) < timedelta(minutes=1)


def test_console_line_when_stderr_is_a_terminal(configured: Callable[..., Stream]) -> None:
    stream = configured(tty=True)
    log.info("mode_change", extra={**TAKEOVER, "reason": "sem resposta há 5 min",
                                   "attempts": 2, "force": False, "to": None, "empty": "",
                                   "text": "linha 1\nlinha 2", "path": "/a=b"})
    text = stream.getvalue()
    assert text.count("\n") == 1 and text.endswith("\n")
    line = text.rstrip("\n")
    assert re.fullmatch(
        rf"{TIME} INFO  mode_change  phone={PHONE} event=takeover actor=ana@empresa.com "
        r'reason="sem resposta há 5 min" attempts=2 force=false to=null empty="" '
        r'text="linha 1\\nlinha 2" path="/a=b" logger=handoff\.test', line), line
    clock, level, msg, pairs = parse_console(line)
    now = datetime.now()
    then = datetime.combine(now.date(), datetime.strptime(clock, "%H:%M:%S").time())
    assert abs(now - then) < timedelta(minutes=1) or abs(now - then) > timedelta(hours=23)
    assert (level, msg) == ("INFO", "mode_change")
    assert pairs["reason"] == "sem resposta há 5 min"

    log.warning("outbox_retry", extra={"wait": 1.5})
    last = stream.getvalue().splitlines()[-1]
    assert re.fullmatch(rf"{TIME} WARNING outbox_retry  wait=1\.5 logger=handoff\.test", last)


def test_same_fields_both_ways() -> None:
    record = log.makeRecord(log.name, logging.ERROR, __file__, 1, "gave_up", (), None,
                            extra={**TAKEOVER, "attempts": 3, "detail": "Slack fora do ar"})
    out = json.loads(logs.JsonFormatter().format(record))
    _, level, msg, pairs = parse_console(logs.ConsoleFormatter().format(record))
    assert (level.lower(), msg) == (out.pop("level"), out.pop("msg"))
    del out["ts"]  # the console line starts with it, as a clock time
    assert pairs == {key: str(value) for key, value in out.items()}


def test_exception_json_field_and_console_traceback_below(
        configured: Callable[..., Stream]) -> None:
    for tty in (False, True):
        stream = configured(tty=tty)
        try:
            raise RuntimeError("quebrou")
        except RuntimeError:
            log.exception("unhandled_error", extra={"path": "/x"})
        lines = stream.getvalue().splitlines()
        if tty:
            parse_console(lines[0])
            assert all(line.startswith("    ") for line in lines[1:])
            assert "RuntimeError: quebrou" in lines[-1]
        else:
            [line] = lines
            assert "RuntimeError: quebrou" in json.loads(line)["exc"]


def test_environment_forces_either_format(configured: Callable[..., Stream]) -> None:
    stream = configured(tty=True, env="json")
    log.info("mode_change", extra=TAKEOVER)
    assert json.loads(stream.getvalue())["msg"] == "mode_change"

    stream = configured(tty=False, env="console")
    log.info("mode_change", extra=TAKEOVER)
    assert parse_console(stream.getvalue().rstrip("\n"))[2] == "mode_change"

    stream = configured(tty=False, env=" JSON ")
    log.info("mode_change", extra=TAKEOVER)
    assert json.loads(stream.getvalue())["phone"] == PHONE


def test_invalid_environment_value_warns_and_chooses_by_terminal(
        configured: Callable[..., Stream]) -> None:
    stream = configured(tty=False, env="yaml")
    log.info("mode_change", extra=TAKEOVER)
    warning, event = (json.loads(line) for line in stream.getvalue().splitlines())
    assert (warning["level"], warning["msg"]) == ("warning", "log_format_invalid")
    assert (warning["value"], warning["using"]) == ("yaml", "json")
    assert warning["variable"] == logs.FORMAT_VARIABLE
    assert event["msg"] == "mode_change"

    stream = configured(tty=True, env="yaml")
    [line] = stream.getvalue().splitlines()
    _, level, msg, pairs = parse_console(line)
    assert (level, msg, pairs["value"], pairs["using"]) == (
        "WARNING", "log_format_invalid", "yaml", "console")


def test_record_time_not_clobbered_by_the_events_fields(
        configured: Callable[..., Stream]) -> None:
    carried = {"ts": "1717158662.123456", "time": "ontem", "at": "2020-01-01T00:00:00",
               "level": "debug", "logger": "outro", "exc": "nada"}
    stream = configured(tty=False)
    log.info("slack_card_posted", extra={"phone": PHONE, **carried})
    out = json.loads(stream.getvalue())
    ts = datetime.fromisoformat(out["ts"])
    assert abs(datetime.now(UTC) - ts) < timedelta(minutes=1)
    assert (out["level"], out["logger"], out["msg"]) == ("info", "handoff.test",
                                                         "slack_card_posted")
    assert "exc" not in out
    assert (out["extra_ts"], out["time"], out["at"]) == (carried["ts"], "ontem", carried["at"])
    assert (out["extra_level"], out["extra_logger"], out["extra_exc"]) == ("debug", "outro", "nada")

    stream = configured(tty=True)
    log.info("slack_card_posted", extra={"phone": PHONE, **carried})
    line = stream.getvalue().rstrip("\n")
    clock, level, msg, pairs = parse_console(line)
    assert clock != "ontem" and (level, msg) == ("INFO", "slack_card_posted")
    assert pairs == {"phone": PHONE, "extra_ts": carried["ts"], "time": "ontem",
                     "at": carried["at"], "extra_level": "debug", "extra_logger": "outro",
                     "extra_exc": "nada", "logger": "handoff.test"}


@pytest.mark.parametrize("tty", [False, True], ids=["json", "console"])
def test_secrets_never_written(configured: Callable[..., Stream], tty: bool) -> None:
    """Secrets travel as `SecretStr` (settings hold them so): written, they are asterisks, on
    their own or inside a dict or list; request lines carry the path, never the query."""
    stream = configured(tty=tty)
    token = SecretStr("tok-secret-1")
    log.warning("slack_auth_failed", extra={
        "token": token, "headers": {"Authorization": SecretStr("Bearer abc-secret-2")},
        "tokens": [SecretStr("xoxb-secret-3")]})
    request = make_mocked_request(
        "GET", "/webhook/whatsapp?hub.mode=subscribe&hub.verify_token=verify-secret-4")
    logs.AccessLogger(logging.getLogger("aiohttp.access"), "").log(
        request, web.Response(status=403), 0.01)
    text = stream.getvalue()
    for secret in ("tok-secret-1", "abc-secret-2", "xoxb-secret-3", "verify-secret-4",
                   "verify_token"):
        assert secret not in text
    first, second = text.splitlines()
    assert "**********" in first
    if tty:
        assert parse_console(first)[3]["token"] == "**********"
        assert parse_console(second)[3]["path"] == "/webhook/whatsapp"
    else:
        assert json.loads(first)["token"] == "**********"
        assert json.loads(second)["path"] == "/webhook/whatsapp"
