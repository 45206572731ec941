"""The account's approved message templates: listed from the Graph API, cached for minutes.

Outside the customer's 24-hour window only an approved template reaches them. Attendants pick
one in Slack; its body's `{{1}}`, `{{2}}`… are filled in order with what they type.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

log = logging.getLogger("handoff.whatsapp")

_VARIABLE = re.compile(r"\{\{\s*(\w+)\s*\}\}")
_TIMEOUT = aiohttp.ClientTimeout(total=5)


@dataclass(frozen=True)
class Template:
    name: str
    language: str
    body: str

    @property
    def key(self) -> str:
        """How a choice names it (one name has a translation per language)."""
        return f"{self.name}|{self.language}"

    @property
    def variables(self) -> int:
        return len(dict.fromkeys(_VARIABLE.findall(self.body)))

    def render(self, params: list[str]) -> str:
        """The body as the customer reads it."""
        names = list(dict.fromkeys(_VARIABLE.findall(self.body)))
        values = dict(zip(names, params, strict=False))
        return _VARIABLE.sub(lambda m: values.get(m.group(1), m.group(0)), self.body)


def _template(raw: Any) -> Template | None:
    if not isinstance(raw, dict) or raw.get("status") != "APPROVED":
        return None
    name, language = raw.get("name"), raw.get("language")
    if not isinstance(name, str) or not isinstance(language, str):
        return None
    body = next((c.get("text") for c in raw.get("components") or []
                 if isinstance(c, dict) and str(c.get("type")).upper() == "BODY"), "")
    return Template(name, language, body if isinstance(body, str) else "")


class Templates:
    """`GET {api}/{waba-id}/message_templates`, every page, approved ones only."""

    def __init__(self, http: Callable[[], aiohttp.ClientSession], api_url: str, waba_id: str,
                 token: str, *, ttl: float = 300.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.http = http
        self.url = f"{api_url.rstrip('/')}/{waba_id}/message_templates"
        self._auth = {"Authorization": f"Bearer {token}"}
        self.ttl = ttl
        self.clock = clock
        self._cached: tuple[list[Template], float] | None = None

    def cached(self) -> list[Template] | None:
        """What is known without asking Meta (a Slack answer cannot wait for it)."""
        if self._cached is None:
            return None
        return self._cached[0]

    async def list(self) -> list[Template]:
        if self._cached is not None and self.clock() - self._cached[1] < self.ttl:
            return self._cached[0]
        found: list[Template] = []
        url: str | None = self.url
        params: dict[str, str] | None = {"fields": "name,language,status,category,components",
                                         "limit": "100"}
        while url:
            async with self.http().get(url, headers=self._auth, params=params,
                                       timeout=_TIMEOUT) as resp:
                data = await resp.json(content_type=None)
                if resp.status >= 300 or not isinstance(data, dict):
                    raise RuntimeError(f"message_templates: HTTP {resp.status}")
            found += [t for t in map(_template, data.get("data") or []) if t is not None]
            paging = data.get("paging") or {}
            nxt = paging.get("next") if isinstance(paging, dict) else None
            url, params = (nxt, None) if isinstance(nxt, str) else (None, None)
        self._cached = (found, self.clock())
        return found

    def find(self, key: str) -> Template | None:
        for template in self.cached() or []:
            if template.key == key:
                return template
        return None
