"""`GET /dashboard`: the page and its assets over HTTP, then the page itself in headless Chromium.

The browser tests drive Debian's `/usr/bin/chromium` through Playwright against the real app on
127.0.0.1 (never a downloaded browser); they skip only when that binary is absent. The README's
screenshot (`docs/dashboard.png`) is taken by the conversation panel's test.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from bot.settings import Settings
from bot.whatsapp.texts import when_back
from handoff.model import Mode, Source, iso
from tests.bot.test_hours import CLOSED
from tests.conftest import Running

CHROMIUM = "/usr/bin/chromium"
# Root in a container, and no network: no sandbox, nothing that phones home.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "dashboard.png"

WAITING = "5531999999999"
CHATTING = "5511988887777"
OTHER = "5521977776666"
ANA = "ana@empresa.com"
BIA = "bia@empresa.com"
TOKEN = "s3nha-do-painel"
HOSTILE = '<img src=x onerror="document.body.dataset.pwned=1">Zé'
SCRIPT = "<script>alert(1)</script>"

HAVE_CHROMIUM = os.path.exists(CHROMIUM)
needs_chromium = pytest.mark.skipif(
    not HAVE_CHROMIUM,
    reason=f"{CHROMIUM} is absent: install Debian's chromium package (apt-get install -y chromium)")


# --- over plain HTTP ---------------------------------------------------------------------

async def test_page_and_assets_are_open_even_with_a_token(
        serve: Callable[..., Awaitable[Running]], make_settings: Callable[..., Settings]) -> None:
    running = await serve(make_settings(handoff_api_token=TOKEN))
    async with running.request("GET", "/dashboard") as resp:
        assert resp.status == 200
        assert resp.content_type == "text/html"
        html = await resp.text()
        assert "script-src 'self'" in resp.headers["Content-Security-Policy"]
    assert '<html lang="pt-BR">' in html
    assert 'src="/static/dashboard.js"' in html and 'href="/static/dashboard.css"' in html
    for name, kind in (("dashboard.js", "text/javascript"), ("dashboard.css", "text/css")):
        async with running.request("GET", f"/static/{name}") as resp:
            assert (resp.status, resp.content_type) == (200, kind)
    status, _ = await running.json("GET", "/sessions/active")
    assert status == 401


@pytest.mark.parametrize("path", ["/static/dashboard.html.bak", "/static/..%2Fapp.py",
                                  "/static/__init__.py", "/static/"])
async def test_only_the_pages_files_are_served(running: Running, path: str) -> None:
    async with running.request("GET", path) as resp:
        assert resp.status == 404


def test_the_script_never_writes_markup() -> None:
    """Server strings reach the page through textContent only."""
    static = Path(__file__).resolve().parents[2] / "bot" / "static"
    script = (static / "dashboard.js").read_text()
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in script


# --- in a browser ------------------------------------------------------------------------

@asynccontextmanager
async def chromium() -> AsyncIterator[Any]:
    """Headless Chromium through Playwright (the `browser` fixture here and elsewhere)."""
    if not HAVE_CHROMIUM:
        pytest.skip(f"{CHROMIUM} is absent: install Debian's chromium package")
    from playwright.async_api import async_playwright, expect

    # Polling pages follow the server within 3 s; this only bounds a hang on a slow machine.
    expect.set_options(timeout=15_000)
    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        await b.close()


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    async with chromium() as b:
        yield b


async def _customer(running: Running, phone: str, text: str,
                    headers: dict[str, str] | None = None, **extra: Any) -> None:
    status, _ = await running.json("POST", "/webhook/whatsapp", headers=headers,
                                   json={"phone": phone, "message": text, **extra})
    assert status == 200


def _row(page: Any, phone: str) -> Any:
    return page.locator(f'li.card[data-phone="{phone}"]')


def _panel(page: Any) -> Any:
    return page.locator("aside#conversation")


def _messages(page: Any) -> Any:
    return _panel(page).get_by_role("list", name="Mensagens da conversa").get_by_role("listitem")


async def _shown(page: Any) -> list[tuple[str, str, str]]:
    """(sender, label, text) of each line in the panel, top to bottom."""
    return [tuple(row) for row in await _messages(page).evaluate_all(
        """items => items.map(li => [li.dataset.sender, li.querySelector('.msg-who').innerText,
                                      (li.querySelector('.msg-text') || {}).innerText || ''])""")]


# How far the panel's message list is from its end, in pixels.
FROM_END = ("() => { const s = document.getElementById('conv-scroll');"
            " return s.scrollHeight - s.scrollTop - s.clientHeight; }")


@needs_chromium
async def test_attendants_take_over_conflict_and_release(running: Running, browser: Any,
                                                         tmp_path: Path) -> None:
    from playwright.async_api import expect

    await _customer(running, CHATTING, "Vocês entregam em Campinas?")
    await _customer(running, WAITING, "Quero falar com um atendente",
                    metadata={"profile_name": "Maria Souza"})
    await _customer(running, OTHER, "Oi", metadata={"profile_name": "João Pereira"})
    await _customer(running, OTHER, "Preciso de uma pessoa, por favor")

    ana_ctx = await browser.new_context(viewport={"width": 1240, "height": 520}, locale="pt-BR")
    ana = await ana_ctx.new_page()
    await ana.goto(f"{running.url}/dashboard?attendant={ANA}")

    # Sessions created through the webhook appear, waiting customers first, oldest on top.
    cards = ana.locator("li.card")
    await expect(cards).to_have_count(3)
    assert await cards.evaluate_all("cs => cs.map(c => c.dataset.phone)") == [
        WAITING, OTHER, CHATTING]
    await expect(_row(ana, WAITING).locator(".icon")).to_have_text("⏸️")
    await expect(_row(ana, WAITING)).to_contain_text("Maria Souza")
    await expect(_row(ana, WAITING)).to_contain_text("Quero falar com um atendente")
    await expect(_row(ana, WAITING).locator(".wait")).to_contain_text("Aguardando há")
    await expect(_row(ana, CHATTING).locator(".icon")).to_have_text("🤖")
    await expect(ana.locator("#me-name")).to_have_text(ANA)

    # Assumir: the row turns 👤 with Ana's name, as the server also says.
    await _row(ana, WAITING).get_by_role("button", name="Assumir").click()
    await expect(_row(ana, WAITING).locator(".icon")).to_have_text("👤")
    await expect(_row(ana, WAITING).locator(".holder")).to_contain_text(ANA)
    await expect(_row(ana, WAITING).get_by_role("button", name="Liberar")).to_be_visible()
    session = await running.manager.get(WAITING)
    assert session is not None
    assert (session.mode, session.human_attendant) == (Mode.HUMAN, ANA)

    # A click opens the conversation; its history is one more click away.
    await _row(ana, WAITING).locator(".who").click()
    panel = _panel(ana)
    await expect(panel.get_by_role("heading")).to_have_text("Conversa · Maria Souza")
    await expect(_messages(ana)).to_have_count(1)
    await panel.get_by_role("button", name="Histórico").click()
    dialog = ana.locator("dialog#history")
    await expect(dialog).to_be_visible()
    await expect(dialog.locator(".event").first).to_contain_text("Assumida")
    await expect(dialog.locator(".event").first).to_contain_text(ANA)
    await expect(dialog).to_contain_text("Cliente pediu um atendente")
    await dialog.get_by_role("button", name="Fechar").click()
    await expect(dialog).to_be_hidden()
    await panel.get_by_role("button", name="Fechar").click()
    await expect(panel).to_be_hidden()
    await expect(_row(ana, WAITING).locator(".who")).to_be_focused()

    ana_phone = await browser.new_context(viewport={"width": 390, "height": 760},
                                          locale="pt-BR", is_mobile=True, has_touch=True)
    narrow = await ana_phone.new_page()
    await narrow.goto(f"{running.url}/dashboard?attendant={ANA}")
    await expect(narrow.locator("li.card")).to_have_count(3)
    await narrow.screenshot(path=str(tmp_path / "dashboard-phone.png"))
    await ana.screenshot(path=str(tmp_path / "dashboard.png"))

    # Another attendant, in another browser, is told who holds it instead of failing silently.
    bia_ctx = await browser.new_context(locale="pt-BR")
    bia = await bia_ctx.new_page()
    await bia.goto(f"{running.url}/dashboard?attendant={BIA}")
    await expect(_row(bia, WAITING).locator(".holder")).to_contain_text(ANA)
    await expect(_row(bia, WAITING).get_by_role("button", name="Liberar")).to_have_count(0)
    await _row(bia, WAITING).get_by_role("button", name="Assumir").click()
    await expect(_row(bia, WAITING).locator(".note-error")).to_contain_text(ANA)
    session = await running.manager.get(WAITING)
    assert session is not None and session.human_attendant == ANA

    # Liberar hands it back to the bot; Bia's page follows by polling.
    await _row(ana, WAITING).get_by_role("button", name="Liberar").click()
    await expect(_row(ana, WAITING).locator(".icon")).to_have_text("🤖")
    await expect(_row(bia, WAITING).locator(".icon")).to_have_text("🤖")
    session = await running.manager.get(WAITING)
    assert session is not None and session.mode is Mode.AGENT

    # The id given in the address is kept in the browser: a plain reload still knows Ana.
    await ana.goto(f"{running.url}/dashboard")
    await expect(ana.locator("#me-name")).to_have_text(ANA)
    await expect(ana.locator("dialog#ask-attendant")).to_be_hidden()
    await expect(cards).to_have_count(3)


@needs_chromium
async def test_the_page_asks_once_for_who_is_acting(running: Running, browser: Any) -> None:
    from playwright.async_api import expect

    await _customer(running, WAITING, "Quero falar com um atendente",
                    metadata={"profile_name": HOSTILE})
    ctx = await browser.new_context(locale="pt-BR")
    page = await ctx.new_page()
    await page.goto(f"{running.url}/dashboard")
    ask = page.locator("dialog#ask-attendant")
    await expect(ask).to_be_visible()
    await ask.get_by_label("Seu e-mail ou identificador").fill(BIA)
    await ask.get_by_role("button", name="Salvar").click()
    await expect(ask).to_be_hidden()
    # A hostile profile name is shown as text, never run as markup.
    await expect(_row(page, WAITING).locator(".name")).to_have_text(HOSTILE)
    assert await page.evaluate("document.body.dataset.pwned") is None
    assert await page.locator("li.card img").count() == 0
    await _row(page, WAITING).get_by_role("button", name="Assumir").click()
    await expect(_row(page, WAITING).locator(".holder")).to_contain_text(BIA)

    await page.reload()
    await expect(page.locator("#me-name")).to_have_text(BIA)
    await expect(ask).to_be_hidden()
    await expect(_row(page, WAITING).get_by_role("button", name="Liberar")).to_be_visible()


@needs_chromium
async def test_with_a_token_the_page_asks_for_it_and_refuses_a_wrong_one(
        serve: Callable[..., Awaitable[Running]], make_settings: Callable[..., Settings],
        browser: Any) -> None:
    from playwright.async_api import expect

    running = await serve(make_settings(handoff_api_token=TOKEN))
    await _customer(running, WAITING, "Quero falar com um atendente",
                    headers={"Authorization": f"Bearer {TOKEN}"})
    ctx = await browser.new_context(locale="pt-BR")
    page = await ctx.new_page()
    await page.goto(f"{running.url}/dashboard?attendant={ANA}")

    ask = page.locator("dialog#ask-token")
    await expect(ask).to_be_visible()
    await expect(ask).to_contain_text("exige um token")
    await ask.get_by_label("Token da API").fill("errado")
    await ask.get_by_role("button", name="Entrar").click()
    await expect(ask).to_be_visible()
    await expect(ask.locator("#token-reason")).to_contain_text("Token inválido")
    await expect(page.locator("#banner")).to_contain_text("token ausente ou inválido")
    await expect(page.locator("li.card")).to_have_count(0)

    await ask.get_by_label("Token da API").fill(TOKEN)
    await ask.get_by_role("button", name="Entrar").click()
    await expect(ask).to_be_hidden()
    await expect(page.locator("#banner")).to_be_hidden()
    await _row(page, WAITING).get_by_role("button", name="Assumir").click()
    await expect(_row(page, WAITING).locator(".icon")).to_have_text("👤")
    session = await running.manager.get(WAITING)
    assert session is not None and session.human_attendant == ANA

    # The token is kept too: a reload works without asking again.
    await page.reload()
    await expect(_row(page, WAITING).locator(".holder")).to_contain_text(ANA)
    await expect(ask).to_be_hidden()

    # The conversation panel reads the transcript with the same bearer.
    await _row(page, WAITING).locator(".who").click()
    await expect(_messages(page).locator(".msg-text")).to_have_text(
        ["Quero falar com um atendente"])


# --- the conversation panel ----------------------------------------------------------------

@needs_chromium
async def test_the_panel_shows_the_conversation_as_text(running: Running,
                                                        browser: Any) -> None:
    from playwright.async_api import expect

    # Other conversations, so the list beside the panel looks like a working day.
    await _customer(running, CHATTING, "Vocês entregam em Campinas?")
    await _customer(running, OTHER, "Oi", metadata={"profile_name": "João Pereira"})
    await _customer(running, OTHER, "Preciso de uma pessoa, por favor")

    ctx = await browser.new_context(viewport={"width": 1280, "height": 800}, locale="pt-BR")
    page = await ctx.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: dialogs.append(d.message))
    await page.goto(f"{running.url}/dashboard?attendant={ANA}")
    await expect(page.locator("li.card")).to_have_count(2)

    # The conversation, through the webhook as the relay sends it.
    await _customer(running, WAITING, "Oi, bom dia! Meu pedido 4512 ainda não chegou.",
                    metadata={"profile_name": "Maria Souza"})
    await _customer(running, WAITING, "Olá, Maria! Vou verificar o pedido 4512 para você.",
                    sender_type="agent")
    await _customer(running, WAITING, "Quero falar com um atendente")
    status, _ = await running.json("POST", f"/session/{WAITING}/takeover",
                                   json={"attendant_id": ANA})
    assert status == 200
    await _customer(running, WAITING, "Oi, Maria! Aqui é a Ana. Pode me mandar o comprovante?",
                    sender_type="human", attendant_id=ANA)
    await running.manager.handle_message(
        WAITING, "Segue o comprovante",
        media={"kind": "image", "filename": "comprovante.jpg", "mime_type": "image/jpeg"})
    assert await running.manager.note(WAITING, ANA, "Transportadora confirmou atraso de 1 dia.",
                                      source=Source.REST)
    await _customer(running, WAITING, "Obrigada, Maria! A entrega chega amanhã.",
                    sender_type="human", attendant_id=ANA)

    # A click on the card opens its panel, with a heading and the messages as a list.
    await expect(page.locator("li.card")).to_have_count(3)
    await _row(page, WAITING).click()
    panel = page.get_by_role("complementary", name="Conversa · Maria Souza")
    await expect(panel).to_be_visible()
    await expect(panel.get_by_role("heading", name="Conversa · Maria Souza")).to_be_visible()
    await expect(panel).to_contain_text("Com atendente")
    await expect(_row(page, WAITING)).to_have_class(re.compile(r"\bselected\b"))
    await expect(_messages(page)).to_have_count(7)
    assert await _shown(page) == [
        ("customer", "Cliente · Maria Souza", "Oi, bom dia! Meu pedido 4512 ainda não chegou."),
        ("agent", "Bot", "Olá, Maria! Vou verificar o pedido 4512 para você."),
        ("customer", "Cliente · Maria Souza", "Quero falar com um atendente"),
        ("human", ANA, "Oi, Maria! Aqui é a Ana. Pode me mandar o comprovante?"),
        ("customer", "Cliente · Maria Souza", "Segue o comprovante"),
        ("note", f"Nota interna · {ANA}", "Transportadora confirmou atraso de 1 dia."),
        ("human", ANA, "Obrigada, Maria! A entrega chega amanhã."),
    ]
    # Today's lines show the local time only; the internal note stands apart.
    times = await _messages(page).locator("time").all_inner_texts()
    assert all(re.fullmatch(r"\d\d:\d\d", t) for t in times), times
    note = _messages(page).nth(5)
    assert await note.evaluate("li => getComputedStyle(li).borderStyle") == "dashed"
    await expect(_messages(page).nth(4).locator(".msg-media")).to_have_text(
        "📎 imagem · comprovante.jpg")
    await expect(panel.get_by_role("button", name="Carregar anteriores")).to_be_hidden()
    await page.screenshot(path=str(SCREENSHOT))

    # Hostile text arrives with the next poll, shown literally and never run.
    await _customer(running, WAITING, SCRIPT)
    await _customer(running, WAITING, HOSTILE)
    await expect(_messages(page)).to_have_count(9)
    await expect(_messages(page).nth(7).locator(".msg-text")).to_have_text(SCRIPT)
    await expect(_messages(page).nth(8).locator(".msg-text")).to_have_text(HOSTILE)
    assert await panel.locator("script, img").count() == 0
    assert await page.evaluate("document.body.dataset.pwned") is None
    await page.wait_for_timeout(500)
    assert dialogs == []
    # The view followed the new lines: the user was reading the latest.
    assert await page.evaluate(FROM_END) < 2

    # Escape closes the panel and gives the focus back to the card.
    await panel.get_by_role("heading").focus()
    await page.keyboard.press("Escape")
    await expect(panel).to_be_hidden()
    await expect(_row(page, WAITING).locator(".who")).to_be_focused()


@needs_chromium
async def test_older_messages_load_on_demand_and_the_view_follows_new_ones(
        running: Running, browser: Any) -> None:
    from playwright.async_api import expect

    for i in range(1, 61):
        await _customer(running, WAITING, f"Mensagem {i}")
    ctx = await browser.new_context(viewport={"width": 1280, "height": 720}, locale="pt-BR")
    page = await ctx.new_page()
    await page.goto(f"{running.url}/dashboard?attendant={ANA}")
    await _row(page, WAITING).locator(".who").click()

    # The last 50 first, the newest at the bottom, in view.
    items = _messages(page)
    await expect(items).to_have_count(50)
    await expect(items.first).to_contain_text("Mensagem 11")
    await expect(items.last).to_contain_text("Mensagem 60")
    await page.wait_for_function(f"({FROM_END})() < 2")
    older = _panel(page).get_by_role("button", name="Carregar anteriores")
    await expect(older).to_be_visible()

    # The page before: prepended, the button gone (nothing older), the reader kept in place.
    await older.click()
    await expect(items).to_have_count(60)
    assert [t.strip() for t in (await items.locator(".msg-text").all_inner_texts())] == [
        f"Mensagem {i}" for i in range(1, 61)]
    await expect(older).to_be_hidden()
    assert await page.evaluate(FROM_END) > 200

    # Reading further up: a new line arrives without moving the view, with a way down.
    await page.evaluate("document.getElementById('conv-scroll').scrollTop = 0")
    await _customer(running, WAITING, "Mensagem 61")
    await expect(items).to_have_count(61)
    jump = _panel(page).get_by_role("button", name="Novas mensagens")
    await expect(jump).to_be_visible()
    assert await page.evaluate("document.getElementById('conv-scroll').scrollTop") == 0
    await jump.click()
    await expect(jump).to_be_hidden()
    assert await page.evaluate(FROM_END) < 2

    # At the bottom, the view follows the next one; the older lines stay loaded.
    await _customer(running, WAITING, "Mensagem 62")
    await expect(items).to_have_count(62)
    await expect(items.last).to_contain_text("Mensagem 62")
    await page.wait_for_function(f"({FROM_END})() < 2")
    await expect(items.first).to_contain_text("Mensagem 1")
    await expect(jump).to_be_hidden()


@needs_chromium
async def test_the_panel_shows_dates_and_says_when_it_can_not_load(running: Running,
                                                                  browser: Any) -> None:
    from playwright.async_api import expect

    # Lines from other days, at known UTC times (the API's times carry no offset).
    real_clock = running.manager.clock
    try:
        running.manager.clock = lambda: 1767218400.0  # 2025-12-31 22:00 UTC
        await _customer(running, WAITING, "Feliz ano novo!")
        running.manager.clock = lambda: 1768482300.0  # 2026-01-15 13:05 UTC
        await _customer(running, WAITING, "Quero falar com um atendente")
    finally:
        running.manager.clock = real_clock

    ctx = await browser.new_context(viewport={"width": 1280, "height": 720}, locale="pt-BR",
                                    timezone_id="America/Sao_Paulo")
    page = await ctx.new_page()
    # The browser's today: 2026-01-15, 15:00 in São Paulo.
    await page.clock.set_fixed_time(1768500000)
    await page.goto(f"{running.url}/dashboard?attendant={ANA}")
    await _row(page, WAITING).locator(".who").click()
    await expect(_messages(page).locator("time")).to_have_text(["31/12/2025 19:00", "10:05"])

    # The session is gone (404), then the server fails: a line in the panel, in pt-BR.
    answer = {"status": 404, "body": '{"error": "Sessão não encontrada"}'}

    async def fake(route: Any) -> None:
        await route.fulfill(status=answer["status"], content_type="application/json",
                            body=answer["body"])

    await page.route(f"**/session/{WAITING}/messages*", fake)
    state = _panel(page).locator("#conv-state")
    await expect(state).to_have_text("Esta conversa não existe mais (encerrada ou removida).")
    await expect(_messages(page)).to_have_count(0)
    answer.update(status=500, body="oops")
    await expect(state).to_have_text("Não foi possível carregar a conversa; tentando de novo…")
    await page.unroute(f"**/session/{WAITING}/messages*")
    await expect(_messages(page)).to_have_count(2)
    await expect(state).to_be_hidden()


# --- routing (GET /queue) --------------------------------------------------------------------

def _places(page: Any, phones: list[str]) -> list[Any]:
    return [_row(page, phone).locator(".route .place") for phone in phones]


@needs_chromium
async def test_waiting_customers_show_their_place_and_the_team_its_load(
        running: Running, browser: Any) -> None:
    from playwright.async_api import expect

    phones = [WAITING, OTHER, "5541966665555"]
    for phone in phones:
        await _customer(running, phone, "Quero falar com um atendente")
    await _customer(running, CHATTING, "Vocês entregam em Campinas?")
    ctx = await browser.new_context(viewport={"width": 1240, "height": 600}, locale="pt-BR")
    page = await ctx.new_page()
    await page.goto(f"{running.url}/dashboard?attendant={ANA}")

    # Oldest first: each waiting card says its place; the bot's conversation has none.
    for place, n in zip(_places(page, phones), ("1º", "2º", "3º"), strict=True):
        await expect(place).to_have_text(f"{n} da fila")
    await expect(_row(page, CHATTING).locator(".route")).to_have_count(0)
    # Nobody holds anything yet, and no team is known without Slack: no "Equipe".
    team = page.get_by_role("region", name="Equipe")
    await expect(team).to_be_hidden()
    await expect(page.locator("#hours")).to_be_hidden()

    # Ana takes the first: the others move up, and her load shows (no limit without offers).
    await _row(page, WAITING).get_by_role("button", name="Assumir").click()
    await expect(_row(page, WAITING).locator(".route")).to_have_count(0)
    for place, n in zip(_places(page, phones[1:]), ("1º", "2º"), strict=True):
        await expect(place).to_have_text(f"{n} da fila")
    await expect(team).to_be_visible()
    await expect(team.get_by_role("listitem")).to_have_count(1)
    await expect(team.get_by_role("listitem")).to_contain_text(f"{ANA} — 1")
    await expect(team.locator(".dot, .presence")).to_have_count(0)  # presence unknown here
    await expect(team.locator(".tag")).to_have_text("você")


@needs_chromium
async def test_out_of_hours_a_banner_says_when_the_team_is_back(
        serve: Callable[..., Awaitable[Running]], make_settings: Callable[..., Settings],
        browser: Any, tmp_path: Path) -> None:
    from playwright.async_api import expect

    running = await serve(make_settings(handoff_business_hours=CLOSED))
    await _customer(running, WAITING, "Quero falar com um atendente",
                    metadata={"profile_name": "Maria Souza"})
    status, queue = await running.json("GET", "/queue")
    assert status == 200 and queue["open"] is False
    opens = datetime.fromisoformat(queue["opens_at"])  # in the team's zone, São Paulo's
    back = when_back(opens, datetime.now(opens.tzinfo))

    # On a phone, where the card stacks its lines.
    ctx = await browser.new_context(viewport={"width": 390, "height": 760}, locale="pt-BR",
                                    timezone_id="America/Sao_Paulo", is_mobile=True,
                                    has_touch=True)
    page = await ctx.new_page()
    await page.goto(f"{running.url}/dashboard?attendant={ANA}")
    hours = page.locator("#hours")
    await expect(hours).to_have_text(f"Fora do horário de atendimento — voltamos {back}")
    assert "às 12:00" in back
    await expect(_row(page, WAITING).locator(".route .place")).to_have_text("1º da fila")
    await expect(_row(page, WAITING).locator(".route .off-hours")).to_have_text("fora do horário")
    # Not an error: the connection banner stays hidden.
    await expect(page.locator("#banner")).to_be_hidden()
    await page.screenshot(path=str(tmp_path / "dashboard-closed.png"))


@needs_chromium
async def test_routing_is_shown_as_text_and_a_failing_queue_leaves_the_list(
        running: Running, browser: Any) -> None:
    from playwright.async_api import expect

    await _customer(running, WAITING, "Quero falar com um atendente",
                    metadata={"profile_name": "Maria Souza"})
    await _customer(running, OTHER, "Quero falar com um atendente")
    ctx = await browser.new_context(viewport={"width": 1240, "height": 600}, locale="pt-BR")
    page = await ctx.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: dialogs.append(d.message))

    # A queue as a server with offers might answer, with hostile names in it.
    soon = iso(running.manager.clock() + 42)
    body = {"assignment": "offer", "open": True, "opens_at": None, "max_conversations": 2,
            "waiting": [
                {"phone": WAITING, "name": HOSTILE, "place": 1, "waiting_since": None,
                 "offer": {"attendant": HOSTILE, "offered_at": soon, "expires_at": soon,
                           "reason": "silent"}},
                {"phone": OTHER, "name": None, "place": 2, "waiting_since": None,
                 "offer": None}],
            "attendants": [
                {"attendant": SCRIPT, "holding": 2, "offered": 1, "present": True},
                {"attendant": BIA, "holding": 0, "offered": 0, "present": False}]}
    answer = {"status": 200, "body": json.dumps(body)}

    async def fake(route: Any) -> None:
        await route.fulfill(status=answer["status"], content_type="application/json",
                            body=answer["body"])

    await page.route("**/queue", fake)
    await page.goto(f"{running.url}/dashboard?attendant={ANA}")
    offer = _row(page, WAITING).locator(".route .offer")
    await expect(offer).to_contain_text(f"Sem resposta do atendente: oferecida a {HOSTILE} · ")
    await expect(offer.locator(".expires")).to_have_text(re.compile(r"expira em \d+ s"))
    await expect(_row(page, OTHER).locator(".route .offer")).to_have_count(0)
    members = page.get_by_role("region", name="Equipe").get_by_role("listitem")
    await expect(members).to_have_count(2)
    await expect(members.nth(0)).to_contain_text(f"{SCRIPT} — 2/2 (+1 oferecida)")
    await expect(members.nth(0).locator(".presence")).to_have_text("no Slack")
    await expect(members.nth(1)).to_contain_text(f"{BIA} — 0/2")
    await expect(members.nth(1).locator(".presence")).to_have_text("ausente")
    assert await page.locator("main script, main img").count() == 0
    assert await page.evaluate("document.body.dataset.pwned") is None

    # The queue fails (or this server has none): routing goes, quietly; the list stays.
    answer.update(status=500, body="oops")
    await expect(page.locator(".route")).to_have_count(0)
    await expect(page.get_by_role("region", name="Equipe")).to_be_hidden()
    await expect(page.locator("li.card")).to_have_count(2)
    await expect(page.locator("#status")).to_contain_text("Atualizado às")
    await expect(page.locator("#status")).not_to_have_class(re.compile(r"\berror\b"))
    await expect(page.locator("#banner")).to_be_hidden()
    # A 401 on the queue alone does not ask for a token (the list's own call does that).
    answer.update(status=401, body='{"error": "não autorizado"}')
    await page.wait_for_timeout(3500)
    await expect(page.locator("dialog#ask-token")).to_be_hidden()
    await expect(page.locator("li.card")).to_have_count(2)
    assert dialogs == []

    await page.unroute("**/queue")
    await expect(_row(page, WAITING).locator(".route .place")).to_have_text("1º da fila")
    await expect(_row(page, OTHER).locator(".route .place")).to_have_text("2º da fila")
