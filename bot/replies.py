"""What attendants' commands answer, in pt-BR, wherever they were typed: in Slack (slash
commands) or on WhatsApp (an attendant's `/comando`, answered in the webhook's `response`).
"""

from __future__ import annotations

from handoff.commands import (
    Acted,
    CommandResult,
    NotFound,
    Status,
    UnknownCommand,
    Usage,
)
from handoff.machine import Outcome
from handoff.manager import Action, ActionResult
from handoff.model import Session
from handoff.routing import Queue

MODE_EMOJI = {"agent": "🤖", "human": "👤", "paused": "⏸️"}
MODE_NAME = {"agent": "bot", "human": "atendente", "paused": "aguardando atendente"}
TAKEN = "✅ Conversa {phone} assumida por {attendant}."
ALREADY_YOURS = "Você já está com a conversa {phone}."
HELD_BY = "❌ A conversa {phone} já está com {holder}."
RELEASED = "🤖 Conversa {phone} devolvida ao bot."
ALREADY_AGENT = "A conversa {phone} já está com o bot."
NOT_HOLDER = "❌ Só {holder} (ou um supervisor) pode liberar a conversa {phone}."
PAUSED = "⏸️ Conversa {phone} pausada: o bot parou e o cliente aguarda um atendente."
ALREADY_PAUSED = "A conversa {phone} já está aguardando atendente."
NOT_HOLDER_PAUSE = "❌ Só {holder} (ou um supervisor) pode pausar a conversa {phone}."
NOT_FOUND = "Conversa {phone} não encontrada."
TRANSFERRED = "🔁 Conversa {phone} transferida para {holder}."
NOT_HELD = "❌ A conversa {phone} não está com ninguém: assuma-a em vez de transferir."
SAME_HOLDER = ("❌ Escolha outra pessoa: a conversa {phone} não pode ser transferida para quem "
               "já está com ela ({holder}) nem para quem pede a transferência.")
NOT_HOLDER_TRANSFER = "❌ Só {holder} (ou um supervisor) pode transferir a conversa {phone}."
MOVED_ON = "❌ A conversa {phone} não está mais com quem você indicou: está com {holder}."
UNKNOWN_COMMAND = "Comando desconhecido: {name}. Envie /ajuda para ver os comandos."
HELP_HEADER = "Comandos disponíveis:"
USAGE = "Uso: {usage}"
STATUS_LINE = "{emoji} {phone} — {mode}"
STATUS_HOLDER = "   → Atendente: {holder}"
STATUS_WAITING = "   → Aguardando há {wait}"
STATUS_PLACE = "   → {place}º da fila"
STATUS_OFFERED = "   → Oferecida a {attendant} (resposta em até {left})"
STATUS_LOADS = "👥 Carga: {loads}"
STATUS_LOAD = "{attendant} {held}"
STATUS_LOAD_OFFERED = "{attendant} {held} (+{offered} oferecida)"
STATUS_NONE = "Nenhuma conversa ativa."
STATUS_TOTAL = "📊 {count} conversa(s) ativa(s)"
HELP = {
    "/assumir": "assume a conversa (o bot para de responder)",
    "/liberar": "devolve a conversa ao bot",
    "/status": "mostra a conversa, ou todas as ativas",
    "/pausar": "pausa o bot até um atendente assumir",
    "/transferir": "passa a conversa para outra pessoa",
    "/ajuda": "lista os comandos",
}


def duration(seconds: float) -> str:
    """A short pt-BR duration: "45s", "12min", "2h05"."""
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}min"
    return f"{s // 3600}h{(s % 3600) // 60:02d}"


_ACTED = {
    (Action.TAKEOVER, Outcome.CHANGED): TAKEN,
    (Action.TAKEOVER, Outcome.UNCHANGED): ALREADY_YOURS,
    (Action.TAKEOVER, Outcome.CONFLICT): HELD_BY,
    (Action.RELEASE, Outcome.CHANGED): RELEASED,
    (Action.RELEASE, Outcome.UNCHANGED): ALREADY_AGENT,
    (Action.RELEASE, Outcome.FORBIDDEN): NOT_HOLDER,
    (Action.RELEASE, Outcome.NOT_FOUND): NOT_FOUND,
    (Action.PAUSE, Outcome.CHANGED): PAUSED,
    (Action.PAUSE, Outcome.UNCHANGED): ALREADY_PAUSED,
    (Action.PAUSE, Outcome.FORBIDDEN): NOT_HOLDER_PAUSE,
    (Action.PAUSE, Outcome.NOT_FOUND): NOT_FOUND,
    (Action.TRANSFER, Outcome.CHANGED): TRANSFERRED,
    (Action.TRANSFER, Outcome.NOT_FOUND): NOT_FOUND,
    (Action.TRANSFER, Outcome.NOT_HELD): NOT_HELD,
    (Action.TRANSFER, Outcome.SAME): SAME_HOLDER,
    (Action.TRANSFER, Outcome.FORBIDDEN): NOT_HOLDER_TRANSFER,
    (Action.TRANSFER, Outcome.CONFLICT): MOVED_ON,
}


def acted(r: ActionResult, *, holder: str | None = None) -> str:
    """The line that says how a takeover, release, pause or transfer went; `holder` shows
    the holder as the adapter names people (a Slack mention)."""
    return _ACTED[(r.action, r.outcome)].format(phone=r.phone, attendant=r.actor,
                                                holder=holder or r.holder)


def describe(session: Session, now: float, queue: Queue | None = None) -> str:
    """A session in a few lines: mode, holder, how long a waiting customer has waited, their
    place in the queue and whom it is on offer to."""
    mode = session.mode.value
    lines = [STATUS_LINE.format(emoji=MODE_EMOJI[mode], phone=session.phone,
                                mode=MODE_NAME[mode])]
    if session.human_attendant:
        lines.append(STATUS_HOLDER.format(holder=session.human_attendant))
    if mode == "paused" and session.paused_at:
        lines.append(STATUS_WAITING.format(wait=duration(now - session.paused_at)))
    place = queue.place(session.phone) if queue is not None else None
    if place is not None:
        lines.append(STATUS_PLACE.format(place=place))
    offer = queue.offers.get(session.phone) if queue is not None else None
    if offer is not None:
        lines.append(STATUS_OFFERED.format(attendant=offer.attendant,
                                           left=duration(offer.expires - now)))
    return "\n".join(lines)


def loads(queue: Queue) -> str | None:
    """Each attendant's load: conversations held, and any on offer to them."""
    holding = queue.held
    names = sorted({*holding, *(o.attendant for o in queue.offers.values())})
    if not names:
        return None
    parts = []
    for name in names:
        held = holding.get(name, 0)
        offered = queue.load(name) - held
        parts.append(STATUS_LOAD_OFFERED.format(attendant=name, held=held, offered=offered)
                     if offered else STATUS_LOAD.format(attendant=name, held=held))
    return STATUS_LOADS.format(loads=", ".join(parts))


def word(result: CommandResult) -> str:
    """What an attendant reads after a command: its own words, or its answer worded."""
    answer = result.answer
    if answer is None:
        return result.message
    if isinstance(answer, Usage):
        return USAGE.format(usage=answer.usage)
    if isinstance(answer, UnknownCommand):
        return UNKNOWN_COMMAND.format(name=answer.name)
    if isinstance(answer, NotFound):
        return NOT_FOUND.format(phone=answer.phone)
    if isinstance(answer, Acted):
        return acted(answer.result)
    if isinstance(answer, Status):
        if answer.single:
            return describe(answer.sessions[0], answer.now, answer.queue)
        if not answer.sessions:
            return STATUS_NONE
        lines = [STATUS_TOTAL.format(count=len(answer.sessions))]
        lines += [describe(s, answer.now, answer.queue) for s in answer.sessions]
        load = loads(answer.queue) if answer.queue is not None else None
        return "\n".join(lines + ([load] if load else []))
    lines = [HELP_HEADER]
    lines += [f"• {c.usage} — {HELP.get(c.name, c.help)}" for c in answer.commands]
    return "\n".join(lines)
