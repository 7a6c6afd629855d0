"""Health from the database: the same labels as the pure model, stored daily, recomputable."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from health import model
from health.models import HealthSettings, HealthSnapshot
from health.services import (
    health_history_rebuild,
    health_settings_for,
    health_snapshots_refresh,
    snapshot_health,
)
from health.tasks import refresh_account_health, refresh_health
from organisations.calendar import BusinessCalendar
from tests.health.archetypes import ARCHETYPES, NOW
from tests.health.loading import load

pytestmark = pytest.mark.django_db


@pytest.fixture
def archetypes(a: Any, b: Any) -> dict[str, Any]:
    accounts = {
        name: load(archetype.build(), org=a.org, owner=a.sales, name=name)
        for name, archetype in ARCHETYPES.items()
    }
    load(ARCHETYPES["monologue"].build(), org=b.org, owner=b.sales, name="bravo monologue")
    return accounts


def test_stored_snapshots_carry_each_archetypes_band(a: Any, b: Any, archetypes: dict) -> None:
    health_snapshots_refresh(org=a.org, now=NOW)
    calendar = BusinessCalendar.for_org(a.org)
    for name, account in archetypes.items():
        snapshot = HealthSnapshot.objects.for_org(a.org).get(account=account)
        assert snapshot.band == ARCHETYPES[name].band, name
        expected = model.evaluate(
            model.measure(ARCHETYPES[name].build().history(), now=NOW, calendar=calendar)
        )
        assert snapshot.score == expected.score, name
        assert snapshot.day == NOW.date()
    assert not HealthSnapshot.objects.for_org(b.org).exists()  # only the organisation asked


def test_every_stored_score_and_sentence_recomputes_from_its_inputs(
    a: Any, archetypes: dict
) -> None:
    health_snapshots_refresh(org=a.org, now=NOW)
    for snapshot in HealthSnapshot.objects.for_org(a.org):
        again = snapshot_health(snapshot)
        assert (again.score, again.band, again.flags) == (
            snapshot.score, snapshot.band, snapshot.flags
        )  # fmt: skip
        assert [c.value for c in again.components] == list(snapshot.components().values())
        assert [cap.as_json() for cap in again.caps] == snapshot.caps


def test_refreshing_twice_a_day_keeps_one_snapshot_per_account(a: Any, archetypes: dict) -> None:
    health_snapshots_refresh(org=a.org, now=NOW)
    health_snapshots_refresh(org=a.org, now=NOW + datetime.timedelta(hours=3))
    health_snapshots_refresh(org=a.org, now=NOW + datetime.timedelta(days=1))
    accounts = len(archetypes) + 1  # and the cast's own account
    assert HealthSnapshot.objects.for_org(a.org).count() == 2 * accounts


def test_gathering_takes_the_same_few_queries_for_any_number_of_accounts(
    a: Any, b: Any, archetypes: dict
) -> None:
    with CaptureQueriesContext(connection) as one:
        health_snapshots_refresh(org=a.org, account_ids=[archetypes["monologue"].pk], now=NOW)
    with CaptureQueriesContext(connection) as many:
        health_snapshots_refresh(org=a.org, now=NOW)
    assert len(many) == len(one) <= 12


def test_changing_the_weights_changes_the_score(a: Any, archetypes: dict) -> None:
    account = archetypes["gone quiet"]
    health_snapshots_refresh(org=a.org, account_ids=[account.pk], now=NOW)
    before = HealthSnapshot.objects.for_org(a.org).get(account=account).score
    HealthSettings.objects.for_org(a.org).create(
        organisation=a.org, weight_recency=0.5, weight_mutuality=0.0
    )
    assert health_settings_for(a.org).weights["recency"] == 0.5
    health_snapshots_refresh(org=a.org, account_ids=[account.pk], now=NOW)
    after = HealthSnapshot.objects.for_org(a.org).get(account=account)
    assert after.score is not None and before is not None and after.score < before
    assert after.inputs["settings"]["weights"]["recency"] == 0.5


def test_history_rebuild_writes_each_past_day_as_it_was(a: Any, archetypes: dict) -> None:
    health_history_rebuild(org=a.org, days=30, now=NOW)
    account = archetypes["monologue"]
    days = HealthSnapshot.objects.for_org(a.org).filter(account=account).order_by("day")
    assert days.count() == 30
    # Our unanswered messages 28 and 14 days ago: no monologue before the third one.
    assert "monologue" not in days.first().flags
    assert "monologue" in days.last().flags


def test_the_nightly_task_covers_one_organisation(a: Any, b: Any, archetypes: dict) -> None:
    assert refresh_health(b.org.pk) == 2
    assert HealthSnapshot.objects.for_org(b.org).count() == 2
    assert not HealthSnapshot.objects.for_org(a.org).exists()
    assert refresh_health(999_999) == 0


def test_a_new_message_recomputes_its_account_once_committed(
    a: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from celery import current_app

    from conversations.services import interaction_log

    current_app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            interaction_log(
                org=a.org, account=a.account, conversation=a.conversation, author=a.sales,
                kind="call", occurred_at=NOW, body="Went through the renewal",
                contacts=[a.contact],
            )  # fmt: skip
    finally:
        current_app.conf.task_always_eager = False
    assert callbacks
    assert HealthSnapshot.objects.for_org(a.org).filter(account=a.account).exists()
    assert refresh_account_health(a.org.pk, [a.account.pk]) == 1


def test_an_automated_reply_saying_someone_left_marks_them_left(a: Any) -> None:
    from conversations.models import Message
    from tests.health.archetypes import Record

    record = Record()
    champion, user = record.person("champion"), record.person("user")
    for days in range(120, 20, -10):
        record.thread(days, [champion, user])
    account = load(record, org=a.org, owner=a.sales, name="Moved On Ltd")
    people = {c.full_name: c for c in account.contacts.all()}
    conversation = account.conversations.order_by("pk")[0]
    Message.all_orgs.create(
        organisation=a.org, conversation=conversation, account=account, kind="email",
        direction="inbound", sender_contact=people["Moved On Ltd person 0"],
        occurred_at=NOW - datetime.timedelta(days=5), automated_reason="auto-reply",
        body_text="Thank you for your email. Sam is no longer with the company; please write "
        "to info@example.com instead.",
    )  # fmt: skip
    health_snapshots_refresh(org=a.org, account_ids=[account.pk], now=NOW)
    snapshot = HealthSnapshot.objects.for_org(a.org).get(account=account)
    assert "person_left" in snapshot.flags
    assert snapshot.inputs["breadth"]["people"] == 1  # the champion no longer counts
