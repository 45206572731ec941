"""What became of one message to a customer, whichever way it went."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class NotSent(enum.StrEnum):
    """Why a message did not reach the customer (adapters word it for people)."""

    REFUSED = "refused"              # Meta refused it (`code`, `detail`)
    UNREACHABLE = "unreachable"      # Meta could not be reached, after retries
    WINDOW_CLOSED = "window_closed"  # Meta's 131047: the 24-hour window has closed
    RELAY_FAILED = "relay_failed"    # the integrator's relay refused it or could not be reached
    NO_CHANNEL = "no_channel"        # neither the Cloud API nor a relay is configured
    TOO_LARGE = "too_large"          # a file over HANDOFF_MEDIA_MAX_BYTES
    DROPPED = "dropped"              # a bot reply overtaken by a person taking over


@dataclass(frozen=True)
class Delivery:
    """Sent (with Meta's id when the Cloud API took it), or why not."""

    sent: bool
    wamid: str | None = None
    reason: NotSent | None = None
    code: int | None = None
    detail: str = ""
