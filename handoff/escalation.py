"""Spotting a customer who asks for a person, whatever the case or accents."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

DEFAULT_PHRASES = (
    "atendente", "humano", "humana", "pessoa", "falar com alguem", "atendimento humano",
    "operador", "operadora", "gerente", "pessoa real", "ser humano", "falar com gente",
)


def normalise(text: str) -> str:
    """Lower case without accents and with single spaces, so phrases match as people type."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w\s]", " ", plain).split())


class EscalationDetector:
    """Matches whole words or phrases: "humano" matches, "desumano" does not."""

    def __init__(self, phrases: Iterable[str] = DEFAULT_PHRASES) -> None:
        words = sorted({normalise(p) for p in phrases if normalise(p)}, key=len, reverse=True)
        body = "|".join(re.escape(w) for w in words)
        self._pattern = re.compile(rf"(?<!\w)(?:{body})(?!\w)") if words else None

    def wants_person(self, text: str) -> bool:
        return bool(self._pattern and self._pattern.search(normalise(text)))
