"""Health from the database: gather each account's record in a few set-based queries (never a
query per account), measure and evaluate it with health.model, store a daily snapshot."""

from __future__ import annotations

import dataclasses
import datetime
import json
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Account
from conversations.models import Participant
from health import model
from health.models import HealthSettings, HealthSnapshot
from mail.parsing import BOUNCE
from organisations.calendar import BusinessCalendar
from organisations.models import Organisation

# Accounts gathered and written per round: bounds memory on large organisations.
CHUNK = 1000
# An automated reply saying its sender has left (a PostgreSQL regular expression).
LEFT_NOTICE = (
    r"no longer (with|at|employed|works? (at|for|with))"
    r"|(has|have) left (the|our) (company|organi[sz]ation|business|firm)"
    r"|is not with us any ?more"
)
# How far back the record is read: a year for the components, plus the days rebuilt.
LOOKBACK_DAYS = 365


def health_settings_for(org: Organisation) -> model.Settings:
    """The organisation's settings, or the documented defaults."""
    row = HealthSettings.objects.for_org(org).first()
    target = float(org.reply_target_days)
    if row is None:
        return model.Settings(reply_target_days=target)
    return row.as_model(reply_target_days=target)


@transaction.atomic
def health_settings_save(*, org: Organisation, **fields: Any) -> HealthSettings:
    """Change the settings and bring the stored history in line with them (after commit).

    Weights and thresholds only change how measured numbers are weighed, so the stored
    snapshots are evaluated again from their own inputs (minutes for a large organisation); a
    new half-life changes the numbers themselves, so the last 90 days are measured again.
    """
    row, _ = HealthSettings.objects.for_org(org).get_or_create(organisation=org)
    remeasure = "half_life_days" in fields and fields["half_life_days"] != row.half_life_days
    for name, value in fields.items():
        setattr(row, name, value)
    row.updated_at = timezone.now()
    row.save()
    from health.tasks import rebuild_health_history, reevaluate_health_history

    (rebuild_health_history if remeasure else reevaluate_health_history).delay_on_commit(org.pk)
    return row


def health_history_reevaluate(*, org: Organisation) -> int:
    """Score every stored snapshot again from its stored inputs with the current settings.

    Keeps the reply target each snapshot was measured with (it shaped the inputs)."""
    current = health_settings_for(org)
    snapshots = HealthSnapshot.objects.for_org(org).order_by("pk")
    updated = 0
    batch: list[HealthSnapshot] = []
    fields = ["score", "band", "flags", "caps", "inputs", *model.COMPONENTS]
    for snapshot in snapshots.iterator(chunk_size=CHUNK):
        measured = snapshot.inputs.get("settings", {})
        settings = dataclasses.replace(
            current,
            half_life_days=measured.get("half_life_days", current.half_life_days),
            reply_target_days=measured.get("reply_target_days", current.reply_target_days),
        )
        health = model.evaluate(snapshot.inputs, settings)
        snapshot.score, snapshot.band, snapshot.flags = health.score, health.band, health.flags
        snapshot.caps = [cap.as_json() for cap in health.caps]
        snapshot.inputs["settings"] = settings.as_json()
        for component in health.components:
            setattr(snapshot, component.key, component.value)
        batch.append(snapshot)
        if len(batch) >= CHUNK:
            updated += len(batch)
            HealthSnapshot.objects.for_org(org).bulk_update(batch, fields)
            batch = []
    HealthSnapshot.objects.for_org(org).bulk_update(batch, fields)
    return updated + len(batch)


def _chunks(ids: Sequence[int], size: int = CHUNK) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])


def _histories(
    org: Organisation, account_ids: list[int], *, since: datetime.datetime, tz: Any
) -> dict[int, model.History]:
    """Every account's record in four queries: messages, people, promises, who is waiting."""
    events: dict[int, list[model.Event]] = {pk: [] for pk in account_ids}
    people: dict[int, list[model.Person]] = {pk: [] for pk in account_ids}
    promises: dict[int, list[model.Promise]] = {pk: [] for pk in account_ids}
    awaiting: dict[int, set[int]] = {pk: set() for pk in account_ids}
    with connection.cursor() as cursor:
        # Human messages, out-of-office replies (they pause clocks), automated replies saying
        # someone has left and bounces (with the contacts whose address bounced); no notes.
        cursor.execute(
            """
            SELECT m.account_id, m.id, m.conversation_id, m.occurred_at, m.direction, m.kind,
                   m.sender_contact_id, m.automated_reason <> '', m.is_out_of_office,
                   CASE WHEN m.automated_reason <> '' AND m.direction = 'inbound'
                        THEN m.body_text ~* %(left)s ELSE false END,
                   CASE WHEN m.kind IN ('call', 'meeting') THEN ARRAY(
                        SELECT p.contact_id FROM conversations_participant p
                         WHERE p.organisation_id = m.organisation_id AND p.message_id = m.id
                           AND p.contact_id IS NOT NULL) END,
                   CASE WHEN m.automated_reason = %(bounce)s THEN ARRAY(
                        SELECT p.contact_id FROM conversations_participant p
                         WHERE p.organisation_id = m.organisation_id AND p.message_id = m.id
                           AND p.role = %(bounced)s AND p.contact_id IS NOT NULL) END
              FROM conversations_message m
             WHERE m.organisation_id = %(org)s AND m.account_id = ANY(%(accounts)s)
               AND m.occurred_at > %(since)s AND m.direction <> 'internal' AND m.kind <> 'note'
               AND (m.automated_reason = '' OR m.is_out_of_office
                    OR (m.direction = 'inbound' AND m.body_text ~* %(left)s)
                    OR m.automated_reason = %(bounce)s)
            """,
            {
                "org": org.pk, "accounts": account_ids, "since": since, "left": LEFT_NOTICE,
                "bounce": BOUNCE, "bounced": Participant.Role.BOUNCED.value,
            },
        )  # fmt: skip
        for (
            account_id,
            pk,
            cid,
            at,
            direction,
            kind,
            sender,
            *flags,
            attendees,
            bounced,
        ) in cursor.fetchall():
            contacts = tuple(attendees) if attendees else ((sender,) if sender else ())
            automated, ooo, left = flags
            if bounced:  # a hard bounce: the people whose mailbox is gone have probably left
                contacts, left = tuple(bounced), True
            elif bounced is not None and not left:
                continue  # a bounce naming nobody we know (a delay, a refusal, a stranger)
            events[account_id].append(
                model.Event(pk, cid, at, direction, kind, contacts, automated, ooo, left)
            )
        cursor.execute(
            """
            SELECT account_id, id, buying_influence, left_company_on FROM contacts_contact
             WHERE organisation_id = %s AND account_id = ANY(%s)
            """,
            [org.pk, account_ids],
        )
        for account_id, pk, influence, left_on in cursor.fetchall():
            left_at = (
                datetime.datetime.combine(left_on, datetime.time(), tzinfo=tz) if left_on else None
            )
            people[account_id].append(model.Person(pk, influence, left_at))
        cursor.execute(
            """
            SELECT c.account_id, p.id, p.conversation_id, p.owed_by, p.text, p.due_at, p.state,
                   p.kept_at, p.created_at, p.due_on
              FROM conversations_commitment p
              JOIN conversations_conversation c
                ON c.organisation_id = p.organisation_id AND c.id = p.conversation_id
             WHERE p.organisation_id = %s AND c.account_id = ANY(%s)
               AND p.state IN ('open', 'kept') AND p.due_at IS NOT NULL
            """,
            [org.pk, account_ids],
        )
        for account_id, *row in cursor.fetchall():
            promises[account_id].append(model.Promise(*row))
        cursor.execute(
            """
            SELECT account_id, id FROM conversations_conversation
             WHERE organisation_id = %s AND account_id = ANY(%s) AND state = 'awaiting_us'
            """,
            [org.pk, account_ids],
        )
        for account_id, pk in cursor.fetchall():
            awaiting[account_id].add(pk)
    return {
        pk: model.History(events[pk], people[pk], promises[pk], frozenset(awaiting[pk]))
        for pk in account_ids
    }


@dataclass(frozen=True)
class Computed:
    account_id: int
    day: datetime.date
    inputs: dict[str, Any]
    health: model.Health


def _compute(
    org: Organisation,
    account_ids: list[int],
    moments: Sequence[tuple[datetime.date, datetime.datetime]],
    settings: model.Settings,
    calendar: BusinessCalendar,
) -> Iterator[Computed]:
    since = min(at for _, at in moments) - datetime.timedelta(days=LOOKBACK_DAYS)
    histories = _histories(org, account_ids, since=since, tz=calendar.tz)
    for account_id, history in histories.items():
        for day, now in moments:
            inputs = model.measure(history, now=now, settings=settings, calendar=calendar)
            inputs["settings"] = settings.as_json()
            inputs["as_of"] = now.isoformat()
            yield Computed(account_id, day, inputs, model.evaluate(inputs, settings))


_UPSERT = """
INSERT INTO health_healthsnapshot
       (organisation_id, account_id, day, score, band, mutuality, interactivity, continuity,
        breadth, responsiveness, commitments, recency, flags, caps, inputs, computed_at)
VALUES {values}
ON CONFLICT (organisation_id, account_id, day) DO UPDATE
   SET score = EXCLUDED.score, band = EXCLUDED.band, mutuality = EXCLUDED.mutuality,
       interactivity = EXCLUDED.interactivity, continuity = EXCLUDED.continuity,
       breadth = EXCLUDED.breadth, responsiveness = EXCLUDED.responsiveness,
       commitments = EXCLUDED.commitments, recency = EXCLUDED.recency, flags = EXCLUDED.flags,
       caps = EXCLUDED.caps, inputs = EXCLUDED.inputs, computed_at = EXCLUDED.computed_at
{returning}"""
# The band each account had before this write, for the health.band_changed webhook: a subquery
# in RETURNING reads the statement's snapshot, so it sees the rows as they were (one probe of
# the unique (organisation, account, day) index per row, and no extra query).
_RETURNING_BANDS = """
RETURNING account_id, band, (
    SELECT s.band FROM health_healthsnapshot s
     WHERE s.organisation_id = health_healthsnapshot.organisation_id
       AND s.account_id = health_healthsnapshot.account_id
       AND s.day <= health_healthsnapshot.day
     ORDER BY s.day DESC LIMIT 1), score, day
"""
_ROW = "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s::jsonb, %s::jsonb, %s)"


def _store(org: Organisation, rows: list[Computed], *, bands: bool = False) -> None:
    """Upsert the snapshots; with `bands`, announce accounts whose band moved."""
    if not rows:
        return
    now = timezone.now()
    params: list[Any] = []
    for row in rows:
        h = row.health
        params += [
            org.pk, row.account_id, row.day, h.score, h.band,
            *(c.value for c in h.components),
            json.dumps(h.flags),
            json.dumps([cap.as_json() for cap in h.caps]),
            json.dumps(row.inputs),
            now,
        ]  # fmt: skip
    returning = _RETURNING_BANDS if bands else ""
    with connection.cursor() as cursor:
        cursor.execute(
            _UPSERT.format(values=", ".join([_ROW] * len(rows)), returning=returning), params
        )
        if bands:
            _bands_changed(org, [row for row in cursor.fetchall() if row[2] not in {None, row[1]}])


def _bands_changed(org: Organisation, changes: list[tuple[Any, ...]]) -> None:
    from webhooks.events import emit_many  # webhooks build on health

    if changes:
        emit_many(
            org,
            "health.band_changed",
            ({"account_id": account_id, "old_band": old, "new_band": new, "score": score,
              "day": day.isoformat()}
             for account_id, new, old, score, day in changes),
        )  # fmt: skip


def health_snapshots_refresh(
    *,
    org: Organisation,
    account_ids: Collection[int] | None = None,
    now: datetime.datetime | None = None,
) -> int:
    """Compute today's health for these accounts (or all) and upsert one snapshot each.

    Idempotent: running it again the same day replaces that day's row.
    """
    now = now or timezone.now()
    settings = health_settings_for(org)
    calendar = BusinessCalendar.for_org(org)
    day = calendar.local_date(now)
    accounts = Account.objects.for_org(org)
    if account_ids is not None:
        accounts = accounts.filter(pk__in=list(account_ids))
    ids = list(accounts.order_by("pk").values_list("pk", flat=True))
    for chunk in _chunks(ids):
        with transaction.atomic():
            _store(org, list(_compute(org, chunk, [(day, now)], settings, calendar)), bands=True)
    return len(ids)


def health_history_rebuild(
    *, org: Organisation, days: int = 90, now: datetime.datetime | None = None
) -> int:
    """Recompute the last `days` daily snapshots of every account (after settings change, or
    to backfill): each past day as of its close, from one read of the record per chunk."""
    now = now or timezone.now()
    settings = health_settings_for(org)
    calendar = BusinessCalendar.for_org(org)
    today = calendar.local_date(now)
    moments = [(today, now)]
    for back in range(1, days):
        day = today - datetime.timedelta(days=back)
        moments.append((day, datetime.datetime.combine(day, datetime.time.max, tzinfo=calendar.tz)))
    ids = list(Account.objects.for_org(org).order_by("pk").values_list("pk", flat=True))
    written = 0
    for chunk in _chunks(ids, max(1, CHUNK // days)):
        rows = list(_compute(org, chunk, moments, settings, calendar))
        with transaction.atomic():
            for start in range(0, len(rows), CHUNK):
                _store(org, rows[start : start + CHUNK])
        written += len(rows)
    return written


def account_health_now(*, org: Organisation, account: Account) -> Computed:
    """One account's health computed now, without storing it."""
    settings = health_settings_for(org)
    calendar = BusinessCalendar.for_org(org)
    now = timezone.now()
    return next(_compute(org, [account.pk], [(calendar.local_date(now), now)], settings, calendar))


def snapshot_health(snapshot: HealthSnapshot) -> model.Health:
    """Evaluate a stored snapshot again from its own inputs and settings."""
    settings = model.Settings.from_json(snapshot.inputs["settings"])
    return model.evaluate(snapshot.inputs, settings)


def health_refresh_after_messages(*, org: Organisation, account_ids: Collection[int]) -> None:
    """Called where messages are recorded: recompute these accounts once the write commits."""
    from health.tasks import refresh_account_health

    ids = sorted(set(account_ids))
    if ids:
        refresh_account_health.delay_on_commit(org.pk, ids)
