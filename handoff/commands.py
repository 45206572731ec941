"""The command registry: adding a command is one decorated function.

    @COMMANDS.command("/meucomando", "faz algo útil")
    async def meucomando(ctx: CommandContext) -> CommandResult:
        return CommandResult(True, "Comando executado!")

Commands run only for attendants (WhatsApp messages from `human`, Slack slash commands). A
command's own words go in `CommandResult.message`; the built-in commands answer with an
`answer` instead (what they did), which each adapter words in pt-BR where it shows it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from handoff.model import Mode
from handoff.phones import InvalidPhone, canonical_phone

if TYPE_CHECKING:
    from handoff.manager import ActionResult, SessionManager
    from handoff.model import Session
    from handoff.routing import Queue


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


@dataclass(frozen=True)
class Usage:
    """The command needs other arguments: its usage line."""

    usage: str


@dataclass(frozen=True)
class UnknownCommand:
    name: str


@dataclass(frozen=True)
class NotFound:
    phone: str


@dataclass(frozen=True)
class Acted:
    """A takeover, release or pause, and how it went."""

    result: ActionResult


@dataclass(frozen=True)
class Status:
    """The sessions asked about (one, or every active one) as of `now`."""

    sessions: list[Session]
    now: float
    single: bool
    queue: Queue | None = None


@dataclass(frozen=True)
class Help:
    commands: list[Command]


Answer = Usage | UnknownCommand | NotFound | Acted | Status | Help


@dataclass
class CommandResult:
    """What a command did: its own words (`message`), or a built-in command's `answer`."""

    success: bool
    message: str = ""
    session: Session | None = None
    answer: Answer | None = None


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



def parse(text: str) -> tuple[str, list[str]]:
    """`"/assumir  5531…"` -> `("/assumir", ["5531…"])`."""
    parts = text.strip().split()
    return (parts[0].casefold(), parts[1:]) if parts else ("", [])


COMMANDS = CommandRegistry()


def _usage(ctx: CommandContext) -> CommandResult:
    cmd = ctx.manager.commands.get(ctx.name)
    return CommandResult(False, answer=Usage(cmd.usage if cmd else ctx.name))


def _acted(r: ActionResult) -> CommandResult:
    return CommandResult(r.success, session=r.session, answer=Acted(r))


# Built-in commands: their help lines are worded by the adapters (`help` here is a fallback).
@COMMANDS.command("/assumir", "assume a conversa", "/assumir <telefone>")
async def assumir(ctx: CommandContext) -> CommandResult:
    phone = ctx.target()
    if phone is None:
        return _usage(ctx)
    return _acted(await ctx.manager.takeover(phone, ctx.attendant, force=ctx.force,
                                             source=ctx.source))


@COMMANDS.command("/liberar", "devolve a conversa ao bot", "/liberar <telefone>")
async def liberar(ctx: CommandContext) -> CommandResult:
    phone = ctx.target()
    if phone is None:
        return _usage(ctx)
    return _acted(await ctx.manager.release(phone, ctx.attendant, force=ctx.force,
                                            source=ctx.source))


@COMMANDS.command("/pausar", "pausa o bot", "/pausar <telefone>")
async def pausar(ctx: CommandContext) -> CommandResult:
    phone = ctx.target()
    if phone is None:
        return _usage(ctx)
    return _acted(await ctx.manager.pause(phone, ctx.attendant, force=ctx.force,
                                          source=ctx.source))


@COMMANDS.command("/transferir", "transfere a conversa", "/transferir <telefone> <atendente>")
async def transferir(ctx: CommandContext) -> CommandResult:
    phone = ctx.target() if len(ctx.args) == 2 else None
    if phone is None:
        return _usage(ctx)
    return _acted(await ctx.manager.transfer(phone, ctx.args[1], ctx.attendant,
                                             force=ctx.force, source=ctx.source))


@COMMANDS.command("/status", "mostra as conversas", "/status [telefone]")
async def status(ctx: CommandContext) -> CommandResult:
    if ctx.args and ctx.target() is None:
        return _usage(ctx)
    phone = ctx.target()
    now = ctx.manager.clock()
    if phone is not None:
        session = await ctx.manager.get(phone)
        if session is None:
            return CommandResult(False, answer=NotFound(phone))
        queue = await ctx.manager.queue() if session.mode is Mode.PAUSED else None
        return CommandResult(True, session=session,
                             answer=Status([session], now, True, queue))
    sessions = await ctx.manager.list_active()
    order = {"paused": 0, "human": 1, "agent": 2}
    sessions.sort(key=lambda s: (order[s.mode.value], s.paused_at or s.taken_at or 0))
    return CommandResult(True, answer=Status(sessions, now, False,
                                             await ctx.manager.queue()))


@COMMANDS.command("/ajuda", "lista os comandos")
async def ajuda(ctx: CommandContext) -> CommandResult:
    return CommandResult(True, answer=Help(list(ctx.manager.commands.commands.values())))
