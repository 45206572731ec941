"""The REST API that dashboards, the CLI and scripts call."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot import replies
from bot.web import texts
from bot.web.errors import BadRequest, field, json_error, read_json
from bot.web.keys import MANAGER
from handoff.machine import Outcome
from handoff.manager import ActionResult
from handoff.model import Mode, Session, Source
from handoff.phones import canonical_phone

routes = web.RouteTableDef()

_STATUS = {Outcome.CHANGED: 200, Outcome.UNCHANGED: 200, Outcome.CONFLICT: 409,
           Outcome.NOT_HELD: 409, Outcome.SAME: 409,
           Outcome.FORBIDDEN: 403, Outcome.NOT_FOUND: 404}
_MODE_ORDER = {Mode.PAUSED: 0, Mode.HUMAN: 1, Mode.AGENT: 2}


def _sort_key(s: Session) -> tuple[int, float]:
    """Waiting customers first, longest wait on top; then held; then the bot's, newest first."""
    if s.mode is Mode.PAUSED:
        return (0, s.paused_at or 0)
    if s.mode is Mode.HUMAN:
        return (1, s.taken_at or 0)
    return (2, -(s.last_customer_message or 0))


@routes.get("/sessions/active")
async def active(request: web.Request) -> web.Response:
    raw = request.query.get("mode")
    mode = None
    if raw:
        try:
            mode = Mode(raw)
        except ValueError as exc:
            raise BadRequest(texts.ERR_MODE) from exc
    sessions = await request.app[MANAGER].list_active(mode)
    sessions.sort(key=_sort_key)
    return web.json_response({"sessions": [s.to_json() for s in sessions]})


@routes.get("/session/{phone}/status")
async def status(request: web.Request) -> web.Response:
    phone = request.match_info["phone"]
    session = await request.app[MANAGER].get(phone)
    if session is None:
        return json_error(404, replies.NOT_FOUND.format(phone=phone))
    return web.json_response(session.to_json())


@routes.get("/session/{phone}/history")
async def history(request: web.Request) -> web.Response:
    manager = request.app[MANAGER]
    phone = request.match_info["phone"]
    events = await manager.history(phone)
    if events is None:
        return json_error(404, replies.NOT_FOUND.format(phone=phone))
    session = await manager.get(phone)
    return web.json_response({"phone": session.phone if session else phone,
                              "events": [e.to_json() for e in events]})


async def _action_params(request: web.Request) -> tuple[str | None, bool, str]:
    """`attendant_id` and `force` from the query or a JSON body; `?source=cli` from the CLI."""
    body = await read_json(request, optional=True)
    # The body's field is checked even when the query's wins: a wrong type is a 400 either way.
    in_body = field(body, "attendant_id", str, "texto")
    attendant = request.query.get("attendant_id") or in_body
    force = field(body, "force", bool, "booleano") or False
    if request.query.get("force", "").lower() in ("true", "1", "yes"):
        force = True
    source = request.query.get("source") or Source.REST
    if source not in (Source.REST, Source.CLI):
        raise BadRequest(texts.ERR_TYPE.format(field="source", kind="rest ou cli"))
    return (attendant.strip() or None) if attendant else None, force, source


def _action_answer(result: ActionResult) -> web.Response:
    message = replies.acted(result)
    body: dict[str, Any] = {"success": result.success, "message": message,
                            "session": result.session.to_json() if result.session else None}
    if not result.success:
        body["error"] = message
    return web.json_response(body, status=_STATUS[result.outcome])


@routes.post("/session/{phone}/takeover")
async def takeover(request: web.Request) -> web.Response:
    attendant, force, source = await _action_params(request)
    if attendant is None:
        raise BadRequest(texts.ERR_MISSING.format(field="attendant_id"))
    return _action_answer(await request.app[MANAGER].takeover(
        request.match_info["phone"], attendant, force=force, source=source))


@routes.post("/session/{phone}/release")
async def release(request: web.Request) -> web.Response:
    attendant, force, source = await _action_params(request)
    return _action_answer(await request.app[MANAGER].release(
        request.match_info["phone"], attendant, force=force, source=source))


@routes.post("/session/{phone}/transfer")
async def transfer(request: web.Request) -> web.Response:
    """`{"to", "from"?}`: to whom; `from`, when given, must hold it at that moment. The API is
    trusted (its bearer), so it may move anyone's conversation."""
    body = await read_json(request, optional=False)
    to = field(body, "to", str, "texto")
    expected = (field(body, "from", str, "texto") or "").strip() or None
    if not to or not to.strip():
        raise BadRequest(texts.ERR_MISSING.format(field="to"))
    source = request.query.get("source") or Source.REST
    if source not in (Source.REST, Source.CLI):
        raise BadRequest(texts.ERR_TYPE.format(field="source", kind="rest ou cli"))
    return _action_answer(await request.app[MANAGER].transfer(
        request.match_info["phone"], to.strip(), expected or source, expected=expected,
        force=True, source=source))


#: The most lines one page of `/session/{phone}/messages` gives.
MAX_PAGE = 200


def _count(request: web.Request, name: str, default: int | None) -> int | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    # ASCII only: `str.isdigit` also accepts "²", which `int` refuses.
    if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
        raise BadRequest(texts.ERR_TYPE.format(field=name, kind="um número inteiro positivo"))
    return int(raw)


@routes.get("/session/{phone}/messages")
async def messages(request: web.Request) -> web.Response:
    """The transcript, newest last: `limit` lines (default 50, at most 200) numbered below
    `before`; `next_before` asks for the page before this one (null on the first page)."""
    phone = request.match_info["phone"]
    limit = min(_count(request, "limit", 50) or 50, MAX_PAGE)
    before = _count(request, "before", None)
    lines = await request.app[MANAGER].transcript(phone, limit, before)
    if lines is None:
        return json_error(404, replies.NOT_FOUND.format(phone=phone))
    older = lines[0].n if lines and lines[0].n > 1 else None
    return web.json_response({"phone": canonical_phone(phone),
                              "messages": [line.to_json() for line in lines],
                              "next_before": older})
