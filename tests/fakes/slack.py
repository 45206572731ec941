"""A Slack Web API on 127.0.0.1 that records every call, for tests of anything that talks to Slack.

    fake = FakeSlack(users={"U0ANA": "ana@empresa.com"})
    await fake.start()                  # fake.api_url → SLACK_API_URL
    fake.fail("chat.postMessage", status=429, times=1, retry_after=1)
    ...
    await fake.wait_for("chat.postMessage")  # bounded wait for calls to arrive
    await fake.close()

It also serves `response_url`s (`fake.response_url()`, posts land in `fake.responses`),
Socket Mode (`apps.connections.open` hands out a WebSocket on this server), and the module
has helpers to build and sign requests exactly as Slack signs them (`signed_headers`).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

from aiohttp import WSMsgType, web

# --------------------------------------------------------------------------- requests to us


def signature(secret: str, timestamp: str | int, body: bytes) -> str:
    """Slack's `v0` signature: HMAC-SHA256 over `v0:{timestamp}:{raw body}`."""
    base = b"v0:" + str(timestamp).encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signed_headers(secret: str, body: bytes, *, timestamp: int | None = None,
                   content_type: str = "application/x-www-form-urlencoded",
                   retry: int | None = None) -> dict[str, str]:
    """The headers Slack sends with `body` (a retry carries `X-Slack-Retry-Num`)."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": ts,
               "X-Slack-Signature": signature(secret, ts, body)}
    if retry is not None:
        headers["X-Slack-Retry-Num"] = str(retry)
        headers["X-Slack-Retry-Reason"] = "http_timeout"
    return headers


_ids = itertools.count(1)


def command_body(command: str, text: str, *, user: str, response_url: str,
                 channel: str = "C0SUPORTE", trigger_id: str | None = None) -> bytes:
    """A slash command as Slack posts it (form-encoded)."""
    return urlencode({
        "token": "legacy", "team_id": "T0TEST", "team_domain": "empresa",
        "channel_id": channel, "channel_name": "suporte", "user_id": user,
        "user_name": user.lower(), "command": command, "text": text, "api_app_id": "A0HANDOFF",
        "is_enterprise_install": "false", "response_url": response_url,
        "trigger_id": trigger_id or f"{next(_ids)}.1.trigger"}).encode()


def action_payload(action_id: str, value: str, *, user: str, channel: str, message_ts: str,
                   response_url: str, trigger_id: str | None = None) -> dict[str, Any]:
    """A `block_actions` payload for a button click on a message."""
    now = f"{time.time():.6f}"
    return {
        "type": "block_actions", "api_app_id": "A0HANDOFF", "token": "legacy",
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": "T0TEST"},
        "team": {"id": "T0TEST", "domain": "empresa"},
        "container": {"type": "message", "message_ts": message_ts, "channel_id": channel,
                      "is_ephemeral": False},
        "channel": {"id": channel, "name": "suporte"},
        "message": {"type": "message", "ts": message_ts, "bot_id": "B0BOT", "text": "card"},
        "trigger_id": trigger_id or f"{next(_ids)}.2.trigger", "response_url": response_url,
        "actions": [{"action_id": action_id, "block_id": "handoff_actions", "value": value,
                     "type": "button", "action_ts": now,
                     "text": {"type": "plain_text", "text": action_id}}],
        "state": {"values": {}},
    }


def form_payload(payload: dict[str, Any]) -> bytes:
    """Interactivity is a form with one field, `payload`, holding the JSON."""
    return urlencode({"payload": json.dumps(payload)}).encode()


def event_body(event: dict[str, Any], *, event_id: str | None = None) -> bytes:
    """An Events API `event_callback` (JSON)."""
    return json.dumps({
        "token": "legacy", "team_id": "T0TEST", "api_app_id": "A0HANDOFF",
        "type": "event_callback", "event_id": event_id or f"Ev{next(_ids):08d}",
        "event_time": int(time.time()), "event": event,
        "authorizations": [{"enterprise_id": None, "team_id": "T0TEST", "user_id": "U0BOT",
                            "is_bot": True, "is_enterprise_install": False}],
    }).encode()


# --------------------------------------------------------------------------- the fake API


#: `Call.status` of a call swallowed by `FakeSlack.stall`.
STALLED = -1


@dataclass
class Call:
    """One request the fake received: the method (or response id) and its parameters."""

    method: str
    params: dict[str, Any]
    headers: dict[str, str]
    status: int = 200


@dataclass
class _Failure:
    status: int
    times: int
    retry_after: str | None
    error: str | None
    #: Only calls whose parameters this accepts fail (None: every call).
    when: Callable[[dict[str, Any]], bool] | None = None


@dataclass
class Message:
    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    thread_ts: str | None = None
    reply_broadcast: bool = False
    #: Files shared with the message (`files.completeUploadExternal`): name, title, bytes.
    files: list[dict[str, Any]] = field(default_factory=list)


class FakeSlack:
    """The Slack Web API, recorded. `calls[method]` holds the ones answered 200."""

    def __init__(self, *, token: str = "xoxb-test", app_token: str = "xapp-test",
                 users: dict[str, str | None] | None = None, team: str = "T0TEST",
                 bot_user: str = "U0BOT") -> None:
        self.token = token
        self.app_token = app_token
        self.users: dict[str, str | None] = dict(users or {})
        self.team = team
        self.bot_user = bot_user
        self.calls: dict[str, list[Call]] = defaultdict(list)
        self.requests: list[Call] = []
        self.responses: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.messages: dict[tuple[str, str], Message] = {}
        self.homes: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.sockets: list[web.WebSocketResponse] = []
        self.socket_acks: list[dict[str, Any]] = []
        self._failures: dict[str, list[_Failure]] = defaultdict(list)
        self._holds: dict[str, asyncio.Event] = {}
        #: Users (of `users`) that are bots, as `users.info` says.
        self.bots: set[str] = set()
        #: Who is `active` (`users.getPresence`); everyone else is `away`.
        self.active: set[str] = set()
        #: User groups' members (`usergroups.users.list`).
        self.groups: dict[str, list[str]] = {}
        #: Files uploaded through `files.getUploadURLExternal`'s URLs: id → name, length, bytes.
        self.uploads: dict[str, dict[str, Any]] = {}
        #: Files people shared, served at `url_private_download` to the bot token: id → (bytes,
        #: mime type).
        self.hosted: dict[str, tuple[bytes, str]] = {}
        self._stalls: dict[str, int] = defaultdict(int)
        self._unstall = asyncio.Event()
        self._down: int | None = None
        self._ts = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.url = ""

    # ---- lifecycle

    async def start(self) -> FakeSlack:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_post("/response/{key}", self._response)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/files-pri/{file_id}/{name}", self._file)
        app.router.add_get("/socket", self._socket)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def close(self) -> None:
        for hold in self._holds.values():
            hold.set()
        self._unstall.set()
        for ws in list(self.sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    def response_url(self, key: str | None = None) -> str:
        return f"{self.url}/response/{key or next(_ids)}"

    # ---- behaviour

    def fail(self, method: str, *, status: int = 429, times: int = 1,
             retry_after: float | None = 1, error: str | None = None,
             when: Callable[[dict[str, Any]], bool] | None = None) -> None:
        """Answer the next `times` calls of `method` with `status` (429 with `Retry-After`).

        With `status=200` and `error`, answer `{"ok": false, "error": error}` instead. With
        `when`, only calls whose parameters it accepts fail (one step of several).
        """
        after = None if retry_after is None else str(retry_after)
        self._failures[method].append(_Failure(status, times, after, error, when))

    def hold(self, method: str) -> asyncio.Event:
        """Calls of `method` wait until the returned event is set (a slow or hung Slack)."""
        self._holds[method] = asyncio.Event()
        return self._holds[method]

    def stall(self, method: str, *, times: int = 1) -> None:
        """The next `times` calls of `method` are never answered and never take effect: the
        caller hangs in the call as if Slack were stuck (unlike `hold`, whose calls take
        effect once released, even when their caller has died meanwhile)."""
        self._stalls[method] += times

    def stalled(self, method: str) -> int:
        """How many calls of `method` were swallowed by `stall`."""
        return sum(1 for c in self.requests if c.method == method and c.status == STALLED)

    def down(self, status: int = 500) -> None:
        """Answer every Web API call with `status` (and no effect) until `up()`."""
        self._down = status

    def up(self) -> None:
        self._down = None

    # ---- assertions

    def top_level(self, channel: str | None = None) -> list[Message]:
        """Messages posted to a channel (not in a thread), oldest first."""
        return [m for m in self.messages.values()
                if m.thread_ts is None and (channel is None or m.channel == channel)]

    def thread(self, channel: str, ts: str) -> list[Message]:
        return [m for m in self.messages.values() if m.channel == channel and m.thread_ts == ts]

    def waiting(self, method: str) -> int:
        """How many calls of `method` are being held right now."""
        return sum(1 for c in self.requests if c.method == method and c.status == 0)

    async def wait_for(self, method: str, count: int = 1, *, within: float = 10.0
                       ) -> list[Call]:
        """The first `count` answered calls of `method`, waiting (bounded) for them."""
        await self.until(lambda: len(self.calls[method]) >= count, within=within,
                         what=f"{count} × {method}")
        return self.calls[method]

    async def until(self, check: Any, *, within: float = 10.0, what: str = "condition") -> Any:
        """Poll `check()` until truthy; `within` only guards against hanging."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while not (value := check()):
            if loop.time() > deadline:
                raise AssertionError(f"fake Slack: {what} not seen in {within}s; "
                                     f"got {[c.method for c in self.requests]}")
            await asyncio.sleep(0.02)
        return value

    # ---- handlers

    async def _params(self, request: web.Request) -> dict[str, Any]:
        raw = await request.read()
        if request.content_type == "application/json":
            data = json.loads(raw or b"{}")
            return data if isinstance(data, dict) else {}
        params: dict[str, Any] = dict(parse_qsl(raw.decode(), keep_blank_values=True))
        return params

    def _failure(self, method: str, params: dict[str, Any]) -> _Failure | None:
        queue = self._failures.get(method)
        if not queue:
            return None
        failure = queue[0]
        if failure.when is not None and not failure.when(params):
            return None
        failure.times -= 1
        if failure.times <= 0:
            queue.pop(0)
        return failure

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        call = Call(method, await self._params(request), dict(request.headers), status=0)
        self.requests.append(call)
        if self._down is not None:
            call.status = self._down
            return web.json_response({"ok": False}, status=self._down)
        if self._stalls.get(method, 0) > 0:
            self._stalls[method] -= 1
            call.status = STALLED
            await self._unstall.wait()  # only `close()` lets it go, unanswered
            return web.json_response({"ok": False, "error": "stalled"}, status=503)
        hold = self._holds.get(method)
        if hold is not None:
            await hold.wait()
        failure = self._failure(method, call.params)
        if failure is not None and failure.error is None:
            call.status = failure.status
            headers = {"Retry-After": failure.retry_after} if failure.retry_after else {}
            return web.json_response({"ok": False, "error": "ratelimited"}
                                     if failure.status == 429 else {"ok": False},
                                     status=failure.status, headers=headers)
        call.status = 200
        expected = self.app_token if method == "apps.connections.open" else self.token
        if request.headers.get("Authorization") != f"Bearer {expected}":
            return web.json_response({"ok": False, "error": "invalid_auth"})
        if failure is not None:
            return web.json_response({"ok": False, "error": failure.error})
        self.calls[method].append(call)
        return web.json_response(self._answer(method, call.params))

    def _answer(self, method: str, p: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {"ok": True, "url": "https://empresa.slack.com/", "team": "Empresa",
                    "team_id": self.team, "user": "handoff", "user_id": self.bot_user,
                    "bot_id": "B0BOT"}
        if method == "chat.postMessage":
            ts = f"{1767225600 + next(self._ts)}.000100"
            channel = str(p.get("channel"))
            self.messages[(channel, ts)] = Message(
                channel, ts, str(p.get("text", "")), list(p.get("blocks") or []),
                p.get("thread_ts"), bool(p.get("reply_broadcast")))
            return {"ok": True, "channel": channel, "ts": ts,
                    "message": {"type": "message", "text": p.get("text"), "ts": ts}}
        if method == "chat.update":
            key = (str(p.get("channel")), str(p.get("ts")))
            if key not in self.messages:
                return {"ok": False, "error": "message_not_found"}
            msg = self.messages[key]
            msg.text, msg.blocks = str(p.get("text", "")), list(p.get("blocks") or [])
            return {"ok": True, "channel": key[0], "ts": key[1], "text": msg.text}
        if method == "views.publish":
            view = p.get("view")
            if not isinstance(view, dict) or view.get("type") != "home":
                return {"ok": False, "error": "invalid_arguments"}
            if len(view.get("blocks") or []) > 100:
                return {"ok": False, "error": "invalid_blocks"}
            self.homes[str(p.get("user_id"))].append(view)
            return {"ok": True, "view": {"id": f"V{next(self._ts):08d}", **view}}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": f"{time.time():.6f}"}
        if method == "users.info":
            user = str(p.get("user"))
            if user not in self.users:
                return {"ok": False, "error": "user_not_found"}
            profile = {"real_name": user.lower()}
            if self.users[user]:
                profile["email"] = str(self.users[user])
            return {"ok": True, "user": {"id": user, "name": user.lower(), "profile": profile,
                                         "deleted": False, "is_bot": user in self.bots}}
        if method == "users.getPresence":
            user = str(p.get("user"))
            if user not in self.users:
                return {"ok": False, "error": "user_not_found"}
            return {"ok": True, "presence": "active" if user in self.active else "away"}
        if method == "usergroups.users.list":
            group = str(p.get("usergroup"))
            if group not in self.groups:
                return {"ok": False, "error": "no_such_subteam"}
            return {"ok": True, "users": list(self.groups[group])}
        if method == "conversations.open":
            user = str(p.get("users"))
            if user not in self.users:
                return {"ok": False, "error": "user_not_found"}
            return {"ok": True, "channel": {"id": "D" + user.removeprefix("U")}}
        if method == "users.lookupByEmail":
            for user, email in self.users.items():
                if email and email == p.get("email"):
                    return {"ok": True, "user": {"id": user, "name": user.lower()}}
            return {"ok": False, "error": "users_not_found"}
        if method == "files.getUploadURLExternal":
            length = int(str(p.get("length") or 0))
            if not p.get("filename") or length <= 0:
                return {"ok": False, "error": "missing_argument"}
            file_id = f"F{next(self._ts):08d}"
            self.uploads[file_id] = {"name": str(p["filename"]), "length": length, "data": None}
            return {"ok": True, "upload_url": f"{self.url}/upload/{file_id}",
                    "file_id": file_id}
        if method == "files.completeUploadExternal":
            files = p.get("files")
            files = json.loads(files) if isinstance(files, str) else files
            shared = []
            for f in files or []:
                upload = self.uploads.get(str(f.get("id")))
                if upload is None or upload["data"] is None:
                    return {"ok": False, "error": "file_not_found"}
                shared.append({"id": f["id"], "title": f.get("title") or upload["name"],
                               "name": upload["name"], "data": upload["data"]})
            channel = str(p.get("channel_id"))
            ts = f"{1767225600 + next(self._ts)}.000100"
            self.messages[(channel, ts)] = Message(
                channel, ts, str(p.get("initial_comment") or ""), [], p.get("thread_ts"),
                files=shared)
            return {"ok": True, "files": [{"id": f["id"], "title": f["title"]}
                                          for f in shared]}
        if method == "chat.getPermalink":
            channel, ts = str(p.get("channel")), str(p.get("message_ts"))
            if (channel, ts) not in self.messages:
                return {"ok": False, "error": "message_not_found"}
            return {"ok": True, "channel": channel, "permalink":
                    f"https://empresa.slack.com/archives/{channel}/p{ts.replace('.', '')}"}
        if method == "apps.connections.open":
            return {"ok": True, "url": self.url.replace("http://", "ws://") + "/socket"}
        return {"ok": True}

    def share(self, file_id: str, name: str, data: bytes, mime: str) -> dict[str, Any]:
        """Host a file as if someone posted it; the `files[]` entry Slack's event carries."""
        self.hosted[file_id] = (data, mime)
        return {"id": file_id, "name": name, "title": name, "mimetype": mime,
                "filetype": name.rsplit(".", 1)[-1], "size": len(data), "mode": "hosted",
                "url_private": f"{self.url}/files-pri/{file_id}/{name}",
                "url_private_download": f"{self.url}/files-pri/{file_id}/{name}",
                "file_access": "visible"}

    async def _file(self, request: web.Request) -> web.Response:
        """`url_private_download`: the bytes for the bot token, Slack's login page otherwise."""
        found = self.hosted.get(request.match_info["file_id"])
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return web.Response(text="<html>Slack login</html>", content_type="text/html")
        if found is None:
            return web.Response(status=404)
        return web.Response(body=found[0], content_type=found[1])

    async def _upload(self, request: web.Request) -> web.Response:
        """Step 2 of an external upload: the bytes, to the URL step 1 gave (no token)."""
        upload = self.uploads.get(request.match_info["file_id"])
        if upload is None:
            return web.Response(status=404)
        data = await request.read()
        if len(data) != upload["length"]:
            return web.Response(status=400, text="length mismatch")
        upload["data"] = data
        self.requests.append(Call("upload", {"length": len(data)}, dict(request.headers), 200))
        return web.Response(text="OK - " + str(len(data)))

    async def _response(self, request: web.Request) -> web.Response:
        key = request.match_info["key"]
        body = await self._params(request)
        call = Call(f"response:{key}", body, dict(request.headers), status=0)
        self.requests.append(call)
        failure = self._failure("response_url", body)
        if failure is not None:
            call.status = failure.status
            headers = {"Retry-After": failure.retry_after} if failure.retry_after else {}
            return web.Response(status=failure.status, text="rate_limited", headers=headers)
        call.status = 200
        self.responses[key].append(body)
        self.calls["response_url"].append(call)
        return web.Response(text="ok")

    # ---- Socket Mode

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self.sockets.append(ws)
        await ws.send_json({"type": "hello", "num_connections": 1,
                            "connection_info": {"app_id": "A0HANDOFF"}})
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                self.socket_acks.append(json.loads(msg.data))
        if ws in self.sockets:
            self.sockets.remove(ws)
        return ws

    async def send_envelope(self, kind: str, payload: dict[str, Any], *,
                            retry_attempt: int = 0) -> str:
        """Deliver `payload` over Socket Mode as Slack does; returns the envelope id."""
        await self.until(lambda: self.sockets, what="a Socket Mode connection")
        envelope_id = f"env-{next(_ids)}"
        await self.sockets[-1].send_json({
            "envelope_id": envelope_id, "type": kind, "payload": payload,
            "accepts_response_payload": kind != "events_api", "retry_attempt": retry_attempt,
            "retry_reason": "" if not retry_attempt else "timeout"})
        return envelope_id
