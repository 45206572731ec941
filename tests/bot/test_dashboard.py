"""`GET /dashboard`: the page and its assets over HTTP, then the page itself in headless Chromium.

The browser tests drive Debian's `/usr/bin/chromium` through Playwright against the real app on
127.0.0.1 (never a downloaded browser); they skip only when that binary is absent.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from bot.settings import Settings
from handoff.model import Mode
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

@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    if not HAVE_CHROMIUM:
        pytest.skip(f"{CHROMIUM} is absent: install Debian's chromium package")
    from playwright.async_api import async_playwright, expect

    # Polling pages follow the server within 3 s; this only bounds a hang on a slow machine.
    expect.set_options(timeout=15_000)
    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        await b.close()


async def _customer(running: Running, phone: str, text: str,
                    headers: dict[str, str] | None = None, **extra: Any) -> None:
    status, _ = await running.json("POST", "/webhook/whatsapp", headers=headers,
                                   json={"phone": phone, "message": text, **extra})
    assert status == 200


def _row(page: Any, phone: str) -> Any:
    return page.locator(f'li.card[data-phone="{phone}"]')


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

    # History opens on click.
    await _row(ana, WAITING).locator(".who").click()
    dialog = ana.locator("dialog#history")
    await expect(dialog).to_be_visible()
    await expect(dialog.locator(".event").first).to_contain_text("Assumida")
    await expect(dialog.locator(".event").first).to_contain_text(ANA)
    await expect(dialog).to_contain_text("Cliente pediu um atendente")
    await dialog.get_by_role("button", name="Fechar").click()
    await expect(dialog).to_be_hidden()

    ana_phone = await browser.new_context(viewport={"width": 390, "height": 760},
                                          locale="pt-BR", is_mobile=True, has_touch=True)
    narrow = await ana_phone.new_page()
    await narrow.goto(f"{running.url}/dashboard?attendant={ANA}")
    await expect(narrow.locator("li.card")).to_have_count(3)
    await narrow.screenshot(path=str(tmp_path / "dashboard-phone.png"))
    await ana.screenshot(path=str(SCREENSHOT))

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
