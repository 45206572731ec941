"""Structured logs saying what happened to which session: one JSON object a line for machines,
one readable line an event for a person at a terminal, with the same fields either way."""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

from aiohttp.abc import AbstractAccessLogger
from aiohttp.web import BaseRequest, StreamResponse

_RESERVED = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}

#: The fields every line has of its own. An `extra=` field of the same name (a Slack message's
#: `ts`, say) is kept under `extra_<name>` rather than replacing the record's own.
OWN_FIELDS = ("ts", "level", "logger", "msg", "exc")

#: `HANDOFF_LOG_FORMAT`: `json` or `console` forces one; unset (or invalid) chooses by whether
#: stderr is a terminal.
FORMAT_VARIABLE = "HANDOFF_LOG_FORMAT"
FORMATS = ("json", "console")


def fields(record: logging.LogRecord) -> dict[str, Any]:
    """What a line says, in order: the record's own fields, then its `extra=` fields."""
    out: dict[str, Any] = {
        "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
        "level": record.levelname.lower(),
        "logger": record.name,
        "msg": record.getMessage(),
    }
    for key, value in vars(record).items():
        if key in _RESERVED or key.startswith("_"):
            continue
        while key in out or key in OWN_FIELDS:
            key = "extra_" + key
        out[key] = value
    return out


class JsonFormatter(logging.Formatter):
    """Renders a record and its `extra=` fields as a JSON line."""

    def format(self, record: logging.LogRecord) -> str:
        out = fields(record)
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


def _text(value: Any) -> str:
    """A value as the JSON line shows it, without quotes around plain strings; anything that is
    not JSON (a `SecretStr`, say) is its `str()`, exactly as `json.dumps(default=str)` has it."""
    if isinstance(value, str):
        return str.__str__(value)  # an str enum's value, as in JSON, not `Mode.HUMAN`
    if value is None or isinstance(value, bool | int | float | dict | list | tuple):
        return json.dumps(value, ensure_ascii=False, default=str, separators=(",", ":"))
    return str(value)


def _quoted(text: str) -> str:
    """Bare when it reads unambiguously; otherwise a JSON string (quotes, escaped newlines)."""
    if text and text.isprintable() and not any(c.isspace() or c in '"=' for c in text):
        return text
    return json.dumps(text, ensure_ascii=False)


class ConsoleFormatter(logging.Formatter):
    """`09:31:02 INFO  mode_change  phone=5531999999999 event=takeover logger=handoff` — local
    time, level, `msg`, then the other fields as key=value. A traceback, when there is one,
    follows on its own indented lines."""

    def format(self, record: logging.LogRecord) -> str:
        out = fields(record)
        del out["ts"], out["level"]  # the line starts with them, in a person's terms
        msg = out.pop("msg")
        out["logger"] = out.pop("logger")  # last: where it came from matters least when reading
        when = datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        pairs = " ".join(f"{key}={_quoted(_text(value))}" for key, value in out.items())
        line = f"{when} {record.levelname:<5} {_one_line(msg)}  {pairs}"
        if record.exc_info:
            trace = self.formatException(record.exc_info)
            line += "\n" + "\n".join("    " + part for part in trace.splitlines())
        return line


def _one_line(text: str) -> str:
    return text if "\n" not in text and "\r" not in text else json.dumps(text, ensure_ascii=False)


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or closed
        return False


def configure(level: str = "INFO", stream: TextIO | None = None) -> None:
    """Every log to `stream` (stderr): JSON lines, or readable lines when it is a terminal;
    `HANDOFF_LOG_FORMAT=json|console` forces either."""
    stream = sys.stderr if stream is None else stream
    wanted = os.environ.get(FORMAT_VARIABLE, "").strip().lower()
    chosen = wanted if wanted in FORMATS else "console" if _is_terminal(stream) else "json"
    handler = logging.StreamHandler(stream)
    handler.setFormatter(ConsoleFormatter() if chosen == "console" else JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    if wanted and wanted not in FORMATS:
        logging.getLogger("handoff").warning("log_format_invalid", extra={
            "variable": FORMAT_VARIABLE, "value": os.environ[FORMAT_VARIABLE],
            "expected": "|".join(FORMATS), "using": chosen})


class AccessLogger(AbstractAccessLogger):
    """A line for each failed or slow request, with the path only (query strings can carry
    tokens such as hub.verify_token). Successful fast requests are not logged: what they did is
    logged by the code that did it, and a line each would cost the webhook a write a request."""

    slow_seconds = 1.0

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        if response.status < 400 and time < self.slow_seconds:
            return
        self.logger.info("request", extra={
            "method": request.method, "path": request.path, "status": response.status,
            "ms": round(time * 1000, 2)})
