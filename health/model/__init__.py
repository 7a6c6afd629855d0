"""Relationship health from the conversation record alone (the model in HEALTH.md).

Two pure layers, no database:

1. `measure(history, now=..., settings=..., calendar=...)` turns an account's record (its
   messages, people and promises as plain values) into *inputs*: for each component the
   numbers behind it (counts, decayed counts, days), all JSON-able.
2. `evaluate(inputs, settings)` turns inputs into the seven components in [0, 1], each with
   its explanation sentence written from the same numbers, the caps that apply and why, the
   flags, the 0-100 score and its band (or "not enough conversation to judge").

The snapshot stores the inputs, so any score can be recomputed from what is stored and every
sentence can be traced to the messages behind it.

Choices beyond HEALTH.md (also in docs/decisions.md):
- Mutuality is one-sided on purpose: `bal = min(1, 2*I/(O+I))` and `ib = min(1, 2*init)`. A
  customer who writes more than we do, or starts most conversations, is not a warning sign;
  with the symmetric form a customer reply could lower mutuality, which nobody would trust.
- "Months" are 30-day periods counted back from now and "days" are whole days before now, so
  a score does not jump at calendar boundaries and shifting all times changes nothing.
- A turn's time is its first message's. Internal notes are no turn; a logged call or meeting
  is one turn from each side and a two-way exchange by itself.
- Out-of-office replies pause the quiet clocks (recency, continuity) until their next human
  turn, for at most 21 days, and latencies across one are not counted against them.
- A person has left from `left_company_on`, from an automated reply from their address
  saying they no longer work there, or from a hard bounce of mail to them, whichever is first.
  A hard bounce is a delivery report (RFC 3464) saying their mailbox or domain does not exist
  (status 5.1.x); a refusal (5.7.x), a full mailbox, a delay or a bounce in prose names no one.
  The caller puts these people in the event's `contact_ids` and sets `left_notice`.
- The monologue cap counts our *messages* (3+ in 60 days with no customer turn): unanswered
  nudges in one thread are one turn but still a monologue.
"""

from health.model.evaluate import (
    FUNCTIONS,
    Cap,
    Component,
    Health,
    band_of,
    breadth,
    commitments,
    continuity,
    evaluate,
    interactivity,
    mutuality,
    recency,
    responsiveness,
    what_changed,
)
from health.model.measure import Event, History, Person, Promise, measure, usual_gap
from health.model.settings import (
    AT_RISK,
    ATTENTION,
    BAND_LABELS,
    COMPONENTS,
    DAY,
    DEFAULT_WEIGHTS,
    FLAG_LABELS,
    HEALTHY,
    KEY_ROLES,
    LABELS,
    NOT_ENOUGH,
    ROLE_NAMES,
    ROLE_WEIGHTS,
    Calendar,
    CalendarDays,
    Settings,
)

__all__ = [
    "AT_RISK", "ATTENTION", "BAND_LABELS", "COMPONENTS", "DAY", "DEFAULT_WEIGHTS",
    "FLAG_LABELS", "FUNCTIONS", "HEALTHY", "KEY_ROLES", "LABELS", "NOT_ENOUGH", "ROLE_NAMES",
    "ROLE_WEIGHTS", "Calendar", "CalendarDays", "Cap", "Component", "Event", "Health",
    "History", "Person", "Promise", "Settings", "band_of", "breadth", "commitments",
    "continuity", "evaluate", "interactivity", "measure", "mutuality", "recency",
    "responsiveness", "usual_gap", "what_changed",
]  # fmt: skip
