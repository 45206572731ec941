"""The session record and its event log, as the contract's JSON shows them."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


class Mode(enum.StrEnum):
    """Who answers the customer: the bot, a person, or nobody yet (waiting for a person)."""

    AGENT = "agent"
    HUMAN = "human"
    PAUSED = "paused"


class Source(enum.StrEnum):
    """The channel a change came from, recorded in the history."""

    WHATSAPP = "whatsapp"
    REST = "rest"
    CLI = "cli"
    SLACK = "slack"
    MONITOR = "monitor"


#: Where the WhatsApp profile name is kept on a session's metadata.
PROFILE_NAME = "profile_name"


def iso(ts: float | None) -> str | None:
    """UTC ISO 8601 without an offset: the seed's monitor compares with `datetime.utcnow()`."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).replace(tzinfo=None).isoformat(timespec="microseconds")


@dataclass
class Session:
    """One customer's conversation state. Times are Unix seconds; `to_json` renders them."""

    phone: str
    mode: Mode = Mode.AGENT
    human_attendant: str | None = None
    created_at: float = 0.0
    updated_at: float = 0.0
    paused_at: float | None = None
    taken_at: float | None = None
    last_customer_message: float | None = None
    last_customer_text: str | None = None
    last_human_message: float | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    #: Messages each way since the customer last left the bot (the hand-back summary's counts).
    customer_messages: int = 0
    human_messages: int = 0

    @property
    def profile_name(self) -> str | None:
        """The customer's WhatsApp name, when a Cloud API message told us (metadata)."""
        name = self.metadata.get(PROFILE_NAME)
        return name.strip() or None if isinstance(name, str) else None

    def to_json(self) -> dict[str, Any]:
        return {
            "phone": self.phone,
            "mode": self.mode.value,
            "human_attendant": self.human_attendant,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
            "paused_at": iso(self.paused_at),
            "taken_at": iso(self.taken_at),
            "last_customer_message": iso(self.last_customer_message),
            "last_customer_text": self.last_customer_text,
            "last_human_message": iso(self.last_human_message),
            "metadata": dict(self.metadata),
        }


@dataclass(frozen=True)
class Event:
    """One line of a session's history: what changed, who did it, when and from where."""

    at: float
    event: str
    actor: str | None
    source: str
    from_mode: str | None = None
    to_mode: str | None = None
    #: Whom it was handed to (a transfer: `actor` passed it to `to`).
    to: str | None = None
    #: What an internal note says.
    text: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "at": iso(self.at),
            "event": self.event,
            "actor": self.actor,
            "source": self.source,
        }
        if self.from_mode is not None:
            out["from_mode"] = self.from_mode
        if self.to_mode is not None:
            out["to_mode"] = self.to_mode
        if self.to is not None:
            out["to"] = self.to
        if self.text is not None:
            out["text"] = self.text
        return out


@dataclass(frozen=True)
class Line:
    """One message of a session's transcript: who wrote it (`customer`, `agent`, `human`,
    `note`), when, and its text; `n` numbers the session's lines from 1, in order."""

    n: int
    at: float
    sender: str
    text: str
    attendant: str | None = None
    #: The file that came with it (kind, mime type, name, and the adapter's reference).
    media: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {"id": self.n, "at": iso(self.at), "sender": self.sender,
                "attendant": self.attendant, "text": self.text,
                "media": _media_json(self.media), "status": None}


def _media_json(media: dict[str, Any] | None) -> dict[str, Any] | None:
    """A line's file as the API shows it: `{"type", "mime_type", "filename", "caption"}`."""
    if not media:
        return None
    files = media.get("files")
    if isinstance(files, list):
        first = files[0] if files and isinstance(files[0], dict) else {}
        mime = first.get("mimetype")
        kind = str(mime).split("/")[0] if isinstance(mime, str) else "document"
        return {"type": kind if kind in ("image", "audio", "video") else "document",
                "mime_type": mime, "filename": first.get("name"),
                "caption": media.get("text") or None}
    return {"type": media.get("kind"), "mime_type": media.get("mime_type"),
            "filename": media.get("filename"), "caption": media.get("caption")}


#: Transcript senders beyond the message senders: an internal note, an approved template.
NOTE = "note"
TEMPLATE = "template"
