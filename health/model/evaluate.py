"""Layer 2: measured numbers -> components with their sentences, caps, flags, score, band."""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass
from typing import Any

from health.model.settings import (
    AT_RISK,
    ATTENTION,
    BAND_LABELS,
    COMPONENTS,
    HEALTHY,
    LABELS,
    NOT_ENOUGH,
    ROLE_NAMES,
    Settings,
)


def _clamp(value: float) -> float:
    return min(1.0, max(0.0, value))


def _n(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


def _ago(days: float | None) -> str:
    if days is None:
        return "never"
    whole = round(days)
    return "today" if whole == 0 else f"{_n(whole, 'day')} ago"


def mutuality(i: dict[str, Any]) -> tuple[float, str]:
    o, t = i["ours_decayed"], i["theirs_decayed"]
    balance = min(1.0, 2 * t / (o + t)) if o + t > 0 else 0.0
    conversations = i["conversations"]
    initiative = min(1.0, 2 * i["started_by_them"] / conversations) if conversations else 1.0
    sentence = (
        f"We sent {_n(i['ours_turns'], 'turn')}, they sent {i['theirs_turns']} in 12 months; "
        f"they started {i['started_by_them']} of {_n(conversations, 'conversation')} "
        "in 6 months."
    )
    return _clamp(0.7 * balance + 0.3 * initiative), sentence


def interactivity(i: dict[str, Any]) -> tuple[float, str]:
    value = i["decayed_two_way"] / i["decayed_total"] if i["decayed_total"] > 0 else 0.0
    verb = "was" if i["two_way"] == 1 else "were"
    sentence = f"{i['two_way']} of {_n(i['conversations'], 'recent conversation')} {verb} two-way."
    return _clamp(value), sentence


def continuity(i: dict[str, Any]) -> tuple[float, str]:
    active = i["active_months"] / 12
    gap, usual = i["days_since_exchange"], i["usual_gap_days"]
    if gap is None:
        quiet = 0.0
    else:
        m = max(usual or 14.0, 1.0)
        quiet = 1.0 if gap <= 2 * m else 2.0 ** (-(gap - 2 * m) / m)
    sentence = f"Contact in {i['active_months']} of the last 12 months"
    if gap is None:
        sentence += "; no two-way exchange yet."
    else:
        sentence += f"; {round(gap)} days since the last exchange"
        sentence += f" vs the usual {round(usual)}." if usual is not None else "."
        if i["paused_days"] >= 1:
            sentence = (
                sentence[:-1] + f" (not counting {round(i['paused_days'])} days out of office)."
            )
    return _clamp(0.6 * active + 0.4 * quiet), sentence


def breadth(i: dict[str, Any]) -> tuple[float, str]:
    people = 1 - math.exp(-i["role_weight"] / 4)
    coverage = i["key_active"] / i["key_tagged"] if i["key_tagged"] else 0.5
    value = 0.5 * people + 0.3 * coverage + 0.2 * (1 - i["hhi"])
    engaged, total = i["engaged"], i["people"]
    if engaged == 0:
        sentence = f"None of {_n(total, 'person', 'people')} engaged in 90 days"
    else:
        sentence = (
            f"{'Only ' if engaged == 1 and total > 1 else ''}{engaged} of "
            f"{_n(total, 'person', 'people')} engaged in 90 days"
        )
    if i["silent_key"]:
        first = i["silent_key"][0]
        role = ROLE_NAMES.get(first["role"], first["role"])
        sentence += (
            f"; the {role} never in a two-way exchange"
            if first["days"] is None
            else f"; the {role} silent for {round(first['days'])} days"
        )
    return _clamp(value), sentence + "."


def responsiveness(i: dict[str, Any]) -> tuple[float, str]:
    ours = i["decayed_answered"] / i["decayed_total"] if i["decayed_total"] > 0 else 1.0
    m12, m60 = i["their_median_12m"], i["their_median_60d"]
    theirs = _clamp(m12 / m60) if m12 is not None and m60 else 1.0
    target = i["reply_target_days"]
    within = "a business day" if target == 1 else f"{target:g} business days"
    sentence = (
        f"We answered {i['answered_in_target']} of {_n(i['customer_turns'], 'customer turn')}"
        f" within {within}"
    )
    if i["waiting"]:
        sentence += (
            f"; {i['waiting']} still waiting, oldest {i['oldest_waiting_days']:.0f} business days"
        )
    if m12 is not None and m60:
        sentence += f"; they reply in {m60:.1f} days lately vs {m12:.1f} over the year"
    return _clamp(0.7 * ours + 0.3 * theirs), sentence + "."


def commitments(i: dict[str, Any]) -> tuple[float, str]:
    on_time, late, overdue = i["on_time"], i["late"], i["overdue"]
    value = (on_time + 0.5 * late + 3) / (on_time + late + overdue + 4)
    sentence = f"{on_time} kept on time, {late} late, {overdue} overdue"
    if overdue:
        due = datetime.date.fromisoformat(i["oldest_overdue_due"])
        sentence += f": '{i['oldest_overdue_text']}', due {due:%a %d %b}"
    if i["theirs_total"]:
        sentence += f". They kept {i['theirs_kept']} of {_n(i['theirs_total'], 'promise')}"
    return _clamp(value), sentence + "."


def recency(i: dict[str, Any]) -> tuple[float, str]:
    days = i["days_since_exchange"]
    if days is None:
        return 0.0, "No two-way exchange in the last year."
    scale = max(14.0, i["usual_gap_days"] or 0.0)
    return _clamp(2.0 ** (-days / scale)), f"Last two-way exchange {_ago(days)}."


FUNCTIONS = {
    "mutuality": mutuality,
    "interactivity": interactivity,
    "continuity": continuity,
    "breadth": breadth,
    "responsiveness": responsiveness,
    "commitments": commitments,
    "recency": recency,
}


@dataclass(frozen=True)
class Component:
    key: str
    value: float
    weight: float
    sentence: str

    @property
    def label(self) -> str:
        return LABELS[self.key]

    @property
    def percent(self) -> int:
        return round(self.value * 100)


@dataclass(frozen=True)
class Cap:
    limit: int
    reason: str
    cause: str  # overdue, waiting or monologue

    @property
    def component(self) -> str:
        """The component whose evidence shows the cause."""
        return {"overdue": "commitments", "waiting": "responsiveness"}.get(self.cause, "mutuality")

    def as_json(self) -> dict[str, Any]:
        return {"limit": self.limit, "reason": self.reason, "cause": self.cause}


@dataclass(frozen=True)
class Health:
    score: int | None  # None: not enough conversation to judge
    band: str
    components: list[Component]
    caps: list[Cap]
    flags: list[str]
    uncapped: int

    @property
    def band_label(self) -> str:
        return BAND_LABELS[self.band]

    def component(self, key: str) -> Component:
        return next(c for c in self.components if c.key == key)


def band_of(score: int | None, settings: Settings) -> str:
    if score is None:
        return NOT_ENOUGH
    if score >= settings.healthy_from:
        return HEALTHY
    return ATTENTION if score >= settings.attention_from else AT_RISK


def evaluate(inputs: dict[str, Any], settings: Settings | None = None) -> Health:
    """Components, caps, flags, score and band from measured inputs alone."""
    settings = settings or Settings()
    total_weight = sum(settings.weights.get(key, 0.0) for key in COMPONENTS) or 1.0
    components = []
    for key in COMPONENTS:
        value, sentence = FUNCTIONS[key](inputs[key])
        components.append(
            Component(key, value, settings.weights.get(key, 0.0) / total_weight, sentence)
        )
    uncapped = round(100 * sum(c.weight * c.value for c in components))

    caps = []
    c, r, g = inputs["commitments"], inputs["responsiveness"], inputs["gate"]
    if (
        c["oldest_overdue_days"] is not None
        and c["oldest_overdue_days"] > settings.overdue_cap_days
    ):
        caps.append(
            Cap(69, f"Our promise '{c['oldest_overdue_text']}' is "
                    f"{round(c['oldest_overdue_days'])} days overdue.", "overdue")
        )  # fmt: skip
    if (
        r["oldest_waiting_days"] is not None
        and r["oldest_waiting_days"] > settings.waiting_cap_days
    ):
        caps.append(
            Cap(
                69,
                f"A customer has waited {r['oldest_waiting_days']:.0f} business days for us.",
                "waiting",
            )
        )
    monologue = g["theirs_turns_60"] == 0 and g["ours_messages_60"] >= 3
    if monologue:
        caps.append(
            Cap(49, f"A monologue: we sent {g['ours_messages_60']} messages in 60 days "
                    "and they sent none.", "monologue")
        )  # fmt: skip

    b, rec = inputs["breadth"], inputs["recency"]
    flags = []
    if monologue:
        flags.append("monologue")
    if b["engaged"] == 1 and b["people"] > 1:
        flags.append("single_threaded")
    if b["silent_key"]:
        flags.append("key_person_silent")
    if b["left_recently"]:
        flags.append("person_left")
    if c["overdue"]:
        flags.append("promise_overdue")
    days = rec["days_since_exchange"]
    if days is None or days > max(14.0, 3 * (rec["usual_gap_days"] or 0.0)):
        flags.append("gone_quiet")

    if g["exchanges_180"] < settings.min_exchanges:
        return Health(None, NOT_ENOUGH, components, caps, flags, uncapped)
    score = min([uncapped, *(cap.limit for cap in caps)])
    return Health(score, band_of(score, settings), components, caps, flags, uncapped)


def what_changed(
    now: dict[str, float], before: dict[str, float], weights: dict[str, float], top: int = 3
) -> list[tuple[str, float]]:
    """The components whose weighted change moved the score most: (key, points), biggest first."""
    total = sum(weights.get(k, 0.0) for k in COMPONENTS) or 1.0
    deltas = [
        (k, 100 * weights.get(k, 0.0) / total * (now[k] - before[k]))
        for k in COMPONENTS
        if k in now and k in before
    ]
    deltas = [d for d in deltas if abs(d[1]) >= 0.5]
    return sorted(deltas, key=lambda d: -abs(d[1]))[:top]
