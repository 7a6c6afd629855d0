"""The health model without a database: labelled archetypes, monotonicity and invariance."""

from __future__ import annotations

import dataclasses
import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from health import model
from organisations.calendar import BusinessCalendar
from tests.health.archetypes import ARCHETYPES, DAY, NOW, Record

WEEKDAYS = BusinessCalendar(
    tz=ZoneInfo("UTC"),
    starts=datetime.time(9),
    ends=datetime.time(17),
    workdays=frozenset({1, 2, 3, 4, 5}),
)


def health_of(history: model.History, now: datetime.datetime = NOW, **kwargs) -> model.Health:  # type: ignore[no-untyped-def]
    return model.evaluate(model.measure(history, now=now, **kwargs))


@pytest.mark.parametrize("name", list(ARCHETYPES))
def test_each_archetype_lands_in_its_band_with_the_flags_that_explain_it(name: str) -> None:
    archetype = ARCHETYPES[name]
    health = health_of(archetype.build().history(), calendar=WEEKDAYS)
    assert health.band == archetype.band, (health.score, health.uncapped, health.caps)
    assert archetype.flags <= set(health.flags)
    assert not archetype.not_flags & set(health.flags)


def test_a_monologue_is_capped_at_49_and_says_why() -> None:
    health = health_of(ARCHETYPES["monologue"].build().history())
    assert health.score == 49 < health.uncapped
    assert health.caps[0].reason == "A monologue: we sent 5 messages in 60 days and they sent none."


def test_an_overdue_promise_caps_an_otherwise_healthy_account_at_69() -> None:
    health = health_of(ARCHETYPES["broken promises"].build().history())
    assert health.uncapped >= 70 and health.score == 69
    assert health.caps[0].reason == "Our promise 'Pricing for Ops' is 18 days overdue."
    assert health.component("commitments").sentence == (
        "4 kept on time, 1 late, 3 overdue: 'Pricing for Ops', due Sat 30 May."
    )


def test_a_customer_waiting_past_three_business_days_caps_at_69() -> None:
    record = ARCHETYPES["healthy multi-threaded"].build()
    cid = record.conversation()
    record.message(cid, 6, "inbound", record.people[0].id)  # last Thursday noon
    record.awaiting_us.add(cid)
    health = health_of(record.history(), calendar=WEEKDAYS)
    assert health.score == 69
    assert health.caps[0].reason == "A customer has waited 4 business days for us."
    assert "1 still waiting, oldest 4 business days" in health.component("responsiveness").sentence


def test_out_of_office_pauses_the_quiet_clocks() -> None:
    away = ARCHETYPES["out of office"].build()
    without = dataclasses.replace(away, events=[e for e in away.events if not e.out_of_office])
    paused, unpaused = health_of(away.history()), health_of(without.history())
    assert paused.component("recency").value > unpaused.component("recency").value
    assert paused.score is not None and unpaused.score is not None
    assert paused.score > unpaused.score


def test_quarterly_is_measured_against_its_own_cadence_and_is_not_gone_quiet() -> None:
    quarterly = health_of(ARCHETYPES["naturally quarterly"].build().history())
    assert "vs the usual 88" in quarterly.component("continuity").sentence
    assert "gone_quiet" not in quarterly.flags


def test_sentences_are_written_from_the_numbers() -> None:
    record = Record()
    dm, user = record.person("decision_maker"), record.person("user")
    for days in (40, 30, 20, 10):
        record.thread(days, [user], turns=2, they_start=False)
    health = health_of(record.history())
    assert health.component("mutuality").sentence == (
        "We sent 4 turns, they sent 4 in 12 months; they started 0 of 4 conversations in 6 months."
    )
    assert health.component("breadth").sentence == (
        "Only 1 of 2 people engaged in 90 days; the decision maker never in a two-way exchange."
    )
    assert health.component("recency").sentence == "Last two-way exchange 10 days ago."
    assert dm  # named for the reader


# --- Property tests ------------------------------------------------------------------------

PEOPLE = [1001, 1002, 1003, 1004]


@st.composite
def histories(draw: st.DrawFn) -> Record:
    """Random accounts: a few conversations of random human turns, promises, a few people."""
    record = Record()
    record._ids = 2000
    for pid, influence in zip(
        PEOPLE, draw(st.lists(st.sampled_from(["decision_maker", "champion", "user", "none"]),
                              min_size=4, max_size=4)), strict=True
    ):  # fmt: skip
        record.people.append(model.Person(pid, influence))
    for _ in range(draw(st.integers(1, 5))):
        cid = record.conversation()
        for _ in range(draw(st.integers(1, 8))):
            kind = draw(st.sampled_from(["email", "email", "email", "call"]))
            direction = draw(st.sampled_from(["inbound", "outbound"]))
            record.message(
                cid,
                draw(st.floats(0.01, 300, allow_nan=False)),
                direction,
                draw(st.sampled_from(PEOPLE)) if direction == "inbound" or kind == "call" else None,
                kind=kind,
            )
        if draw(st.booleans()):
            kept = draw(st.booleans())
            due = draw(st.floats(-20, 170))
            record.promise(cid, due, kept_days_ago=max(0.0, due - 1) if kept else None)
    return record


def _last_human_days_ago(record: Record, cid: int) -> float:
    return min((NOW - e.at) / DAY for e in record.events if e.conversation_id == cid)


def _mutuality(record: Record) -> float:
    return model.mutuality(model.measure(record.history(), now=NOW)["mutuality"])[0]


PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(histories(), st.data())
def test_a_customer_reply_never_lowers_mutuality(record: Record, data: st.DataObject) -> None:
    before = _mutuality(record)
    cids = sorted({e.conversation_id for e in record.events})
    cid = data.draw(st.sampled_from(cids))
    last = _last_human_days_ago(record, cid)
    record.message(cid, data.draw(st.floats(0, last)) * 0.999, "inbound", PEOPLE[0])
    assert _mutuality(record) >= before - 1e-12


@PROPERTY
@given(histories(), st.data())
def test_vendor_only_messages_never_raise_mutuality(record: Record, data: st.DataObject) -> None:
    before = _mutuality(record)
    cids = sorted({e.conversation_id for e in record.events})
    for _ in range(data.draw(st.integers(1, 6))):
        if data.draw(st.booleans()):
            cid = data.draw(st.sampled_from(cids))
            at = data.draw(st.floats(0, _last_human_days_ago(record, cid))) * 0.999
        else:
            cid, at = record.conversation(), data.draw(st.floats(0, 200))
            cids.append(cid)
        record.message(cid, at, "outbound")
    assert _mutuality(record) <= before + 1e-12


@PROPERTY
@given(histories(), st.floats(0.01, 179))
def test_an_overdue_promise_never_raises_health(record: Record, overdue_days: float) -> None:
    before = health_of(record.history())
    cid = record.events[0].conversation_id
    record.promise(cid, overdue_days)
    after = health_of(record.history())
    assert after.component("commitments").value < before.component("commitments").value
    if before.score is None:
        assert after.score is None
    else:
        assert after.score is not None and after.score <= before.score


def _same(a: model.Health, b: model.Health) -> None:
    assert (a.score, a.band, a.flags) == (b.score, b.band, b.flags)
    for x, y in zip(a.components, b.components, strict=True):
        assert x.value == pytest.approx(y.value, abs=1e-9)


@PROPERTY
@given(histories(), st.floats(-5000, 5000))
def test_shifting_all_times_changes_nothing(record: Record, days: float) -> None:
    shift = datetime.timedelta(days=days)
    moved = model.History(
        [dataclasses.replace(e, at=e.at + shift) for e in record.events],
        [dataclasses.replace(p, left_at=p.left_at and p.left_at + shift) for p in record.people],
        [
            dataclasses.replace(
                p, due_at=p.due_at and p.due_at + shift, kept_at=p.kept_at and p.kept_at + shift,
                created_at=p.created_at and p.created_at + shift,
            )
            for p in record.promises
        ],
    )  # fmt: skip
    _same(health_of(record.history()), health_of(moved, now=NOW + shift))


@PROPERTY
@given(histories(), st.integers(1, 52))
def test_shifting_by_whole_weeks_changes_nothing_in_business_time(
    record: Record, weeks: int
) -> None:
    shift = datetime.timedelta(weeks=weeks)
    moved = model.History([dataclasses.replace(e, at=e.at + shift) for e in record.events])
    _same(
        health_of(model.History(record.events), calendar=WEEKDAYS),
        health_of(moved, now=NOW + shift, calendar=WEEKDAYS),
    )


@PROPERTY
@given(histories(), st.permutations(PEOPLE))
def test_renaming_people_changes_nothing(record: Record, names: list[int]) -> None:
    rename = {old: new + 10_000 for old, new in zip(PEOPLE, names, strict=True)}
    renamed = model.History(
        [dataclasses.replace(e, contact_ids=tuple(rename[c] for c in e.contact_ids))
         for e in record.events],
        [dataclasses.replace(p, id=rename[p.id]) for p in record.people],
        record.promises,
    )  # fmt: skip
    _same(health_of(record.history()), health_of(renamed))


@PROPERTY
@given(histories(), st.lists(st.tuples(st.floats(0, 400), st.booleans()), max_size=30), st.data())
def test_adding_automated_mail_changes_nothing(
    record: Record, mail: list[tuple[float, bool]], data: st.DataObject
) -> None:
    before = health_of(record.history())
    cids = sorted({e.conversation_id for e in record.events}) + [record.conversation()]
    for days, inbound in mail:
        record.message(
            data.draw(st.sampled_from(cids)), days, "inbound" if inbound else "outbound",
            PEOPLE[1] if inbound else None, automated=True,
        )  # fmt: skip
    _same(before, health_of(record.history()))


def test_not_enough_conversation_gives_no_number_but_still_explains() -> None:
    health = health_of(ARCHETYPES["too little conversation"].build().history())
    assert health.score is None
    assert health.band_label == "Not enough conversation to judge"
    assert all(c.sentence for c in health.components)


def test_what_changed_names_the_biggest_weighted_moves() -> None:
    now = dict.fromkeys(model.COMPONENTS, 0.5) | {"breadth": 0.2, "recency": 0.9}
    before = dict.fromkeys(model.COMPONENTS, 0.5) | {"breadth": 0.8, "recency": 0.6}
    changes = model.what_changed(now, before, model.DEFAULT_WEIGHTS)
    assert changes == [("breadth", pytest.approx(-9.0)), ("recency", pytest.approx(3.0))]
