"""Slack's message markup turned into what WhatsApp shows, so a reply reads as it was meant.

Slack sends a message's `text` with its own escapes: links as `<https://…|label>`, people as
`<@U…>`, channels as `<#C…|name>`, special mentions as `<!here>`, and `&`, `<`, `>` escaped.
Bold (`*x*`), italic (`_x_`), strike (`~x~`) and code (`` `x` ``) are written the same way on
WhatsApp, so they pass as they are.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

_TOKEN = re.compile(r"<([^<>]*)>")
_SPECIAL = {"here": "@here", "channel": "@channel", "everyone": "@everyone"}

#: The name Slack shows for a user id (None when unknown).
NameOf = Callable[[str], Awaitable[str | None]]


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


async def _token(body: str, name_of: NameOf) -> str:
    target, _, label = body.partition("|")
    if target.startswith("@"):
        name = await name_of(target[1:]) or label or target[1:]
        return "@" + name.lstrip("@")
    if target.startswith("#"):
        return "#" + (label or "canal")
    if target.startswith("!"):
        keyword = target[1:].split("^", 1)[0]
        if keyword in _SPECIAL:
            return _SPECIAL[keyword]
        return label or ""
    for scheme in ("mailto:", "tel:"):
        if target.startswith(scheme):
            return label or target[len(scheme):]
    if label and label != target:
        return f"{label} ({target})"
    return target


async def to_whatsapp(text: str, name_of: NameOf) -> str:
    """`text` as an attendant wrote it in Slack, in WhatsApp's terms."""
    out: list[str] = []
    last = 0
    for match in _TOKEN.finditer(text):
        out.append(_unescape(text[last:match.start()]))
        out.append(_unescape(await _token(match.group(1), name_of)))
        last = match.end()
    out.append(_unescape(text[last:]))
    return "".join(out)
