"""Phone canonicalisation: one customer, one key, however WhatsApp or a relay spells it."""

from __future__ import annotations

import re

_NON_DIGITS = re.compile(r"[^0-9]")
#: A business-scoped user id, as Meta sends for users with a username ("BR.1503…").
_USER_ID = re.compile(r"^[A-Z]{2}\.[A-Za-z0-9]{1,64}$")


class InvalidPhone(ValueError):
    """Not a phone number this service can key a session by."""


def canonical_phone(raw: str | int) -> str:
    """Digits only; a Brazilian mobile without its ninth digit gets it back.

    `+55 (31) 99999-9999` and `553199999999` are both `5531999999999`. Fewer than 8 or
    more than 15 digits is not a phone. A business-scoped user id is kept as it is.
    """
    text = str(raw).strip()
    if _USER_ID.match(text):
        return text
    if len(text) > 64 or not re.fullmatch(r"[0-9 ()+.\-]+", text, re.ASCII):
        raise InvalidPhone(text[:64])
    digits = _NON_DIGITS.sub("", text)
    if not 8 <= len(digits) <= 15:
        raise InvalidPhone(digits)
    # 55 + two-digit area code + an 8-digit mobile (starting 6-9) lost its leading 9.
    if len(digits) == 12 and digits.startswith("55") and digits[4] in "6789":
        digits = digits[:4] + "9" + digits[4:]
    return digits
