"""The bot that answers customers in agent mode, reached over HTTP at `AGENT_URL`."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp

from handoff.model import Session
from handoff.summary import SUMMARY_KEY

log = logging.getLogger("handoff.agent")


class AgentError(Exception):
    """The agent answered with something we cannot read; the manager sends the fallback."""


class AgentClient:
    """`json` kind: `{"phone","message","session"}` -> `{"reply"}`; `rasa` kind: Rasa's REST
    channel (`{"sender","message"}` -> `[{"text"}, …]`). Bounded by `timeout` seconds."""

    def __init__(self, url: str, kind: str, timeout: float,
                 http: aiohttp.ClientSession) -> None:
        self.url = url
        self.kind = kind
        self.timeout = timeout
        self.http = http

    async def reply(self, session: Session, text: str) -> str:
        if self.kind == "rasa":
            body: dict[str, Any] = {"sender": session.phone, "message": text}
        else:
            state = session.to_json()
            if SUMMARY_KEY in session.metadata:
                state[SUMMARY_KEY] = session.metadata[SUMMARY_KEY]
            body = {"phone": session.phone, "message": text, "session": state}
        async with asyncio.timeout(self.timeout):
            async with self.http.post(self.url, json=body) as resp:
                if resp.status >= 400:
                    raise AgentError(f"HTTP {resp.status}")
                data = await resp.json(content_type=None)
        return self._read(data)

    def _read(self, data: Any) -> str:
        if self.kind == "rasa":
            if not isinstance(data, list):
                raise AgentError("rasa answer is not a list")
            parts = [m["text"] for m in data if isinstance(m, dict) and isinstance(
                m.get("text"), str)]
            if not parts:
                raise AgentError("rasa answer has no text")
            return "\n".join(parts)
        reply = data.get("reply") if isinstance(data, dict) else None
        if not isinstance(reply, str) or not reply:
            raise AgentError("json answer has no reply")
        return reply
