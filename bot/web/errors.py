"""JSON errors for every failure: 4xx for bad input, 503 for an unreachable store, never a 5xx
otherwise."""

from __future__ import annotations

import json
import logging
from typing import Any

from aiohttp import web

from bot.web import texts
from handoff.phones import InvalidPhone
from handoff.store import StoreUnavailable

log = logging.getLogger("handoff.web")


class BadRequest(Exception):
    """Input the contract rejects with 400; the message says which field and why."""


def json_error(status: int, message: str, **extra: Any) -> web.Response:
    return web.json_response({"error": message, **extra}, status=status)


@web.middleware
async def error_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        response: web.StreamResponse = await handler(request)
        return response
    except BadRequest as exc:
        return json_error(400, str(exc))
    except InvalidPhone:
        return json_error(400, texts.ERR_PHONE)
    except StoreUnavailable as exc:
        log.error("store_unavailable", extra={"path": request.path, "error": str(exc)})
        return json_error(503, texts.ERR_STORE)
    except web.HTTPRequestEntityTooLarge:
        return json_error(413, texts.ERR_TOO_LARGE)
    except web.HTTPNotFound:
        return json_error(404, texts.ERR_NOT_FOUND_ROUTE)
    except web.HTTPMethodNotAllowed as exc:
        allowed = sorted(exc.allowed_methods)
        response = json_error(405, texts.ERR_METHOD, allowed=allowed)
        response.headers["Allow"] = ", ".join(allowed)  # RFC 9110: a 405 lists what is allowed
        return response
    except web.HTTPException as exc:
        if exc.status >= 400 and exc.content_type != "application/json":
            return json_error(exc.status, exc.reason)
        raise
    except Exception:
        log.exception("unhandled_error", extra={"path": request.path})
        return json_error(500, "erro interno")


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")


#: Built once: `json.loads(..., parse_constant=...)` would build a decoder for every body.
_STRICT = json.JSONDecoder(parse_constant=_not_json)


def parse_json(raw: bytes) -> Any:
    """Strict JSON: no `NaN`/`Infinity` (Python's extension, which no client could read back),
    no lone surrogate escapes (text that cannot be stored as UTF-8), no nesting deeper than
    the parser's stack; each is `BadRequest`, never a 500."""
    try:
        # What json.loads does with bytes: UTF-8, -16 or -32 by their first bytes.
        data = _STRICT.decode(raw.decode(json.detect_encoding(raw), "surrogatepass"))
        json.dumps(data, ensure_ascii=False).encode()
    except (ValueError, UnicodeError, RecursionError) as exc:
        raise BadRequest(texts.ERR_BAD_JSON) from exc
    return data


async def read_json(request: web.Request, *, optional: bool = False) -> dict[str, Any]:
    """The body as a JSON object; an empty body is `{}` when `optional`."""
    raw = await request.read()
    if not raw.strip():
        if optional:
            return {}
        raise BadRequest(texts.ERR_BAD_JSON)
    data = parse_json(raw)
    if not isinstance(data, dict):
        raise BadRequest(texts.ERR_NOT_OBJECT)
    return data


def field(data: dict[str, Any], name: str, kind: type | tuple[type, ...], kind_name: str,
          *, required: bool = False) -> Any:
    """One typed field of a JSON body, 400 when missing (if required) or of the wrong type."""
    value = data.get(name)
    if value is None:
        if required:
            raise BadRequest(texts.ERR_MISSING.format(field=name))
        return None
    if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
        raise BadRequest(texts.ERR_TYPE.format(field=name, kind=kind_name))
    if not isinstance(value, kind):
        raise BadRequest(texts.ERR_TYPE.format(field=name, kind=kind_name))
    return value
