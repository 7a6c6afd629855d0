"""Reading numbers people and scripts put in query strings, without a server error."""

from __future__ import annotations

import re

_WHOLE_NUMBER = re.compile(r"[0-9]{1,18}")


def whole_number(raw: str) -> int | None:
    """A whole number in plain digits that fits the database's bigint; None for anything else.

    Not `str.isdigit()` and `int()`: "²" is a digit to the first and not to the second, and
    `int()` refuses more than 4,300 digits, so both would be server errors rather than a 400.
    """
    return int(raw) if _WHOLE_NUMBER.fullmatch(raw) else None
