"""Meta's `X-Hub-Signature-256`: HMAC-SHA256 of the exact received bytes with the app secret."""

from __future__ import annotations

import hashlib
import hmac

HEADER = "X-Hub-Signature-256"
_PREFIX = "sha256="


def sign(app_secret: str, body: bytes) -> str:
    """The header value Meta sends for `body`: `sha256=<lowercase hex>`."""
    return _PREFIX + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def valid(app_secret: str, body: bytes, header: str | None) -> bool:
    """True when `header` is Meta's signature of these very bytes (constant-time compare).

    Checked over the raw body before any parsing: re-serialised JSON would not match.
    """
    if not header or not header.startswith(_PREFIX):
        return False
    given = header[len(_PREFIX):].strip().lower()
    expected = sign(app_secret, body)[len(_PREFIX):]
    # surrogateescape: a header that is not UTF-8 (aiohttp keeps its bytes so) is a mismatch.
    return hmac.compare_digest(given.encode("utf-8", "surrogateescape"), expected.encode())
