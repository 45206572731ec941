"""Meta's Graph API played on 127.0.0.1: records what is sent, fails when told to.

Point `WHATSAPP_API_URL` at `FakeGraph.url`. `fail(...)` queues answers Meta gives when it
refuses a send (5xx, throttling 130429, the 24-hour window 131047, …), used up in order
before the fake goes back to accepting. `meta_signature` signs a body as Meta does, written
independently of the code under test.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
from collections import deque
from dataclasses import dataclass
from typing import Any

from aiohttp import BodyPartReader, web

ERROR_TITLES = {
    130429: "Rate limit hit",
    131056: "(Business Account, Consumer Account) pair rate limit hit",
    131047: "Re-engagement message",
    131026: "Message Undeliverable",
    190: "Error validating access token",
    132000: "Template Param Count Mismatch",
}


def meta_signature(app_secret: str, body: bytes) -> str:
    """`X-Hub-Signature-256` for `body`: `sha256=` + hex HMAC-SHA256 keyed by the app secret."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Sent:
    """One request the fake received (accepted or not)."""

    phone_number_id: str
    authorization: str | None
    body: dict[str, Any]
    accepted: bool
    wamid: str | None = None

    @property
    def to(self) -> str | None:
        return self.body.get("to") or self.body.get("recipient")

    @property
    def text(self) -> str | None:
        text = self.body.get("text")
        return text.get("body") if isinstance(text, dict) else None


@dataclass(frozen=True)
class Failure:
    status: int
    code: int | None
    retry_after: float | None = None


class FakeGraph:
    """`POST /{version}/{phone_number_id}/messages`, answered as the Cloud API answers."""

    def __init__(self, version: str = "v21.0") -> None:
        self.version = version
        self.requests: list[Sent] = []
        self._plan: deque[Failure] = deque()
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.url = ""
        #: Media the customer sent, by media id: (bytes, mime type); `media_failures[id]`
        #: makes that many downloads of it fail with a 500 first.
        self.media: dict[str, tuple[bytes, str]] = {}
        self.media_failures: dict[str, int] = {}
        self.downloads = 0
        #: Files uploaded to `POST /{phone-number-id}/media`: media id → (bytes, type, name).
        self.uploaded: dict[str, tuple[bytes, str, str]] = {}
        #: The account's templates, as `message_templates` lists them (two per page).
        self.templates: list[dict[str, Any]] = []
        self.template_lists = 0

    @property
    def sends(self) -> list[Sent]:
        """Only the messages Meta accepted: what reached the customer."""
        return [r for r in self.requests if r.accepted]

    def fail(self, *, status: int = 500, code: int | None = None, times: int = 1,
             retry_after: float | None = None) -> None:
        """The next `times` sends fail like this (`code` goes in Meta's `error.code`)."""
        self._plan.extend(Failure(status, code, retry_after) for _ in range(times))

    def window_expired(self, times: int = 1) -> None:
        self.fail(status=400, code=131047, times=times)

    def throttle(self, times: int = 1) -> None:
        self.fail(status=400, code=130429, times=times)

    async def start(self) -> FakeGraph:
        app = web.Application()
        app.router.add_post("/{version}/{phone_number_id}/messages", self._messages)
        app.router.add_get("/{version}/{media_id}", self._media_url)
        app.router.add_post("/{version}/{phone_number_id}/media", self._upload)
        app.router.add_get("/{version}/{waba_id}/message_templates", self._templates)
        app.router.add_get("/download/{media_id}", self._download)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}/{self.version}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _messages(self, request: web.Request) -> web.Response:
        body = await request.json()
        phone_number_id = request.match_info["phone_number_id"]
        auth = request.headers.get("Authorization")
        if self._plan:
            failure = self._plan.popleft()
            self.requests.append(Sent(phone_number_id, auth, body, False))
            return self._error(failure)
        if body.get("type") == "template" and not self._template_ok(body.get("template") or {}):
            self.requests.append(Sent(phone_number_id, auth, body, False))
            return self._error(Failure(400, 132000))
        wamid = f"wamid.OUT{next(self._ids):04d}"
        self.requests.append(Sent(phone_number_id, auth, body, True, wamid))
        to = body.get("to") or body.get("recipient")
        return web.json_response({
            "messaging_product": "whatsapp",
            "contacts": [{"input": to, "wa_id": to}],
            "messages": [{"id": wamid}],
        })

    async def _templates(self, request: web.Request) -> web.Response:
        self.template_lists += 1
        start = int(request.query.get("after") or 0)
        page = self.templates[start:start + 2]
        body: dict[str, Any] = {"data": page, "paging": {"cursors": {}}}
        if start + 2 < len(self.templates):
            body["paging"]["next"] = (f"{self.url}/{request.match_info['waba_id']}"
                                      f"/message_templates?after={start + 2}")
        return web.json_response(body)

    async def _upload(self, request: web.Request) -> web.Response:
        """A multipart upload (`messaging_product`, `type`, `file`): the new media id."""
        if not request.headers.get("Authorization", "").startswith("Bearer "):
            return web.json_response({"error": {"code": 190}}, status=401)
        fields: dict[str, Any] = {}
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                continue
            if part.name == "file":
                fields["file"] = (await part.read(), part.headers.get("Content-Type", ""),
                                  part.filename or "")
            else:
                fields[str(part.name)] = await part.text()
        if fields.get("messaging_product") != "whatsapp" or "file" not in fields:
            return web.json_response({"error": {"code": 100, "message": "bad upload"}},
                                     status=400)
        media_id = f"1003{next(self._ids):012d}"
        self.uploaded[media_id] = fields["file"]
        return web.json_response({"id": media_id})

    async def _media_url(self, request: web.Request) -> web.Response:
        """`GET /{media-id}`: where to download it (the URL needs the same token)."""
        media_id = request.match_info["media_id"]
        if not request.headers.get("Authorization", "").startswith("Bearer "):
            return web.json_response({"error": {"code": 190, "message": "no token"}},
                                     status=401)
        found = self.media.get(media_id)
        if found is None:
            return web.json_response({"error": {
                "message": "Unsupported get request.", "type": "GraphMethodException",
                "code": 100, "error_subcode": 33}}, status=400)
        data, mime = found
        base = self.url.rsplit("/", 1)[0]
        return web.json_response({
            "messaging_product": "whatsapp", "url": f"{base}/download/{media_id}",
            "mime_type": mime, "sha256": "0" * 64, "file_size": str(len(data)),
            "id": media_id})

    async def _download(self, request: web.Request) -> web.Response:
        media_id = request.match_info["media_id"]
        found = self.media.get(media_id)
        if found is None or not request.headers.get("Authorization", "").startswith("Bearer "):
            return web.Response(status=404)
        if self.media_failures.get(media_id, 0) > 0:
            self.media_failures[media_id] -= 1
            return web.Response(status=500)
        self.downloads += 1
        return web.Response(body=found[0], content_type=found[1].split(";")[0])

    def _template_ok(self, template: dict[str, Any]) -> bool:
        """Meta's check: an approved template whose body gets as many values as it has
        placeholders."""
        for t in self.templates:
            if (t.get("name") == template.get("name") and t.get("status") == "APPROVED"
                    and t.get("language") == (template.get("language") or {}).get("code")):
                body = next((c.get("text", "") for c in t.get("components", [])
                             if c.get("type") == "BODY"), "")
                want = body.count("{{")
                got = sum(len(c.get("parameters", [])) for c in template.get("components", [])
                          if c.get("type") == "body")
                return want == got
        return False

    def _error(self, failure: Failure) -> web.Response:
        headers = {}
        if failure.retry_after is not None:
            headers["Retry-After"] = str(failure.retry_after)
        if failure.code is None:
            return web.Response(status=failure.status, text="upstream error", headers=headers)
        title = ERROR_TITLES.get(failure.code, "Error")
        return web.json_response({"error": {
            "message": f"({failure.code}) {title}", "type": "OAuthException",
            "code": failure.code,
            "error_data": {"messaging_product": "whatsapp", "details": title},
            "fbtrace_id": "AfakeTrace"}}, status=failure.status, headers=headers)

    async def wait_sends(self, count: int, within: float = 10.0) -> list[Sent]:
        """Poll until at least `count` sends were accepted; a guard, not a timing assertion."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while len(self.sends) < count:
            if loop.time() > deadline:
                raise AssertionError(f"expected {count} sends, got {len(self.sends)}")
            await asyncio.sleep(0.02)
        return self.sends
