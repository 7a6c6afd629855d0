from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from conversations.models import Message
from followups.models import FollowUp
from organisations.calendar import BusinessCalendar
from organisations.models import Organisation, User


def open_followups(
    *, org: Organisation, now: datetime.datetime | None = None
) -> QuerySet[FollowUp]:
    """Open items not snoozed past `now`: what is in front of people right now."""
    now = now or timezone.now()
    return FollowUp.objects.for_org(org).filter(
        Q(snoozed_until__isnull=True) | Q(snoozed_until__lte=now), resolved_at=None
    )


def queue_count(*, org: Organisation, owner: User) -> int:
    return open_followups(org=org).filter(owner=owner).count()


@dataclass
class QueueItem:
    followup: FollowUp
    last_turn: Message | None
    age_days: float  # business days since what started it

    @property
    def is_overdue_promise(self) -> bool:
        return self.followup.due_at <= timezone.now()


def member_queue(*, org: Organisation, owner: User) -> list[QueueItem]:
    """A member's open items in priority order, each with its conversation's last human turn.

    Three queries whatever the length: items, last turns, holidays.
    """
    items = list(
        open_followups(org=org)
        .filter(owner=owner)
        .select_related("conversation", "account", "commitment", "contact")
        .order_by("priority", "due_at", "id")
    )
    last_turns = {
        message.conversation_id: message
        for message in Message.objects.for_org(org)
        .filter(conversation_id__in={item.conversation_id for item in items}, automated_reason="")
        .exclude(direction=Message.Direction.INTERNAL)
        .select_related("sender_contact", "sender_member")
        .order_by("conversation_id", "-occurred_at", "-id")
        .distinct("conversation_id")
    } if items else {}  # fmt: skip
    calendar = BusinessCalendar.for_org(org) if items else None
    now = timezone.now()
    return [
        QueueItem(
            followup=item,
            last_turn=last_turns.get(item.conversation_id),
            age_days=calendar.between(item.trigger_at, now) if calendar else 0.0,
        )
        for item in items
    ]


def team_counts(*, org: Organisation) -> dict[int | None, dict[str, int]]:
    """Open items per owner and reason, for the manager's view of the team."""
    counts: dict[int | None, dict[str, int]] = {}
    for owner_id, reason, n in (
        open_followups(org=org).values_list("owner_id", "reason").annotate(n=Count("id")).order_by()
    ):
        counts.setdefault(owner_id, {})[reason] = n
    return counts
