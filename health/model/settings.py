"""What the model can be tuned by, and the names it uses for components, bands and flags."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any, Protocol

DAY = datetime.timedelta(days=1)
COMPONENTS = (
    "mutuality",
    "interactivity",
    "continuity",
    "breadth",
    "responsiveness",
    "commitments",
    "recency",
)
LABELS = {
    "mutuality": "Mutuality",
    "interactivity": "Interactivity",
    "continuity": "Continuity",
    "breadth": "Breadth",
    "responsiveness": "Responsiveness",
    "commitments": "Commitments kept",
    "recency": "Recency",
}
DEFAULT_WEIGHTS = {
    "mutuality": 0.15,
    "interactivity": 0.10,
    "continuity": 0.15,
    "breadth": 0.15,
    "responsiveness": 0.15,
    "commitments": 0.20,
    "recency": 0.10,
}
ROLE_WEIGHTS = {"decision_maker": 3.0, "influencer": 2.0, "champion": 2.0}
KEY_ROLES = frozenset(ROLE_WEIGHTS)
ROLE_NAMES = {
    "decision_maker": "decision maker",
    "influencer": "influencer",
    "champion": "champion",
}
OUT_OF_OFFICE_MAX_DAYS = 21.0

HEALTHY, ATTENTION, AT_RISK, NOT_ENOUGH = "healthy", "attention", "at_risk", "not_enough"
BAND_LABELS = {
    HEALTHY: "Healthy",
    ATTENTION: "Needs attention",
    AT_RISK: "At risk",
    NOT_ENOUGH: "Not enough conversation to judge",
}
FLAG_LABELS = {
    "monologue": "Monologue",
    "single_threaded": "Single-threaded",
    "key_person_silent": "Key person silent",
    "person_left": "Person left",
    "promise_overdue": "Promise overdue",
    "gone_quiet": "Gone quiet",
}


@dataclass(frozen=True)
class Settings:
    """Everything tunable, with the documented defaults (health.models.HealthSettings)."""

    weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    half_life_days: float = 45.0
    reply_target_days: float = 1.0  # business days (the organisation's reply target)
    waiting_cap_days: float = 3.0  # business days a customer may wait before the cap
    overdue_cap_days: float = 7.0  # days a promise of ours may be overdue before the cap
    min_exchanges: int = 4  # two-way exchanges in 180 days before we judge at all
    healthy_from: int = 70
    attention_from: int = 50

    def as_json(self) -> dict[str, Any]:
        return {
            "weights": self.weights,
            "half_life_days": self.half_life_days,
            "reply_target_days": self.reply_target_days,
            "waiting_cap_days": self.waiting_cap_days,
            "overdue_cap_days": self.overdue_cap_days,
            "min_exchanges": self.min_exchanges,
            "healthy_from": self.healthy_from,
            "attention_from": self.attention_from,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Settings:
        return cls(**data)


class Calendar(Protocol):
    def between(self, start: datetime.datetime, end: datetime.datetime) -> float: ...


class CalendarDays:
    """Every hour counts: for tests and organisations without business hours."""

    def between(self, start: datetime.datetime, end: datetime.datetime) -> float:
        return max(0.0, (end - start) / DAY)
