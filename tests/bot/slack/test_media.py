"""Customers' photos, voice notes and documents in the card's thread, as files, in order with
their texts; what cannot be shown (too large, gone) is said in a line."""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from tests.bot.slack.conftest import CHANNEL, PHONE, SlackRig
from tests.bot.whatsapp.meta import contact, envelope, message, text, value
from tests.fakes.graph import FakeGraph, meta_signature
from tests.fakes.slack import Message

APP_SECRET = "test_app_secret"
WA_ID = "553199999999"
PHOTO = b"\xff\xd8\xff\xe0" + os.urandom(300_000)   # larger than one chunk
VOICE = b"OggS" + os.urandom(20_000)
PDF = b"%PDF-1.7\n" + os.urandom(50_000)


async def _meta(r: SlackRig, *messages: dict[str, Any]) -> None:
    body = json.dumps(envelope(value(contacts=[contact(WA_ID, "Maria")],
                                     messages=list(messages)))).encode()
    async with r.running.request("POST", "/webhook/whatsapp", data=body, headers={
            "Content-Type": "application/json",
            "X-Hub-Signature-256": meta_signature(APP_SECRET, body)}) as resp:
        assert resp.status == 200


def _after_takeover(r: SlackRig, card: Message) -> list[Message]:
    thread = r.fake.thread(CHANNEL, card.ts)
    return [m for m in thread if m.files or m.text.startswith(("💬", "📎"))]


async def test_photo_voice_note_and_pdf_arrive_as_files_in_order(
        start: Callable[..., Awaitable[SlackRig]], graph: FakeGraph) -> None:
    r = await start()
    graph.media.update({"m-photo": (PHOTO, "image/jpeg"), "m-voice": (VOICE, "audio/ogg"),
                        "m-pdf": (PDF, "application/pdf")})
    card = await r.taken_by_ana()
    await _meta(r, message(WA_ID, "wamid.M1", "image", {
        "id": "m-photo", "mime_type": "image/jpeg", "caption": "nota fiscal",
        "sha256": "x"}))
    await _meta(r, text(WA_ID, "wamid.M2", "ouviu?"))
    await _meta(r, message(WA_ID, "wamid.M3", "audio", {
        "id": "m-voice", "mime_type": "audio/ogg; codecs=opus", "voice": True}))
    await _meta(r, message(WA_ID, "wamid.M4", "document", {
        "id": "m-pdf", "mime_type": "application/pdf", "filename": "boleto-4521.pdf",
        "caption": "segue"}))
    await _meta(r, text(WA_ID, "wamid.M5", "obrigada"))
    shown = await r.fake.until(lambda: len(_after_takeover(r, card)) >= 5
                               and _after_takeover(r, card))
    await r.settled()
    shown = _after_takeover(r, card)
    assert [m.text for m in shown] == [
        "💬 *Maria:* [imagem] nota fiscal", "💬 *Maria:* ouviu?",
        "💬 *Maria:* [mensagem de voz]", "💬 *Maria:* [documento] segue",
        "💬 *Maria:* obrigada"]
    photo, _, voice, pdf, _ = shown
    assert [(f["name"], f["data"]) for f in photo.files] == [("image.jpg", PHOTO)]
    assert [(f["name"], f["data"]) for f in voice.files] == [("voice.ogg", VOICE)]
    assert [(f["name"], f["data"]) for f in pdf.files] == [("boleto-4521.pdf", PDF)]
    _, body = await r.running.json("GET", f"/session/{PHONE}/messages")
    media = [m["media"] for m in body["messages"] if m["sender"] == "customer"]
    assert media[-5] == {"type": "image", "mime_type": "image/jpeg", "filename": None,
                         "caption": "nota fiscal"}
    assert media[-3]["type"] == "voice" and media[-4] is None
    assert media[-2]["filename"] == "boleto-4521.pdf"


async def test_too_large_or_gone_is_said_in_a_line(
        start: Callable[..., Awaitable[SlackRig]], graph: FakeGraph) -> None:
    r = await start(handoff_media_max_bytes=100_000)
    graph.media.update({"m-photo": (PHOTO, "image/jpeg"), "m-flaky": (PDF, "application/pdf")})
    graph.media_failures["m-flaky"] = 2  # fails twice, then works: retried
    card = await r.taken_by_ana()
    await _meta(r, message(WA_ID, "wamid.L1", "image", {
        "id": "m-photo", "mime_type": "image/jpeg", "caption": "nota"}))
    await _meta(r, message(WA_ID, "wamid.L2", "video", {
        "id": "m-sumiu", "mime_type": "video/mp4"}))
    await _meta(r, message(WA_ID, "wamid.L3", "document", {
        "id": "m-flaky", "mime_type": "application/pdf", "filename": "a.pdf"}))
    shown = await r.fake.until(lambda: len(_after_takeover(r, card)) >= 3
                               and _after_takeover(r, card))
    large, gone, flaky = shown
    assert large.text.startswith("📎 *Maria* enviou uma foto de 0,3 MB, acima do limite de 0,1 MB")
    assert large.text.endswith("Legenda: nota") and not large.files
    assert gone.text.startswith("📎 *Maria* enviou um vídeo, mas não foi possível baixar")
    assert [(f["name"], f["data"]) for f in flaky.files] == [("a.pdf", PDF)]


async def test_a_relays_media_shows_the_same_way(
        start: Callable[..., Awaitable[SlackRig]]) -> None:
    files = web.Application()

    async def serve_photo(request: web.Request) -> web.Response:
        return web.Response(body=PHOTO, content_type="image/jpeg")

    files.router.add_get("/foto.jpg", serve_photo)
    runner = web.AppRunner(files)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/foto.jpg"
    try:
        r = await start()
        card = await r.taken_by_ana()
        status, _ = await r.running.json("POST", "/webhook/whatsapp", json={
            "phone": PHONE, "media": {"url": url, "mime_type": "image/jpeg",
                                      "caption": "comprovante"}})
        assert status == 200
        (shown,) = await r.fake.until(lambda: [m for m in _after_takeover(r, card) if m.files])
        assert shown.text == "💬 *5531999999999:* [imagem] comprovante"
        assert [(f["name"], f["data"]) for f in shown.files] == [("image.jpg", PHOTO)]
        for bad in ({"url": "ftp://x/y", "mime_type": "image/jpeg"}, {"url": url},
                    {"url": url, "mime_type": 5}, "foto", [url]):
            status, body = await r.running.json("POST", "/webhook/whatsapp", json={
                "phone": PHONE, "message": "x", "media": bad})
            assert status == 400 and body["error"], bad
    finally:
        await runner.cleanup()
