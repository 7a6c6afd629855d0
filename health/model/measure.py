"""Layer 1: an account's record (plain values) -> the numbers behind every component."""

from __future__ import annotations

import dataclasses
import datetime
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from statistics import median
from typing import Any

from health.model.settings import (
    DAY,
    KEY_ROLES,
    OUT_OF_OFFICE_MAX_DAYS,
    ROLE_WEIGHTS,
    Calendar,
    CalendarDays,
    Settings,
)


@dataclass(frozen=True)
class Event:
    """One message of an account: what measure() needs and nothing else."""

    id: int
    conversation_id: int
    at: datetime.datetime
    direction: str  # inbound, outbound or internal
    kind: str = "email"  # email, call, meeting, note
    # The sender (inbound), who took part (call, meeting), or whose address bounced (a bounce).
    contact_ids: tuple[int, ...] = ()
    automated: bool = False
    out_of_office: bool = False
    # `contact_ids` have left: an automated reply saying its sender no longer works there ("no
    # longer with the company"), or a hard bounce of mail to them (their mailbox is gone).
    left_notice: bool = False


@dataclass(frozen=True)
class Person:
    id: int
    influence: str = "none"
    left_at: datetime.datetime | None = None  # when they left the company (left_company_on)


@dataclass(frozen=True)
class Promise:
    id: int
    conversation_id: int
    owed_by: str  # us or them
    text: str
    due_at: datetime.datetime | None
    state: str = "open"  # open, kept (others are no promise for health)
    kept_at: datetime.datetime | None = None
    created_at: datetime.datetime | None = None
    due_on: datetime.date | None = None  # the day as the member entered it (for sentences)


@dataclass
class History:
    events: Sequence[Event]
    people: Sequence[Person] = ()
    promises: Sequence[Promise] = ()
    # Conversations whose last customer turn a member or the record says is waiting on us now
    # (Conversation.state). For a day in the past, an in-turn answered later was waiting then.
    awaiting_us: frozenset[int] = frozenset()


@dataclass(frozen=True)
class _Turn:
    conversation_id: int
    side: str  # in, out or both (a call or meeting)
    at: datetime.datetime
    message_id: int
    contact_ids: frozenset[int]
    ago: float  # days before the `now` measured at


def _days(now: datetime.datetime, at: datetime.datetime) -> float:
    return (now - at) / DAY


def _turns(events: Iterable[Event], now: datetime.datetime) -> dict[int, list[_Turn]]:
    """Human turns per conversation: consecutive messages of one side collapse into one."""
    by_conversation: dict[int, list[Event]] = {}
    for event in events:
        if event.automated or event.direction == "internal" or event.kind == "note":
            continue
        by_conversation.setdefault(event.conversation_id, []).append(event)
    turns: dict[int, list[_Turn]] = {}
    for conversation_id, items in by_conversation.items():
        items.sort(key=lambda e: (e.at, e.id))
        out: list[_Turn] = []
        for e in items:
            side = (
                "both"
                if e.kind in {"call", "meeting"}
                else ("in" if e.direction == "inbound" else "out")
            )
            if out and side != "both" and out[-1].side == side:
                last = out[-1]
                out[-1] = _Turn(
                    conversation_id, side, last.at, last.message_id,
                    last.contact_ids | frozenset(e.contact_ids), last.ago,
                )  # fmt: skip
            else:
                out.append(
                    _Turn(
                        conversation_id, side, e.at, e.id, frozenset(e.contact_ids),
                        (now - e.at) / DAY,
                    )
                )  # fmt: skip
        turns[conversation_id] = out
    return turns


def _median(values: list[float]) -> float | None:
    return float(median(values)) if values else None


def usual_gap(gaps: list[float]) -> float | None:
    """The gap a day picked at random falls into (the length-weighted median of the gaps).

    A plain median of a quarterly account's gaps is a couple of days (the busy days inside each
    quarter); the silence a relationship usually sits in is the long one.
    """
    if not gaps:
        return None
    ordered = sorted(gaps)
    half, running = sum(ordered) / 2, 0.0
    for gap in ordered:
        running += gap
        if running >= half:
            return gap
    return ordered[-1]


def _pauses(events: Sequence[Event], now: datetime.datetime) -> list[tuple[float, float]]:
    """Out-of-office periods as (days ago start, days ago end), end < start."""
    human_in = sorted(
        e.at for e in events if not e.automated and e.direction == "inbound" and e.at <= now
    )
    periods = []
    for e in events:
        if e.out_of_office and e.at <= now:
            end = min(e.at + OUT_OF_OFFICE_MAX_DAYS * DAY, now)
            for at in human_in:
                if at > e.at:
                    end = min(end, at)
                    break
            periods.append((_days(now, e.at), _days(now, end)))
    return periods


def _paused_within(periods: list[tuple[float, float]], since_days: float) -> float:
    """Days of out-of-office pause inside the last `since_days` days (overlaps counted once)."""
    spans = sorted(
        (max(end, 0.0), min(start, since_days))
        for start, end in periods
        if min(start, since_days) > max(end, 0.0)
    )
    total, reach = 0.0, -math.inf
    for lo, hi in spans:
        lo = max(lo, reach)
        if hi > lo:
            total += hi - lo
        reach = max(reach, hi)
    return total


def measure(
    history: History,
    *,
    now: datetime.datetime,
    settings: Settings | None = None,
    calendar: Calendar | None = None,
) -> dict[str, Any]:
    """The numbers behind every component, as of `now` (only what had happened by then)."""
    settings = settings or Settings()
    calendar = calendar or CalendarDays()
    half_life = settings.half_life_days

    def w(turn: _Turn) -> float:
        return 2.0 ** (-turn.ago / half_life)

    all_turns = _turns(history.events, now)  # includes turns after `now`: did a reply come later?
    turns = {cid: [t for t in ts if 0 <= t.ago <= 365] for cid, ts in all_turns.items()}
    turns = {cid: ts for cid, ts in turns.items() if ts}
    flat = [t for ts in turns.values() for t in ts]

    # Two-way exchanges: a change of side inside a conversation, or a call or meeting.
    exchanges: list[_Turn] = []
    engaged_at: dict[int, datetime.datetime] = {}  # person -> their last two-way exchange
    for ts in turns.values():
        for i, t in enumerate(ts):
            previous = ts[i - 1] if i else None
            following = ts[i + 1] if i + 1 < len(ts) else None
            if t.side == "both" or (previous and previous.side not in {t.side, "both"}):
                exchanges.append(t)
            two_way = t.side == "both" or any(
                n is not None and n.side not in {t.side, "both"} for n in (previous, following)
            )
            if two_way and t.side in {"in", "both"}:
                for person in t.contact_ids:
                    engaged_at[person] = max(engaged_at.get(person, t.at), t.at)
    exchanges.sort(key=lambda t: t.at)
    last_exchange = exchanges[-1] if exchanges else None
    pauses = _pauses(history.events, now)

    exchange_days = sorted({math.floor(t.ago) for t in exchanges}, reverse=True)
    gaps = [float(a - b) for a, b in zip(exchange_days, exchange_days[1:], strict=False)]
    usual = usual_gap(gaps)
    since_exchange = None
    paused = 0.0
    if last_exchange is not None:
        raw = last_exchange.ago
        paused = _paused_within(pauses, raw)
        since_exchange = max(0.0, raw - paused)

    # Mutuality: decayed turns of each side; who starts recent conversations.
    ours = sum(w(t) for t in flat if t.side in {"out", "both"})
    theirs = sum(w(t) for t in flat if t.side in {"in", "both"})
    started = [ts[0] for ts in all_turns.values() if ts[0].side != "both" and 0 <= ts[0].ago <= 180]
    mutuality = {
        "ours_turns": sum(1 for t in flat if t.side in {"out", "both"}),
        "theirs_turns": sum(1 for t in flat if t.side in {"in", "both"}),
        "ours_decayed": ours,
        "theirs_decayed": theirs,
        "conversations": len(started),
        "started_by_them": sum(1 for t in started if t.side == "in"),
    }

    # Interactivity: recent conversations with a turn from each side, recent ones weigh more.
    recent = {cid: ts for cid, ts in turns.items() if ts[-1].ago <= 180}
    two_way_ids = [
        cid
        for cid, ts in recent.items()
        if any(t.side == "both" for t in ts) or len({t.side for t in ts}) > 1
    ]
    interactivity = {
        "conversations": len(recent),
        "two_way": len(two_way_ids),
        "decayed_total": sum(w(ts[-1]) for ts in recent.values()),
        "decayed_two_way": sum(w(recent[cid][-1]) for cid in two_way_ids),
    }

    continuity = {
        "active_months": len({int(t.ago // 30) for t in exchanges if t.ago < 360}),
        "days_since_exchange": since_exchange,
        "usual_gap_days": usual,
        "paused_days": paused,
    }

    # Breadth: who at the account took part in a two-way exchange lately, at which level.
    # Someone has left from the day it was recorded, or from an automated "no longer with
    # the company" reply from their address, whichever came first.
    notices: dict[int, datetime.datetime] = {}
    for e in history.events:
        if e.left_notice and e.at <= now:
            for pid in e.contact_ids:
                notices[pid] = min(notices.get(pid, e.at), e.at)
    people = [
        dataclasses.replace(p, left_at=min(filter(None, (p.left_at, notices[p.id]))))
        if p.id in notices
        else p
        for p in history.people
    ]
    present = [p for p in people if p.left_at is None or p.left_at > now]
    present_ids = {p.id for p in present}
    engaged_90 = {
        pid for pid, at in engaged_at.items() if _days(now, at) <= 90 and pid in present_ids
    }
    influence = {p.id: p.influence for p in people}
    key = [p for p in present if p.influence in KEY_ROLES]
    turn_counts: dict[int, int] = {}
    for t in flat:
        if t.side in {"in", "both"} and t.ago <= 90:
            for person in t.contact_ids:
                turn_counts[person] = turn_counts.get(person, 0) + 1
    total_turns = sum(turn_counts.values())
    silent_key = sorted(
        (
            (
                None if p.id not in engaged_at else round(_days(now, engaged_at[p.id]), 1),
                p.influence,
                p.id,
            )
            for p in key
            if p.id not in engaged_at or _days(now, engaged_at[p.id]) > 60
        ),
        key=lambda item: (item[0] is not None, -(item[0] or 0)),
    )
    breadth = {
        "people": len(present),
        "engaged": len(engaged_90),
        "role_weight": sum(ROLE_WEIGHTS.get(influence.get(pid, "none"), 1.0) for pid in engaged_90),
        "key_tagged": len(key),
        "key_active": sum(1 for p in key if p.id in engaged_90),
        "hhi": (sum((n / total_turns) ** 2 for n in turn_counts.values()) if total_turns else 1.0),
        "silent_key": [
            {"days": days, "role": role, "contact_id": pid} for days, role, pid in silent_key
        ],
        "left_recently": sum(
            1 for p in people if p.left_at is not None and 0 <= _days(now, p.left_at) <= 90
        ),
    }

    # Responsiveness: how soon we answer their turns; how their reply time moves.
    target = settings.reply_target_days
    # Replies within this many wall-clock days are within the target whatever the calendar.
    quick = target * (getattr(calendar, "day_length", DAY) / DAY)
    answered = answered_w = total = total_w = 0.0
    waiting: list[tuple[float, int]] = []
    latencies_12m: list[float] = []
    latencies_60d: list[float] = []
    ooo_by_conversation: dict[int, list[datetime.datetime]] = {}
    for e in history.events:
        if e.out_of_office:
            ooo_by_conversation.setdefault(e.conversation_id, []).append(e.at)
    for cid, ts in all_turns.items():
        for i, t in enumerate(ts):
            if t.at > now:
                break
            following = ts[i + 1] if i + 1 < len(ts) else None
            if (
                t.side == "out"
                and following
                and following.side in {"in", "both"}
                and following.at <= now
                and following.ago <= 365
            ):
                crossed_ooo = any(
                    t.at < at < following.at for at in ooo_by_conversation.get(cid, ())
                )
                if not crossed_ooo:
                    latency = (following.at - t.at) / DAY
                    latencies_12m.append(latency)
                    if following.ago <= 60:
                        latencies_60d.append(latency)
            if t.side != "in" or t.ago > 180:
                continue
            if following is not None and following.at <= now:
                # Business time never exceeds wall time: a quick reply needs no calendar.
                ok = t.ago - following.ago <= quick or (
                    calendar.between(t.at, following.at) <= target
                )
            elif following is not None or cid in history.awaiting_us:
                waited = calendar.between(t.at, now)
                waiting.append((waited, cid))
                if waited <= target:
                    continue  # not late yet
                ok = False
            else:
                continue  # settled without a reply ("thanks")
            total += 1
            total_w += w(t)
            answered += ok
            answered_w += w(t) if ok else 0.0
    waiting.sort(reverse=True)
    responsiveness = {
        "customer_turns": int(total),
        "answered_in_target": int(answered),
        "decayed_total": total_w,
        "decayed_answered": answered_w,
        "reply_target_days": target,
        "waiting": sum(1 for waited, _ in waiting if waited > target),
        "oldest_waiting_days": round(waiting[0][0], 2) if waiting else None,
        "oldest_waiting_conversation": waiting[0][1] if waiting else None,
        "their_median_12m": _median(latencies_12m),
        "their_median_60d": _median(latencies_60d),
    }

    # Commitments: our promises due in the last 180 days (and any kept early).
    on_time = late = 0
    overdue: list[tuple[float, Promise]] = []
    theirs_total = theirs_kept = 0
    for p in history.promises:
        if p.due_at is None or p.state not in {"open", "kept"}:
            continue
        if p.created_at is not None and p.created_at > now:
            continue
        kept = p.state == "kept" and p.kept_at is not None and p.kept_at <= now
        due_days = _days(now, p.due_at)
        counted = 0 <= due_days <= 180 or (
            kept and due_days < 0 and p.kept_at is not None and _days(now, p.kept_at) <= 180
        )
        if not counted:
            continue
        if p.owed_by == "them":
            theirs_total += 1
            theirs_kept += kept
        elif kept and p.kept_at is not None:
            if p.kept_at <= p.due_at:
                on_time += 1
            else:
                late += 1
        elif due_days > 0:
            overdue.append((due_days, p))
    overdue.sort(key=lambda item: -item[0])
    commitments = {
        "on_time": on_time,
        "late": late,
        "overdue": len(overdue),
        "oldest_overdue_days": round(overdue[0][0], 2) if overdue else None,
        "oldest_overdue_text": overdue[0][1].text if overdue else "",
        "oldest_overdue_due": _due_day(overdue[0][1]) if overdue else "",
        "oldest_overdue_conversation": overdue[0][1].conversation_id if overdue else None,
        "theirs_kept": theirs_kept,
        "theirs_total": theirs_total,
    }

    recency = {
        "days_since_exchange": since_exchange,
        "usual_gap_days": usual,
        "last_exchange_conversation": last_exchange.conversation_id if last_exchange else None,
    }

    recent_60 = [
        e
        for e in history.events
        if not e.automated and e.direction != "internal" and e.kind != "note"
        and e.at <= now and _days(now, e.at) <= 60
    ]  # fmt: skip
    gate = {
        "exchanges_180": sum(1 for t in exchanges if t.ago <= 180),
        "ours_messages_60": sum(1 for e in recent_60 if e.direction == "outbound"),
        "theirs_turns_60": sum(
            1 for e in recent_60 if e.direction == "inbound" or e.kind in {"call", "meeting"}
        ),
    }
    return {
        "mutuality": mutuality,
        "interactivity": interactivity,
        "continuity": continuity,
        "breadth": breadth,
        "responsiveness": responsiveness,
        "commitments": commitments,
        "recency": recency,
        "gate": gate,
    }


def _due_day(promise: Promise) -> str:
    day = promise.due_on or (promise.due_at.date() if promise.due_at else None)
    return day.isoformat() if day else ""
