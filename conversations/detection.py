"""Placeholder replaced by the detection branch."""

import enum
import re


class TurnIntent(enum.Enum):
    ASKS = "asks"
    SETTLES = "settles"
    STATES = "states"


_THANKS = re.compile(
    r"^\W*(thanks?|thank you|cheers|great|perfect|got it|noted|sounds good)\W*$", re.I
)


def turn_intent(text: str) -> TurnIntent:
    if "?" in text or re.search(r"let me know|could you|can you", text, re.I):
        return TurnIntent.ASKS
    if _THANKS.match(text.strip()):
        return TurnIntent.SETTLES
    return TurnIntent.STATES


def suggest_commitments(text, *, written_at, tz, from_us):  # type: ignore[no-untyped-def]
    return []
