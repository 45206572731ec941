"""Webhook bodies built exactly as Meta sends them (shapes from /work/shared/reference)."""

from __future__ import annotations

from typing import Any

WABA_ID = "880000000000001"
BUSINESS_NUMBER = "5511930000000"
PHONE_NUMBER_ID = "770000000000002"
TS = "1767225600"


def envelope(*values: dict[str, Any], field: str = "messages",
             entries: int = 1) -> dict[str, Any]:
    """`values` spread over `entries` entries, one change each, as Meta batches them."""
    groups: list[list[dict[str, Any]]] = [[] for _ in range(entries)]
    for i, value in enumerate(values):
        groups[i % entries].append(value)
    return {"object": "whatsapp_business_account", "entry": [
        {"id": WABA_ID, "changes": [{"field": field, "value": v} for v in group]}
        for group in groups]}


def value(**parts: Any) -> dict[str, Any]:
    return {"messaging_product": "whatsapp",
            "metadata": {"display_phone_number": BUSINESS_NUMBER,
                         "phone_number_id": PHONE_NUMBER_ID},
            **parts}


def contact(wa_id: str, name: str) -> dict[str, Any]:
    return {"profile": {"name": name}, "wa_id": wa_id}


def message(sender: str, wamid: str, kind: str, content: dict[str, Any],
            **extra: Any) -> dict[str, Any]:
    return {"from": sender, "id": wamid, "timestamp": TS, "type": kind, kind: content, **extra}


def text(sender: str, wamid: str, body: str) -> dict[str, Any]:
    return message(sender, wamid, "text", {"body": body})


def incoming(sender: str, wamid: str, body: str, name: str = "Ana Lima") -> dict[str, Any]:
    """One customer's text, with their contact card: the commonest POST."""
    return envelope(value(contacts=[contact(sender, name)],
                          messages=[text(sender, wamid, body)]))


def button_reply(sender: str, wamid: str, title: str) -> dict[str, Any]:
    return message(sender, wamid, "interactive",
                   {"type": "button_reply", "button_reply": {"id": "confirm_yes",
                                                             "title": title}},
                   context={"from": BUSINESS_NUMBER, "id": "wamid.OUT0043"})


def list_reply(sender: str, wamid: str, title: str) -> dict[str, Any]:
    return message(sender, wamid, "interactive",
                   {"type": "list_reply", "list_reply": {"id": "plan_pro", "title": title,
                                                         "description": "Mensal"}})


def image(sender: str, wamid: str, caption: str | None) -> dict[str, Any]:
    content = {"mime_type": "image/jpeg", "sha256": "aGFzaA==", "id": "1003000000000001"}
    if caption is not None:
        content["caption"] = caption
    return message(sender, wamid, "image", content)


def status(wamid: str, state: str, recipient: str,
           errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"id": wamid, "status": state, "timestamp": TS,
                           "recipient_id": recipient}
    if errors is not None:
        out["errors"] = errors
    return out


def error(code: int, title: str, details: str) -> dict[str, Any]:
    return {"code": code, "title": title, "message": title, "error_data": {"details": details},
            "href": "/documentation/business-messaging/whatsapp/support/error-codes"}


WINDOW_ERROR = error(131047, "Re-engagement message",
                     "Message failed to send because more than 24 hours have passed since the "
                     "customer last replied to this number.")


def echo(to: str, wamid: str, body: str) -> dict[str, Any]:
    """A message the business sent from its own WhatsApp Business app (coexistence)."""
    return envelope(value(message_echoes=[{"from": BUSINESS_NUMBER, "to": to, "id": wamid,
                                           "timestamp": TS, "type": "text",
                                           "text": {"body": body}}]),
                    field="smb_message_echoes")


def username_only(user_id: str, wamid: str, body: str, name: str) -> dict[str, Any]:
    """A user with a username: Meta gives a business-scoped user id and no phone at all."""
    return envelope(value(
        contacts=[{"profile": {"name": name, "username": "@ana"}, "user_id": user_id}],
        messages=[{"from_user_id": user_id, "id": wamid, "timestamp": TS, "type": "text",
                   "text": {"body": body}}]))
