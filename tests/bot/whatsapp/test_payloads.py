"""Reading Meta's webhook bodies: every kind of message, status and error, as Meta sends them."""

from __future__ import annotations

from typing import Any

import pytest

from bot.whatsapp.payloads import InboundMessage, StatusUpdate, parse
from tests.bot.whatsapp import meta

WA_ID = "553199999999"
PHONE = "5531999999999"


def one(kind: str, content: dict[str, Any], **extra: Any) -> InboundMessage:
    [m] = parse(meta.envelope(meta.value(messages=[
        meta.message(WA_ID, "wamid.1", kind, content, **extra)]))).messages
    return m


def test_text_with_profile_name_and_canonical_key() -> None:
    batch = parse(meta.incoming(WA_ID, "wamid.T", "Oi, preciso de ajuda"))
    [m] = batch.messages
    assert (m.wamid, m.key, m.address, m.text, m.type) == (
        "wamid.T", PHONE, WA_ID, "Oi, preciso de ajuda", "text")
    assert m.profile_name == "Ana Lima" and not m.echo
    assert batch.statuses == [] and batch.errors == []


def test_every_entry_and_change_and_message() -> None:
    batch = parse(meta.envelope(
        meta.value(messages=[meta.text(WA_ID, "wamid.1", "a"), meta.text(WA_ID, "wamid.2", "b")]),
        meta.value(messages=[meta.text("5521988887777", "wamid.3", "c")],
                   statuses=[meta.status("wamid.OUT1", "read", WA_ID)]),
        entries=2))
    assert [m.wamid for m in batch.messages] == ["wamid.1", "wamid.2", "wamid.3"]
    assert [s.wamid for s in batch.statuses] == ["wamid.OUT1"]


@pytest.mark.parametrize(("kind", "content", "text"), [
    ("interactive", {"type": "button_reply", "button_reply": {"id": "y", "title": "Sim"}},
     "Sim"),
    ("interactive", {"type": "list_reply",
                     "list_reply": {"id": "p", "title": "Plano Pro", "description": "Mensal"}},
     "Plano Pro"),
    ("interactive", {"type": "nfm_reply", "nfm_reply": {"response_json": "{}"}},
     "[formulário]"),
    ("button", {"text": "Quero saber mais", "payload": "MORE"}, "Quero saber mais"),
    ("image", {"caption": "nota fiscal", "mime_type": "image/jpeg", "id": "1"},
     "[imagem] nota fiscal"),
    ("image", {"mime_type": "image/jpeg", "id": "1"}, "[imagem]"),
    ("audio", {"mime_type": "audio/ogg; codecs=opus", "id": "2", "voice": True},
     "[mensagem de voz]"),
    ("audio", {"mime_type": "audio/mpeg", "id": "2"}, "[áudio]"),
    ("video", {"caption": "o defeito", "id": "3"}, "[vídeo] o defeito"),
    ("document", {"filename": "boleto.pdf", "id": "4"}, "[documento] boleto.pdf"),
    ("document", {"filename": "boleto.pdf", "caption": "segue", "id": "4"},
     "[documento] segue"),
    ("sticker", {"mime_type": "image/webp", "id": "5", "animated": False}, "[figurinha]"),
    ("location", {"latitude": -19.92, "longitude": -43.94, "name": "Loja Centro",
                  "address": "Rua A, 1"}, "[localização] Loja Centro — Rua A, 1 -19.92, -43.94"),
    ("location", {"latitude": -19.92, "longitude": -43.94}, "[localização] -19.92, -43.94"),
    ("order", {"catalog_id": "1", "product_items": []}, "[pedido]"),
    ("unsupported", {}, "[mensagem não suportada]"),
])
def test_each_kind_reads_as_text(kind: str, content: dict[str, Any], text: str) -> None:
    m = one(kind, content)
    assert (m.text, m.type) == (text, kind)


def test_contacts_message_names_the_people() -> None:
    [m] = parse(meta.envelope(meta.value(messages=[{
        "from": WA_ID, "id": "wamid.C", "timestamp": meta.TS, "type": "contacts",
        "contacts": [{"name": {"formatted_name": "João Silva"}, "phones": []}]}]))).messages
    assert m.text == "[contato] João Silva"


def test_unsupported_message_errors_are_reported() -> None:
    batch = parse(meta.envelope(meta.value(messages=[{
        "from": WA_ID, "id": "wamid.U", "timestamp": meta.TS, "type": "unsupported",
        "errors": [meta.error(131051, "Message type unknown", "not supported")]}])))
    assert [m.text for m in batch.messages] == ["[mensagem não suportada]"]
    assert [(e.code, e.title) for e in batch.errors] == [(131051, "Message type unknown")]


def test_reactions_are_not_messages() -> None:
    batch = parse(meta.envelope(meta.value(messages=[meta.message(
        WA_ID, "wamid.R", "reaction", {"message_id": "wamid.OUT1", "emoji": "👍"})])))
    assert batch.messages == [] and batch.skipped == 1


def test_a_sender_without_from_is_keyed_by_the_user_id() -> None:
    [m] = parse(meta.username_only("BR.1503AbC9", "wamid.B", "Oi", "Carla")).messages
    assert (m.key, m.address, m.profile_name) == ("BR.1503AbC9", "BR.1503AbC9", "Carla")


def test_echo_is_the_business_writing_to_the_customer() -> None:
    [m] = parse(meta.echo(WA_ID, "wamid.E", "Oi, aqui é a Ana")).messages
    assert (m.key, m.address, m.text, m.echo, m.profile_name) == (
        PHONE, WA_ID, "Oi, aqui é a Ana", True, None)


def test_status_updates_with_errors() -> None:
    batch = parse(meta.envelope(meta.value(statuses=[
        meta.status("wamid.OUT42", "failed", WA_ID, errors=[meta.WINDOW_ERROR])])))
    [s] = batch.statuses
    assert (s.wamid, s.status, s.recipient, s.key) == ("wamid.OUT42", "failed", WA_ID, PHONE)
    assert s.codes() == [131047]
    assert batch.messages == []


def test_errors_only() -> None:
    batch = parse(meta.envelope(meta.value(errors=[
        meta.error(130429, "Rate limit hit", "Cloud API message throughput reached")])))
    [e] = batch.errors
    assert (e.code, e.title, e.details) == (130429, "Rate limit hit",
                                            "Cloud API message throughput reached")
    assert batch.messages == [] and batch.statuses == []


def test_unreadable_parts_are_skipped_not_fatal() -> None:
    batch = parse({"object": "whatsapp_business_account", "entry": [
        "junk", {"changes": [{"value": None}, {"value": {"messages": [
            {"id": "wamid.X", "type": "text", "text": {"body": "sem remetente"}},
            {"from": "12", "id": "wamid.Y", "type": "text", "text": {"body": "curto"}},
            meta.text(WA_ID, "wamid.Z", "ok")]}}]}]})
    assert [m.wamid for m in batch.messages] == ["wamid.Z"]
    assert batch.skipped == 2
    assert parse({"object": "whatsapp_business_account"}).messages == []


def test_records_round_trip_through_json() -> None:
    [m] = parse(meta.incoming(WA_ID, "wamid.T", "Oi")).messages
    assert InboundMessage.from_json(m.to_json()) == m
    s = StatusUpdate("wamid.O", "failed", WA_ID, PHONE, meta.TS,
                     [{"code": 131047, "title": "t", "details": "d"}])
    assert StatusUpdate.from_json(s.to_json()) == s
