"""The command registry: adding a command is one decorated function.

    @COMMANDS.command("/meucomando", "faz algo útil")
    async def meucomando(ctx: CommandContext) -> CommandResult:
        return CommandResult(True, "Comando executado!")

Commands run only for attendants (WhatsApp messages from `human`, Slack slash commands).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from handoff import texts
from handoff.phones import InvalidPhone, canonical_phone

if TYPE_CHECKING:
    from handoff.manager import SessionManager
    from handoff.model import Session


@dataclass(frozen=True)
class CommandContext:
    """What a command knows: who runs it, from where, about which conversation."""

    manager: SessionManager
    name: str
    args: list[str]
    attendant: str
    source: str
    phone: str | None = None
    force: bool = False

    def target(self) -> str | None:
        """The phone named in the arguments, else the conversation it was written in."""
        if self.args:
            try:
                return canonical_phone(self.args[0])
            except InvalidPhone:
                return None
        return self.phone


@dataclass
class CommandResult:
    success: bool
    message: str
    session: Session | None = None


Handler = Callable[[CommandContext], Awaitable[CommandResult]]


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    usage: str
    handler: Handler


@dataclass
class CommandRegistry:
    """Maps `/name` to its handler; `COMMANDS` is the one the service uses."""

    commands: dict[str, Command] = field(default_factory=dict)

    def command(self, name: str, help: str, usage: str | None = None
                ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            key = name.casefold()
            self.commands[key] = Command(key, help, usage or key, handler)
            return handler
        return register

    def unregister(self, name: str) -> None:
        self.commands.pop(name.casefold(), None)

    def get(self, name: str) -> Command | None:
        return self.commands.get(name.casefold())

    def help_text(self) -> str:
        lines = [texts.HELP_HEADER]
        lines += [f"• {c.usage} — {c.help}" for c in self.commands.values()]
        return "\n".join(lines)


def parse(text: str) -> tuple[str, list[str]]:
    """`"/assumir  5531…"` -> `("/assumir", ["5531…"])`."""
    parts = text.strip().split()
    return (parts[0].casefold(), parts[1:]) if parts else ("", [])


COMMANDS = CommandRegistry()


def _usage(ctx: CommandContext) -> CommandResult:
    cmd = ctx.manager.commands.get(ctx.name)
    return CommandResult(False, texts.USAGE.format(usage=cmd.usage if cmd else ctx.name))


@COMMANDS.command("/assumir", texts.HELP["/assumir"], "/assumir <telefone>")
async def assumir(ctx: CommandContext) -> CommandResult:
    phone = ctx.target()
    if phone is None:
        return _usage(ctx)
    r = await ctx.manager.takeover(phone, ctx.attendant, force=ctx.force, source=ctx.source)
    return CommandResult(r.success, r.message, r.session)


@COMMANDS.command("/liberar", texts.HELP["/liberar"], "/liberar <telefone>")
async def liberar(ctx: CommandContext) -> CommandResult:
    phone = ctx.target()
    if phone is None:
        return _usage(ctx)
    r = await ctx.manager.release(phone, ctx.attendant, force=ctx.force, source=ctx.source)
    return CommandResult(r.success, r.message, r.session)


@COMMANDS.command("/pausar", texts.HELP["/pausar"], "/pausar <telefone>")
async def pausar(ctx: CommandContext) -> CommandResult:
    phone = ctx.target()
    if phone is None:
        return _usage(ctx)
    r = await ctx.manager.pause(phone, ctx.attendant, force=ctx.force, source=ctx.source)
    return CommandResult(r.success, r.message, r.session)


@COMMANDS.command("/status", texts.HELP["/status"], "/status [telefone]")
async def status(ctx: CommandContext) -> CommandResult:
    if ctx.args and ctx.target() is None:
        return _usage(ctx)
    phone = ctx.target()
    now = ctx.manager.clock()
    if phone is not None:
        session = await ctx.manager.get(phone)
        if session is None:
            return CommandResult(False, texts.NOT_FOUND.format(phone=phone))
        return CommandResult(True, describe(session, now), session)
    sessions = await ctx.manager.list_active()
    if not sessions:
        return CommandResult(True, texts.STATUS_NONE)
    order = {"paused": 0, "human": 1, "agent": 2}
    sessions.sort(key=lambda s: (order[s.mode.value], s.paused_at or s.taken_at or 0))
    lines = [texts.STATUS_TOTAL.format(count=len(sessions))]
    lines += [describe(s, now) for s in sessions]
    return CommandResult(True, "\n".join(lines))


@COMMANDS.command("/ajuda", texts.HELP["/ajuda"])
async def ajuda(ctx: CommandContext) -> CommandResult:
    return CommandResult(True, ctx.manager.commands.help_text())


def describe(session: Session, now: float) -> str:
    """A session in a few lines: mode, holder, and how long a waiting customer has waited."""
    mode = session.mode.value
    lines = [texts.STATUS_LINE.format(emoji=texts.MODE_EMOJI[mode], phone=session.phone,
                                      mode=texts.MODE_NAME[mode])]
    if session.human_attendant:
        lines.append(texts.STATUS_HOLDER.format(holder=session.human_attendant))
    if mode == "paused" and session.paused_at:
        lines.append(texts.STATUS_WAITING.format(wait=texts.duration(now - session.paused_at)))
    return "\n".join(lines)
