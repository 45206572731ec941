"""Redis store: every transition is one Lua script, so processes sharing Redis agree.

Layout under the prefix (default `handoff:`): `s:{phone}` session hash, `m:{phone}` metadata
hash (field -> JSON), `e:{phone}` event list (JSON), `t:{phone}` the last customer texts,
`i:{mode}` index zsets (agent scored by the customer's last message, human by `taken_at`,
paused by `paused_at`), `c:{key}` claims, `ob:{shard}` the outbox streams.

Constants the scripts share with Python (event kinds, history names, how many texts are kept)
are rendered into each script from the Python definitions, never copied by hand.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from importlib import resources
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from handoff.events import EVENT_TYPES, DomainEvent, Happening, encode
from handoff.machine import Inbound, Outcome, Reason, Sender, Step
from handoff.model import PROFILE_NAME, Event, Line, Mode, Session
from handoff.store.base import (
    ACTIVE_WINDOW_SECONDS,
    RECENT_TEXTS,
    TRANSCRIPT_MAX,
    Said,
    SessionStore,
    StoreUnavailable,
)
from handoff.store.redis_batch import Batcher, pack
from handoff.store.redis_outbox import RedisOutbox

_FIELDS = {
    "p": "phone", "m": "mode", "h": "human_attendant", "c": "created_at", "u": "updated_at",
    "pa": "paused_at", "ta": "taken_at", "lcm": "last_customer_message",
    "lct": "last_customer_text", "lhm": "last_human_message", "nc": "customer_messages",
    "nh": "human_messages",
}
_COUNTS = {"customer_messages", "human_messages"}
_TIMES = {"created_at", "updated_at", "paused_at", "taken_at", "last_customer_message",
          "last_human_message"}


def _table(name: str, values: Sequence[str]) -> str:
    return f"local {name} = {{" + ", ".join(f"{v} = {json.dumps(v)}" for v in values) + "}"


def _constants(transcript_max: int) -> str:
    """The Python constants the scripts use, as Lua."""
    return "\n".join([
        f"local TRANSCRIPT_MAX = {int(transcript_max)}",
        _table("MODE", [m.value for m in Mode]),
        _table("SENDER", [m.value for m in Sender]),
        _table("REASON", [r.value for r in Reason]),
        _table("OUTCOME", [o.value for o in Outcome]),
        _table("K", list(EVENT_TYPES)),
        _table("H", [h.value for h in Happening]),
        f"local RECENT_TEXTS = {RECENT_TEXTS}",
        f"local PROFILE_NAME = {json.dumps(PROFILE_NAME)}",
    ])


def _script(name: str, transcript_max: int) -> str:
    lua = resources.files("handoff.store") / "lua"
    return "\n".join([_constants(transcript_max), (lua / "prelude.lua").read_text(),
                      (lua / f"{name}.lua").read_text()])


def _event_args(events: Sequence[DomainEvent]) -> list[str]:
    out: list[str] = []
    for event in events:
        out += [event.kind, encode(event)]
    return out


def _said(said: Said) -> str:
    line = {"at": said.at, "sender": said.sender, "text": said.text,
            "attendant": said.attendant}
    if said.media:
        line["media"] = said.media
    return json.dumps(line, ensure_ascii=False)


def _transcript_line(raw: dict[str, Any]) -> Line:
    attendant, media = raw.get("attendant"), raw.get("media")
    return Line(int(raw["n"]), float(raw["at"]), str(raw.get("sender", "")),
                str(raw.get("text", "")), attendant if isinstance(attendant, str) else None,
                media if isinstance(media, dict) and media else None)


def _line(event: Event) -> str:
    line: dict[str, Any] = {"at": event.at, "event": event.event, "actor": event.actor,
                            "source": event.source}
    if event.text is not None:
        line["text"] = event.text
    return json.dumps(line, ensure_ascii=False)


def _pairs(flat: list[str]) -> dict[str, str]:
    return dict(zip(flat[::2], flat[1::2], strict=True))


def _session(fields: dict[str, str], meta: dict[str, str]) -> Session:
    kw: dict[str, Any] = {}
    for short, value in fields.items():
        name = _FIELDS.get(short)
        if name is None:
            continue
        kw[name] = float(value) if name in _TIMES else int(value) if name in _COUNTS else value
    kw["mode"] = Mode(kw.get("mode", "agent"))
    kw["metadata"] = {k: json.loads(v) for k, v in meta.items()}
    return Session(**kw)


def _meta_args(metadata: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for key, value in metadata.items():
        out += [key, json.dumps(value, ensure_ascii=False, separators=(",", ":"))]
    return out


class RedisStore(SessionStore):
    """Sessions in Redis through `redis.asyncio`; connection errors become `StoreUnavailable`.

    Every script call goes through a `Batcher`: calls made at about the same time share one
    connection and one write (each still its own `EVALSHA`), which is most of what a webhook
    request under load used to spend in redis-py.
    """

    kind = "redis"

    def __init__(self, url: str, prefix: str = "handoff:", dedupe_ttl: float | None = None,
                 client: aioredis.Redis | None = None, outbox: RedisOutbox | None = None,
                 transcript_max: int = TRANSCRIPT_MAX) -> None:
        # A blocking pool: past its size a call waits (bounded) for a connection instead of
        # failing, so a burst of traffic never turns into 503s while Redis is healthy.
        self.redis = client or aioredis.Redis(connection_pool=aioredis.BlockingConnectionPool
                                              .from_url(url, max_connections=256, timeout=5,
                                                        decode_responses=True, socket_timeout=5,
                                                        socket_connect_timeout=3))
        self.prefix = prefix
        self._batcher = Batcher(self.redis.connection_pool)
        self.outbox: RedisOutbox = outbox or RedisOutbox(self.redis, prefix)
        self._dedupe_ms = str(int(dedupe_ttl * 1000)) if dedupe_ttl else "0"
        self._scripts = {name: _script(name, transcript_max) for name in
                         ("ingest", "takeover", "release", "pause", "transfer", "metadata",
                          "record")}
        self._shas = {name: hashlib.sha1(src.encode()).hexdigest()
                      for name, src in self._scripts.items()}

    def _keys(self, phone: str) -> list[str]:
        p = self.prefix
        return [f"{p}s:{phone}", f"{p}m:{phone}", f"{p}e:{phone}",
                f"{p}i:agent", f"{p}i:human", f"{p}i:paused", self.outbox.stream_for(phone)]

    async def _eval(self, name: str, phone: str, now: float, args: list[str],
                    extra_keys: tuple[str, ...] = ()) -> Any:
        keys = [*self._keys(phone), *extra_keys]
        command = pack("EVALSHA", self._shas[name], len(keys), *keys, repr(now), phone, *args)
        try:
            try:
                return await self._batcher.call(command)
            except NoScriptError:
                await self.redis.script_load(self._scripts[name])
                return await self._batcher.call(command)
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            raise StoreUnavailable(str(exc)) from exc

    async def _run(self, name: str, phone: str, now: float, args: list[str],
                   extra_keys: tuple[str, ...] = ()) -> Step:
        raw = await self._eval(name, phone, now, args, extra_keys)
        outcome, previous, reason, fields, meta, logged = json.loads(raw)
        # cjson renders an empty HGETALL as {} rather than [].
        session = _session(_pairs(fields), _pairs(meta or [])) if fields else None
        event = Event(**json.loads(logged)) if logged else None
        return Step(Outcome(outcome), session, Mode(previous) if previous else None,
                    event, Reason(reason) if reason else None)

    async def ingest(self, msg: Inbound, now: float) -> Step:
        seen = f"{self.prefix}c:seen:{msg.phone}:{msg.message_id or ''}"
        args = [msg.sender.value, msg.text, msg.source, msg.attendant or "",
                _flag(msg.escalate), _flag(msg.message_id is not None), self._dedupe_ms,
                _flag(msg.deliver), msg.origin or "",
                json.dumps(msg.media, ensure_ascii=False) if msg.media else "",
                *_meta_args(msg.metadata)]
        return await self._run("ingest", msg.phone, now, args,
                               (seen, f"{self.prefix}t:{msg.phone}",
                                f"{self.prefix}x:{msg.phone}"))

    async def takeover(self, phone: str, attendant: str, force: bool, now: float,
                       source: str) -> Step:
        return await self._run("takeover", phone, now, [attendant, _flag(force), source])

    async def release(self, phone: str, attendant: str | None, force: bool, now: float,
                      source: str, idle_before: float | None = None) -> Step:
        idle = repr(idle_before) if idle_before is not None else ""
        return await self._run("release", phone, now,
                               [attendant or "", _flag(force), source, idle])

    async def pause(self, phone: str, actor: str | None, force: bool, now: float,
                    source: str) -> Step:
        return await self._run("pause", phone, now, [actor or "", _flag(force), source])

    async def transfer(self, phone: str, to: str, actor: str, expected: str | None,
                       force: bool, now: float, source: str) -> Step:
        return await self._run("transfer", phone, now,
                               [to, actor, expected or "", _flag(force), source])

    async def update_metadata(self, phone: str, metadata: dict[str, Any], now: float,
                              events: Sequence[DomainEvent] = ()) -> Session | None:
        args = [str(len(events)), *_event_args(events), *_meta_args(metadata)]
        return (await self._run("metadata", phone, now, args)).session

    async def record(self, phone: str, line: Event | None,
                     events: Sequence[DomainEvent] = (), *,
                     claim: tuple[str, float] | None = None,
                     said: Sequence[Said] = ()) -> bool:
        key, ttl = claim if claim is not None else ("", 0.0)
        args = [_line(line) if line is not None else "",
                str(max(1, int(ttl * 1000))) if claim is not None else "",
                str(len(said)), *(_said(s) for s in said), *_event_args(events)]
        at = line.at if line is not None else events[0].at if events else 0.0
        done = await self._eval("record", phone, at, args,
                                (f"{self.prefix}c:{key}", f"{self.prefix}x:{phone}"))
        return bool(done)

    async def transcript(self, phone: str, limit: int, before: int | None = None
                         ) -> list[Line] | None:
        key = f"{self.prefix}x:{phone}"
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.exists(f"{self.prefix}s:{phone}")
                pipe.lindex(key, 0)
                pipe.llen(key)
                exists, first, length = await pipe.execute()
            if not exists:
                return None
            if not first or limit <= 0:
                return []
            # Lines are numbered without gaps, so a number says where a line is in the list.
            end = length if before is None else min(length, before - json.loads(first)["n"])
            if end <= 0:
                return []
            raw = await self.redis.lrange(key, max(0, end - limit), end - 1)
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            raise StoreUnavailable(str(exc)) from exc
        return [_transcript_line(json.loads(r)) for r in raw]

    async def recent_texts(self, phone: str) -> list[str]:
        try:
            texts = await self.redis.lrange(f"{self.prefix}t:{phone}", 0, RECENT_TEXTS - 1)
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            raise StoreUnavailable(str(exc)) from exc
        return [str(t) for t in reversed(texts)]

    async def get(self, phone: str) -> Session | None:
        found = await self._load([phone])
        return found[0] if found else None

    async def _load(self, phones: list[str]) -> list[Session]:
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for phone in phones:
                    pipe.hgetall(f"{self.prefix}s:{phone}")
                    pipe.hgetall(f"{self.prefix}m:{phone}")
                raw = await pipe.execute()
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            raise StoreUnavailable(str(exc)) from exc
        return [_session(f, m) for f, m in zip(raw[::2], raw[1::2], strict=True) if f]

    async def list_active(self, now: float, mode: Mode | None = None) -> list[Session]:
        modes = [mode] if mode is not None else list(Mode)
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for m in modes:
                    low = now - ACTIVE_WINDOW_SECONDS if m is Mode.AGENT else "-inf"
                    pipe.zrangebyscore(f"{self.prefix}i:{m.value}", low, "+inf")
                found = await pipe.execute()
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            raise StoreUnavailable(str(exc)) from exc
        phones = [p for group in found for p in group]
        return await self._load(phones) if phones else []

    async def count_by_mode(self, now: float) -> dict[Mode, int]:
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.zcount(f"{self.prefix}i:agent", now - ACTIVE_WINDOW_SECONDS, "+inf")
                pipe.zcard(f"{self.prefix}i:human")
                pipe.zcard(f"{self.prefix}i:paused")
                agent, human, paused = await pipe.execute()
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            raise StoreUnavailable(str(exc)) from exc
        return {Mode.AGENT: agent, Mode.HUMAN: human, Mode.PAUSED: paused}

    async def history(self, phone: str) -> list[Event] | None:
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.exists(f"{self.prefix}s:{phone}")
                pipe.lrange(f"{self.prefix}e:{phone}", 0, -1)
                exists, raw = await pipe.execute()
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            raise StoreUnavailable(str(exc)) from exc
        if not exists:
            return None
        return [Event(**json.loads(line)) for line in raw]

    async def mark_recent(self, group: str, member: str, now: float, limit: int) -> None:
        key = f"{self.prefix}r:{group}"
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.zadd(key, {member: now})
                pipe.zremrangebyrank(key, 0, -(limit + 1))
                await pipe.execute()
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            raise StoreUnavailable(str(exc)) from exc

    async def recent_members(self, group: str, since: float) -> list[str]:
        try:
            found = await self.redis.zrangebyscore(f"{self.prefix}r:{group}", since, "+inf")
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            raise StoreUnavailable(str(exc)) from exc
        return [str(m) for m in found]

    async def ping(self) -> None:
        try:
            await self.redis.ping()
        except (RedisError, OSError) as exc:
            raise StoreUnavailable(str(exc)) from exc

    async def close(self) -> None:
        await self.redis.aclose()


def _flag(value: bool) -> str:
    return "1" if value else "0"
