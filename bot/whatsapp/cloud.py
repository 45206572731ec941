"""The Graph API client that sends text messages: one call, classified for retry or give-up.

Meta's answer is read by `error.code`, not by HTTP status: throttling (130429 throughput,
131056 pair rate, 4 and 80007 app/account limits) and 5xx are worth another try
(`RetryLater`); anything else (131047 outside the 24-hour window, a bad number, an expired
token) will fail again the same way and is `SendFailed`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
from aiohttp.payload import AsyncIterablePayload

from bot.background import RetryLater

WINDOW_EXPIRED = 131047
THROTTLED = frozenset({130429, 131056, 4, 80007})
#: Meta's limit on a text body; longer replies go out in parts.
MAX_TEXT = 4096
#: Meta's limit on a media caption.
MAX_CAPTION = 1024


class SendFailed(Exception):
    """Meta refused the message for good; `code` is Meta's error code (None if unreadable)."""

    def __init__(self, code: int | None, detail: str, status: int) -> None:
        super().__init__(f"HTTP {status} code {code}: {detail}")
        self.code = code
        self.detail = detail
        self.status = status


def _retry_after(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def chunks(text: str, size: int = MAX_TEXT) -> list[str]:
    """Split a long reply on line breaks (or hard, when a line is too long) to fit Meta's cap."""
    if len(text) <= size:
        return [text]
    out: list[str] = []
    rest = text
    while len(rest) > size:
        cut = rest.rfind("\n", 0, size)
        cut = cut if cut > 0 else size
        out.append(rest[:cut])
        rest = rest[cut:].lstrip("\n")
    if rest:
        out.append(rest)
    return out


class CloudClient:
    """`POST {api_url}/{phone_number_id}/messages` with the access token as Bearer."""

    def __init__(self, http: Callable[[], aiohttp.ClientSession], api_url: str,
                 phone_number_id: str, access_token: str, timeout: float = 15.0) -> None:
        self.http = http
        self.url = f"{api_url.rstrip('/')}/{phone_number_id}/messages"
        self.media_url = f"{api_url.rstrip('/')}/{phone_number_id}/media"
        self._auth = {"Authorization": f"Bearer {access_token}"}
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    async def send_text(self, address: str, text: str) -> str:
        """Send `text` to the customer Meta named `address`; the new message's wamid.

        A business-scoped user id (`BR.…`) goes in `recipient`, a phone number in `to`.
        """
        payload: dict[str, Any] = {
            "messaging_product": "whatsapp", "recipient_type": "individual", "type": "text",
            "text": {"body": text, "preview_url": False},
        }
        payload["recipient" if "." in address else "to"] = address
        return await self._post(self.url, json=payload)

    async def send_media(self, address: str, kind: str, media_id: str, *,
                         caption: str | None = None, filename: str | None = None) -> str:
        """Send an uploaded file as `kind` (image, audio, video, document); its wamid."""
        body: dict[str, Any] = {"id": media_id}
        if caption and kind in ("image", "video", "document"):
            body["caption"] = caption[:MAX_CAPTION]
        if filename and kind == "document":
            body["filename"] = filename
        payload: dict[str, Any] = {"messaging_product": "whatsapp",
                                   "recipient_type": "individual", "type": kind, kind: body}
        payload["recipient" if "." in address else "to"] = address
        return await self._post(self.url, json=payload)

    async def send_buttons(self, address: str, body: str,
                           buttons: list[tuple[str, str]]) -> str:
        """Reply buttons (at most three: id, title); its wamid."""
        payload: dict[str, Any] = {
            "messaging_product": "whatsapp", "recipient_type": "individual",
            "type": "interactive", "interactive": {
                "type": "button", "body": {"text": body[:1024]},
                "action": {"buttons": [{"type": "reply", "reply": {"id": i, "title": t[:20]}}
                                       for i, t in buttons[:3]]}}}
        payload["recipient" if "." in address else "to"] = address
        return await self._post(self.url, json=payload)

    async def send_template(self, address: str, name: str, language: str,
                            params: list[str]) -> str:
        """An approved template, its body's variables filled in order; its wamid."""
        template: dict[str, Any] = {"name": name, "language": {"code": language}}
        if params:
            template["components"] = [{"type": "body", "parameters": [
                {"type": "text", "text": p} for p in params]}]
        payload: dict[str, Any] = {"messaging_product": "whatsapp",
                                   "recipient_type": "individual", "type": "template",
                                   "template": template}
        payload["recipient" if "." in address else "to"] = address
        return await self._post(self.url, json=payload)

    async def upload(self, filename: str, mime_type: str, chunks: AsyncIterator[bytes]) -> str:
        """`POST /{phone-number-id}/media` (multipart, streamed): the new media id."""
        with aiohttp.MultipartWriter("form-data") as form:
            form.append("whatsapp").set_content_disposition("form-data",
                                                            name="messaging_product")
            form.append(mime_type).set_content_disposition("form-data", name="type")
            part = form.append_payload(AsyncIterablePayload(chunks, content_type=mime_type))
            part.set_content_disposition("form-data", name="file", filename=filename)
            return await self._post(self.media_url, data=form, key="id")

    async def _post(self, url: str, *, key: str = "messages", **body: Any) -> str:
        async with self.http().post(url, headers=self._auth, timeout=self._timeout,
                                    **body) as resp:
            status = resp.status
            retry_after = _retry_after(resp.headers.get("Retry-After"))
            try:
                data = await resp.json(content_type=None)
            except (ValueError, aiohttp.ContentTypeError):
                data = None
        answer: dict[str, Any] = data if isinstance(data, dict) else {}
        if status < 300:
            if key == "id":
                return str(answer.get("id", ""))
            messages = answer.get("messages")
            if isinstance(messages, list) and messages and isinstance(messages[0], dict):
                return str(messages[0].get("id", ""))
            return ""
        error = _obj(answer.get("error"))
        code = error.get("code") if isinstance(error.get("code"), int) else None
        detail = str(_obj(error.get("error_data")).get("details") or error.get("message")
                     or f"HTTP {status}")
        if status >= 500 or status == 429 or code in THROTTLED:
            raise RetryLater(f"graph HTTP {status} code {code}", after=retry_after)
        raise SendFailed(code, detail, status)
