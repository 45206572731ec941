"""Meta's webhook bodies (`"object": "whatsapp_business_account"`) read into plain records.

One POST may carry many entries, each with many changes, each with many messages or statuses:
every one is read. What cannot be read is logged and skipped, never a reason to refuse the
whole POST (Meta would retry it for days). Records round-trip through JSON for the queue.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from typing import Any

from bot.whatsapp import texts
from handoff.phones import InvalidPhone, canonical_phone

log = logging.getLogger("handoff.whatsapp")

OBJECT = "whatsapp_business_account"
#: Message types that carry no customer request and are only logged.
#: Not something the customer said: reactions, system notices, and edits or deletions of an
#: earlier message (the original was already handled).
_IGNORED_TYPES = frozenset({"reaction", "system", "request_welcome", "ephemeral", "edit",
                            "revoke"})
#: Interactive answers that are not a reply to the conversation (a call permission).
_IGNORED_INTERACTIVE = frozenset({"call_permission_reply"})
_MEDIA = ("image", "video", "document", "sticker", "audio")


@dataclass(frozen=True)
class InboundMessage:
    """A customer's message, or an echo of one the business sent from its own WhatsApp app.

    `key` is the session key (the canonical phone, or the business-scoped user id when Meta
    gives no phone); `address` is how Meta named the customer, used to answer them.
    """

    wamid: str
    key: str
    address: str
    text: str
    type: str
    profile_name: str | None = None
    echo: bool = False
    timestamp: str | None = None
    #: A photo, voice note, video, document or sticker: Meta's media id and what it is.
    media: dict[str, Any] | None = None
    #: The id of the button or list row the customer tapped (ours, when we sent it).
    reply_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"kind": "message", **asdict(self)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> InboundMessage:
        return cls(**{k: v for k, v in data.items() if k != "kind"})


@dataclass(frozen=True)
class StatusUpdate:
    """What happened to a message we sent: sent, delivered, read, played or failed."""

    wamid: str
    status: str
    recipient: str | None
    key: str | None
    timestamp: str | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"kind": "status", **asdict(self)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StatusUpdate:
        return cls(**{k: v for k, v in data.items() if k != "kind"})

    def codes(self) -> list[int]:
        return [e["code"] for e in self.errors if isinstance(e.get("code"), int)]


@dataclass(frozen=True)
class ErrorReport:
    """An error Meta reports in a webhook (system-wide, or attached to a message)."""

    code: int | None
    title: str | None
    details: str | None


@dataclass
class Batch:
    """Everything one POST carried."""

    messages: list[InboundMessage] = field(default_factory=list)
    statuses: list[StatusUpdate] = field(default_factory=list)
    errors: list[ErrorReport] = field(default_factory=list)
    skipped: int = 0


def _list(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _error(raw: dict[str, Any]) -> ErrorReport:
    code = raw.get("code")
    return ErrorReport(code if isinstance(code, int) else None, _str(raw.get("title")),
                       _str(_dict(raw.get("error_data")).get("details")) or _str(
                           raw.get("message")))


def _key(address: str | None) -> str | None:
    if address is None:
        return None
    try:
        return canonical_phone(address)
    except InvalidPhone:
        return None


def parse(data: dict[str, Any]) -> Batch:
    """Every message, echo, status and error in a Cloud API webhook body."""
    batch = Batch()
    for entry in _list(data.get("entry")):
        for change in _list(entry.get("changes")):
            value = _dict(change.get("value"))
            names = _profile_names(value)
            sole = _sole_contact(value)
            for raw in _list(value.get("messages")):
                _add_message(batch, raw, names, echo=False, sole=sole)
            for raw in _list(value.get("message_echoes")):
                _add_message(batch, raw, names, echo=True)
            for raw in _list(value.get("statuses")):
                _add_status(batch, raw)
            batch.errors += [_error(e) for e in _list(value.get("errors"))]
    return batch


def _profile_names(value: dict[str, Any]) -> dict[str, str]:
    """Contact id (phone or user id) → the profile name the customer chose."""
    names: dict[str, str] = {}
    for contact in _list(value.get("contacts")):
        name = _str(_dict(contact.get("profile")).get("name"))
        if name is None:
            continue
        for ident in (contact.get("wa_id"), contact.get("user_id")):
            if _str(ident):
                names[str(ident)] = name
    return names


def _sole_contact(value: dict[str, Any]) -> str | None:
    """The one contact a change names (its user id, else its phone), if it names one."""
    contacts = _list(value.get("contacts"))
    if len(contacts) != 1:
        return None
    return _str(contacts[0].get("user_id")) or _str(contacts[0].get("wa_id"))


def _add_message(batch: Batch, raw: dict[str, Any], names: dict[str, str], *,
                 echo: bool, sole: str | None = None) -> None:
    wamid = _str(raw.get("id"))
    kind = _str(raw.get("type")) or "unsupported"
    batch.errors += [_error(e) for e in _list(raw.get("errors"))]
    if echo:
        address = _str(raw.get("to")) or _str(raw.get("to_user_id"))
    else:
        # A message may name its sender only through the change's one contact.
        address = _str(raw.get("from")) or _str(raw.get("from_user_id")) or sole
    key = _key(address)
    if wamid is None or address is None or key is None:
        log.warning("whatsapp_message_unreadable", extra={"wamid": wamid, "type": kind})
        batch.skipped += 1
        return
    if kind in _IGNORED_TYPES or (
            kind == "interactive"
            and _str(_dict(raw.get("interactive")).get("type")) in _IGNORED_INTERACTIVE):
        log.info("whatsapp_message_ignored", extra={"phone": key, "wamid": wamid, "type": kind})
        batch.skipped += 1
        return
    name = names.get(address) or names.get(_str(raw.get("from_user_id")) or "")
    batch.messages.append(InboundMessage(
        wamid=wamid, key=key, address=address, text=render(kind, raw), type=kind,
        profile_name=None if echo else name, echo=echo, timestamp=_str(raw.get("timestamp")),
        media=None if echo else media_of(kind, raw),
        reply_id=_reply_id(kind, raw)))


def _reply_id(kind: str, raw: dict[str, Any]) -> str | None:
    if kind == "interactive":
        body = _dict(raw.get("interactive"))
        return _str(_dict(body.get(_str(body.get("type")) or "")).get("id"))
    if kind == "button":
        return _str(_dict(raw.get("button")).get("payload"))
    return None


def media_of(kind: str, raw: dict[str, Any]) -> dict[str, Any] | None:
    """What to fetch for a media message: its id, type, name and caption."""
    if kind not in _MEDIA:
        return None
    body = _dict(raw.get(kind))
    media_id = _str(body.get("id"))
    if media_id is None:
        return None
    found: dict[str, Any] = {"kind": "voice" if kind == "audio" and body.get("voice") else kind,
                             "id": media_id,
                             "mime_type": _str(body.get("mime_type")) or "application/octet-stream"}
    for name in ("filename", "caption"):
        if _str(body.get(name)):
            found[name] = body[name]
    return found


def _add_status(batch: Batch, raw: dict[str, Any]) -> None:
    wamid, status = _str(raw.get("id")), _str(raw.get("status"))
    if wamid is None or status is None:
        batch.skipped += 1
        return
    recipient = _str(raw.get("recipient_id")) or _str(raw.get("recipient_user_id"))
    batch.statuses.append(StatusUpdate(
        wamid=wamid, status=status, recipient=recipient, key=_key(recipient),
        timestamp=_str(raw.get("timestamp")),
        errors=[asdict(_error(e)) for e in _list(raw.get("errors"))]))


def render(kind: str, raw: dict[str, Any]) -> str:
    """The text a person (and the agent) reads for one message of any type."""
    body = _dict(raw.get(kind))
    labels = texts.WA_LABELS
    if kind == "text":
        return _str(body.get("body")) or labels["unsupported"]
    if kind == "interactive":
        return _interactive(body)
    if kind == "button":
        return _str(body.get("text")) or _str(body.get("payload")) or labels["unsupported"]
    if kind in _MEDIA:
        label = labels["voice"] if kind == "audio" and body.get("voice") else labels[kind]
        note = _str(body.get("caption")) or (
            _str(body.get("filename")) if kind == "document" else None)
        return f"{label} {note}" if note else label
    if kind == "location":
        where = texts.WA_LOCATION.format(
            name=" — ".join(p for p in (_str(body.get("name")), _str(body.get("address"))) if p),
            lat=body.get("latitude"), lng=body.get("longitude")).strip()
        return f"{labels['location']} {where}"
    if kind == "contacts":
        people = [_str(_dict(c.get("name")).get("formatted_name"))
                  for c in _list(raw.get("contacts"))]
        found = ", ".join(p for p in people if p)
        return f"{labels['contacts']} {found}" if found else labels["contacts"]
    if kind == "order":
        note = _str(body.get("text"))
        items = len(_list(body.get("product_items")))
        label = texts.WA_ORDER_ITEMS.format(label=labels["order"], count=items) if items \
            else labels["order"]
        return f"{label} {note}" if note else label
    return labels["unsupported"]


def _interactive(body: dict[str, Any]) -> str:
    """A button or list reply reads as its title; a form (flow) reply as a label."""
    reply_type = _str(body.get("type")) or ""
    reply = _dict(body.get(reply_type))
    if reply_type in ("button_reply", "list_reply"):
        return _str(reply.get("title")) or _str(reply.get("id")) or texts.WA_LABELS[
            "unsupported"]
    if reply_type == "nfm_reply":
        return texts.WA_LABELS["form"]
    return texts.WA_LABELS["unsupported"]


def kind_of_mime(mime_type: str) -> str:
    """What a relay's file is, by its type: image, video, audio, sticker or document."""
    mime = mime_type.split(";")[0].strip().lower()
    if mime == "image/webp":
        return "sticker"
    for kind in ("image", "video", "audio"):
        if mime.startswith(kind + "/"):
            return kind
    return "document"


def media_text(media: dict[str, Any]) -> str:
    """How a relay's file without a message reads: "[imagem] legenda"."""
    label = texts.WA_LABELS.get(str(media.get("kind")), texts.WA_LABELS["document"])
    note = media.get("caption") or media.get("filename")
    return f"{label} {note}" if note else label
