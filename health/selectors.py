"""Reading health: an account's latest snapshot with its trend, and whole lists at once."""

from __future__ import annotations

import datetime
from collections.abc import Collection
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import Count, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account
from contacts.models import BuyingInfluence, Level
from health import model
from health.models import HealthSnapshot
from health.services import snapshot_health
from organisations.models import Organisation

TREND_DAYS = 90
CHANGE_DAYS = 30


@dataclass(frozen=True)
class Change:
    key: str
    points: float
    before: float
    now: float
    sentence: str
    evidence_url: str

    @property
    def label(self) -> str:
        return model.LABELS[self.key]

    @property
    def words(self) -> str:
        direction = "rose" if self.points > 0 else "fell"
        return (
            f"{self.label} {direction} by {abs(self.points):.0f} points "
            f"({self.before * 100:.0f}% → {self.now * 100:.0f}%)"
        )


@dataclass
class AccountHealth:
    snapshot: HealthSnapshot
    health: model.Health
    trend: list[int | None]  # one score per day, oldest first; None: not enough or no snapshot
    before: HealthSnapshot | None  # the snapshot ~30 days earlier
    changes: list[Change] = field(default_factory=list)
    evidence: dict[str, str] = field(default_factory=dict)
    people: list[PersonMapEntry] = field(default_factory=list)

    @property
    def rows(self) -> list[tuple[model.Component, str]]:
        """Each component with the link to the messages behind its sentence."""
        return [(c, self.evidence[c.key]) for c in self.health.components]

    @property
    def caps(self) -> list[tuple[model.Cap, str]]:
        return [(cap, self.evidence[cap.component]) for cap in self.health.caps]

    @property
    def new_caps(self) -> list[tuple[model.Cap, str]]:
        """Caps that apply now and did not 30 days ago (often most of a drop), each with
        the link to its evidence."""
        before = {c.get("cause") for c in self.before.caps} if self.before is not None else set()
        return [
            (cap, self.evidence[cap.component])
            for cap in self.health.caps
            if cap.cause not in before
        ]

    @property
    def change(self) -> int | None:
        if self.before is None or self.before.score is None or self.snapshot.score is None:
            return None
        return self.snapshot.score - self.before.score

    @property
    def flag_labels(self) -> list[str]:
        return [model.FLAG_LABELS[f] for f in self.health.flags]


def _trend(snapshots: list[HealthSnapshot], last_day: datetime.date) -> list[int | None]:
    by_day = {s.day: s.score for s in snapshots}
    first = last_day - datetime.timedelta(days=TREND_DAYS - 1)
    return [by_day.get(first + datetime.timedelta(days=n)) for n in range(TREND_DAYS)]


def _before(snapshots: list[HealthSnapshot], day: datetime.date) -> HealthSnapshot | None:
    """The latest snapshot at least CHANGE_DAYS before `day`, or the oldest there is."""
    cutoff = day - datetime.timedelta(days=CHANGE_DAYS)
    earlier = [s for s in snapshots if s.day <= cutoff]
    if earlier:
        return earlier[-1]
    older = [s for s in snapshots if s.day < day]
    return older[0] if older else None


def _evidence(org: Organisation, account: Account, inputs: dict) -> dict[str, str]:
    """Where a manager sees the messages behind each component."""
    history = reverse("account_detail", args=[org.slug, account.pk]) + "#timeline"

    def conversation(pk: int | None) -> str:
        return reverse("conversation_detail", args=[org.slug, pk]) if pk else history

    silent = inputs["breadth"]["silent_key"]
    return {
        "mutuality": history,
        "interactivity": history,
        "continuity": conversation(inputs["recency"]["last_exchange_conversation"]),
        "breadth": (
            reverse("contact_detail", args=[org.slug, silent[0]["contact_id"]])
            if silent
            else history
        ),
        "responsiveness": conversation(inputs["responsiveness"]["oldest_waiting_conversation"]),
        "commitments": conversation(inputs["commitments"]["oldest_overdue_conversation"]),
        "recency": conversation(inputs["recency"]["last_exchange_conversation"]),
    }


def org_today(org: Organisation) -> datetime.date:
    """Today in the organisation's time zone: the day its snapshots are filed under."""
    return timezone.now().astimezone(ZoneInfo(org.time_zone)).date()


def account_health(*, org: Organisation, account: Account) -> AccountHealth | None:
    """The latest snapshot, its 90-day trend and what changed in 30 days, and the people map:
    two queries."""
    since = org_today(org) - datetime.timedelta(days=TREND_DAYS + CHANGE_DAYS)
    snapshots = list(
        HealthSnapshot.objects.for_org(org).filter(account=account, day__gte=since).order_by("day")
    )
    if not snapshots:
        return None
    latest = snapshots[-1]
    health = snapshot_health(latest)
    before = _before(snapshots, latest.day)
    evidence = _evidence(org, account, latest.inputs)
    changes = []
    if before is not None:
        weights = latest.inputs["settings"]["weights"]
        for key, points in model.what_changed(latest.components(), before.components(), weights):
            changes.append(
                Change(
                    key, points, getattr(before, key), getattr(latest, key),
                    health.component(key).sentence, evidence[key],
                )
            )  # fmt: skip
    return AccountHealth(
        latest, health, _trend(snapshots, latest.day), before, changes, evidence,
        people_map(org=org, account=account),
    )  # fmt: skip


@dataclass(frozen=True)
class Summary:
    """What a list row shows: score, band, trend and change vs 30 days ago."""

    score: int | None
    band: str
    flags: list[str]
    trend: list[int | None]
    change: int | None

    @property
    def band_label(self) -> str:
        return model.BAND_LABELS.get(self.band, self.band)


def health_summaries(
    *, org: Organisation, account_ids: Collection[int], today: datetime.date | None = None
) -> dict[int, Summary]:
    """Score, band and trend of these accounts, in one query (a list page's accounts)."""
    today = today or org_today(org)
    since = today - datetime.timedelta(days=TREND_DAYS - 1)
    rows = (
        HealthSnapshot.objects.for_org(org)
        .filter(account_id__in=list(account_ids), day__gte=since, day__lte=today)
        .order_by("account_id", "day")
        .values_list("account_id", "day", "score", "band", "flags")
    )
    by_account: dict[int, list[tuple[datetime.date, int | None, str, list[str]]]] = {}
    for account_id, day, score, band, flags in rows:
        by_account.setdefault(account_id, []).append((day, score, band, flags))
    out = {}
    for account_id, days in by_account.items():
        scores = {day: score for day, score, _, _ in days}
        last_day, score, band, flags = days[-1]
        first = last_day - datetime.timedelta(days=TREND_DAYS - 1)
        trend = [scores.get(first + datetime.timedelta(days=n)) for n in range(TREND_DAYS)]
        cutoff = last_day - datetime.timedelta(days=CHANGE_DAYS)
        earlier = [s for d, s, _, _ in days if d <= cutoff]
        before = earlier[-1] if earlier else None
        change = score - before if score is not None and before is not None else None
        out[account_id] = Summary(score, band, flags, trend, change)
    return out


@dataclass(frozen=True)
class DashboardFilters:
    owner_id: int | None = None
    band: str = ""
    flag: str = ""


def latest_day(*, org: Organisation) -> datetime.date | None:
    return (
        HealthSnapshot.objects.for_org(org).order_by("-day").values_list("day", flat=True).first()
    )


def dashboard_rows(
    *, org: Organisation, day: datetime.date, filters: DashboardFilters
) -> QuerySet[HealthSnapshot]:
    """Every account's snapshot of `day` with the change vs 30 days earlier, largest drop
    first (accounts that fell matter more than accounts that were always low)."""
    earlier = (
        HealthSnapshot.objects.for_org(org)
        .filter(
            account_id=OuterRef("account_id"), day__lte=day - datetime.timedelta(days=CHANGE_DAYS)
        )
        .order_by("-day")
        .values("score")[:1]
    )
    rows = HealthSnapshot.objects.for_org(org).filter(day=day)
    if filters.owner_id:
        rows = rows.filter(account__owner_id=filters.owner_id)
    if filters.band:
        rows = rows.filter(band=filters.band)
    if filters.flag:
        rows = rows.filter(flags__contains=[filters.flag])
    return (
        rows.select_related("account", "account__owner")
        .annotate(before=Subquery(earlier), change=F("score") - Subquery(earlier))
        .order_by(
            F("change").asc(nulls_last=True), F("score").asc(nulls_last=True), "account__name"
        )
    )


@dataclass
class OwnerSummary:
    owner_id: int | None
    name: str
    bands: dict[str, int]
    waiting: int
    overdue: int

    @property
    def total(self) -> int:
        return sum(self.bands.values())


def _json_int(component: str, name: str) -> Cast:
    return Cast(KeyTextTransform(name, f"inputs__{component}"), IntegerField())


def owner_summaries(*, org: Organisation, day: datetime.date) -> list[OwnerSummary]:
    """Per owner: accounts per band, customers waiting, promises overdue. One query; no ranking
    (owners are listed by name, never by score)."""
    rows = (
        HealthSnapshot.objects.for_org(org)
        .filter(day=day)
        .values("account__owner_id", "account__owner__full_name", "account__owner__email")
        .annotate(
            healthy=Count("pk", filter=Q(band=model.HEALTHY)),
            attention=Count("pk", filter=Q(band=model.ATTENTION)),
            at_risk=Count("pk", filter=Q(band=model.AT_RISK)),
            not_enough=Count("pk", filter=Q(band=model.NOT_ENOUGH)),
            waiting=Sum(
                Cast(KeyTextTransform("waiting", "inputs__responsiveness"), IntegerField())
            ),
            overdue=Sum(Cast(KeyTextTransform("overdue", "inputs__commitments"), IntegerField())),
        )
    )
    out = [
        OwnerSummary(
            row["account__owner_id"],
            row["account__owner__full_name"] or row["account__owner__email"] or "Nobody",
            {band: row[band] for band in (model.HEALTHY, model.ATTENTION, model.AT_RISK,
                                          model.NOT_ENOUGH)},
            row["waiting"] or 0,
            row["overdue"] or 0,
        )
        for row in rows
    ]  # fmt: skip
    return sorted(out, key=lambda s: (s.owner_id is None, s.name.lower()))


@dataclass(frozen=True)
class PersonMapEntry:
    contact_id: int
    name: str
    title: str
    level: str
    influence: str
    left_on: datetime.date | None
    last_two_way: datetime.datetime | None
    our_people: list[str]

    @property
    def level_label(self) -> str:
        return str(dict(Level.choices).get(self.level, self.level))

    @property
    def influence_label(self) -> str:
        return str(dict(BuyingInfluence.choices).get(self.influence, self.influence))


_PEOPLE_MAP = """
WITH ours AS (  -- who on our side wrote in each conversation
    SELECT DISTINCT m.conversation_id, m.sender_member_id
      FROM conversations_message m
     WHERE m.organisation_id = %(org)s AND m.account_id = %(account)s
       AND m.direction = 'outbound' AND m.automated_reason = '' AND m.kind <> 'note'
       AND m.sender_member_id IS NOT NULL
),
theirs AS (  -- when each of their people spoke: emails of theirs, calls and meetings they attended
    SELECT m.sender_contact_id AS contact_id, m.conversation_id, m.occurred_at,
           m.kind IN ('call', 'meeting') AS live
      FROM conversations_message m
     WHERE m.organisation_id = %(org)s AND m.account_id = %(account)s
       AND m.direction = 'inbound' AND m.automated_reason = '' AND m.kind <> 'note'
       AND m.sender_contact_id IS NOT NULL
    UNION ALL
    SELECT p.contact_id, m.conversation_id, m.occurred_at, true
      FROM conversations_participant p
      JOIN conversations_message m ON m.organisation_id = p.organisation_id AND m.id = p.message_id
     WHERE p.organisation_id = %(org)s AND m.account_id = %(account)s
       AND m.kind IN ('call', 'meeting') AND p.contact_id IS NOT NULL
)
SELECT c.id, c.full_name, c.title, c.level, c.buying_influence, c.left_company_on,
       max(t.occurred_at) FILTER (WHERE t.live OR o.conversation_id IS NOT NULL),
       array_remove(array_agg(DISTINCT coalesce(nullif(u.full_name, ''), u.email)), NULL)
  FROM contacts_contact c
  LEFT JOIN theirs t ON t.contact_id = c.id
  LEFT JOIN ours o ON o.conversation_id = t.conversation_id
  LEFT JOIN organisations_user u ON u.id = o.sender_member_id
 WHERE c.organisation_id = %(org)s AND c.account_id = %(account)s
 GROUP BY c.id
 ORDER BY c.left_company_on NULLS FIRST, max(t.occurred_at) DESC NULLS LAST, c.full_name
"""


def people_map(*, org: Organisation, account: Account) -> list[PersonMapEntry]:
    """Each of their people: role, influence, their last two-way exchange with us (a message of
    theirs in a conversation where we wrote too, or a call or meeting they attended) and who
    on our side talks to them. One query."""
    with connection.cursor() as cursor:
        cursor.execute(_PEOPLE_MAP, {"org": org.pk, "account": account.pk})
        return [PersonMapEntry(*row) for row in cursor.fetchall()]
