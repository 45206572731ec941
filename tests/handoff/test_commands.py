"""The tutorial: adding a command is one registered function."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot import replies
from handoff.backends import Backend
from handoff.commands import COMMANDS, CommandContext, CommandResult, Status, Usage
from handoff.machine import Reason, Sender
from handoff.manager import SessionManager
from handoff.routing import Queue


@pytest.fixture
def meucomando() -> Iterator[None]:
    @COMMANDS.command("/meucomando", "Descrição do comando")
    async def run(ctx: CommandContext) -> CommandResult:
        session = await ctx.manager.update_metadata(ctx.target() or "", {"priority": "high"})
        return CommandResult(True, f"Comando executado por {ctx.attendant}!", session)

    yield
    COMMANDS.unregister("/meucomando")


@pytest.mark.usefixtures("meucomando")
async def test_registered_command_runs_from_an_attendant_message(backend: Backend) -> None:
    manager = SessionManager(backend.store, backend.claims)
    await manager.handle_message("5531999999999", "oi")
    r = await manager.handle_message("5531999999999", "/MeuComando", Sender.HUMAN,
                                     attendant="ana@empresa.com")
    assert r.reason is Reason.COMMAND
    assert r.response == "Comando executado por ana@empresa.com!"
    session = await manager.get("5531999999999")
    assert session is not None and session.metadata == {"priority": "high"}
    help_text = replies.word(await manager.run_command("/ajuda", attendant="a", source="slack"))
    assert "/meucomando — Descrição do comando" in help_text
    assert "/assumir <telefone> — assume a conversa (o bot para de responder)" in help_text


@pytest.mark.usefixtures("meucomando")
async def test_customers_cannot_run_commands(backend: Backend) -> None:
    manager = SessionManager(backend.store, backend.claims)
    r = await manager.handle_message("5531999999999", "/meucomando")
    assert r.reason is Reason.AGENT_ACTIVE
    session = await manager.get("5531999999999")
    assert session is not None and session.metadata == {}


async def test_usage_lines_for_bad_or_missing_phones(backend: Backend) -> None:
    manager = SessionManager(backend.store, backend.claims)
    for text in ("/assumir", "/liberar", "/pausar", "/assumir 12", "/status abc"):
        r = await manager.run_command(text, attendant="ana", source="slack")
        assert not r.success and isinstance(r.answer, Usage), text
        assert replies.word(r).startswith("Uso: /"), text
    r = await manager.run_command("/status", attendant="ana", source="slack")
    assert r.success and r.answer == Status([], r.answer.now, False,  # type: ignore[union-attr]
                                            Queue([], {}, []))
    assert replies.word(r) == "Nenhuma conversa ativa."
