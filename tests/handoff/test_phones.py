from __future__ import annotations

import pytest

from handoff.escalation import EscalationDetector
from handoff.phones import InvalidPhone, canonical_phone


@pytest.mark.parametrize(("raw", "key"), [
    ("5531999999999", "5531999999999"),
    ("+55 (31) 99999-9999", "5531999999999"),
    ("553199999999", "5531999999999"),
    ("551133334444", "551133334444"),  # a landline keeps its 8 digits
    (5531999999999, "5531999999999"),
    ("12345678", "12345678"),
    ("123456789012345", "123456789012345"),
    ("BR.1503ABCdef", "BR.1503ABCdef"),
])
def test_canonical(raw: str | int, key: str) -> None:
    assert canonical_phone(raw) == key


@pytest.mark.parametrize("raw", ["1234567", "1234567890123456", "", "abc12345678",
                                 "../../etc/passwd", "５５３１９９９９９９９９９",
                                 "5531 9999\n9999x"])
def test_invalid(raw: str) -> None:
    with pytest.raises(InvalidPhone):
        canonical_phone(raw)


def test_custom_phrases() -> None:
    d = EscalationDetector(["quero gente"])
    assert d.wants_person("QUERO   gente!")
    assert not d.wants_person("atendente")
    assert not EscalationDetector([]).wants_person("atendente")
