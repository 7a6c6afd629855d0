"""The daily digest: one email per member at the start of their working day, if anything is due."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from followups.models import FollowUp
from followups.selectors import open_followups
from organisations.calendar import BusinessCalendar
from organisations.models import Membership, Organisation


def digest_send_due(*, org: Organisation, now: datetime.datetime | None = None) -> int:
    """Send today's digests not yet sent; returns how many emails went out.

    A member's day is claimed with a conditional UPDATE before anything is sent, so two workers
    (or a retried task) never send one member two digests on one day.
    """
    now = now or timezone.now()
    calendar = BusinessCalendar.for_org(org)
    today = calendar.local_date(now)
    if not calendar.is_workday(today) or now < calendar.opening(today)[0]:
        return 0
    due = Membership.objects.filter(organisation=org, user__is_active=True).exclude(
        digest_sent_on__gte=today
    )
    claimed = []
    for membership in due.select_related("user"):
        won = (
            Membership.objects.filter(pk=membership.pk)
            .exclude(digest_sent_on__gte=today)
            .update(digest_sent_on=today)
        )
        if won:
            claimed.append(membership.user)
    if not claimed:
        return 0
    items: dict[int, list[FollowUp]] = {}
    for followup in (
        open_followups(org=org, now=now)
        .filter(owner__in=claimed)
        .select_related("conversation", "account", "commitment", "contact")
        .order_by("priority", "due_at", "id")
    ):
        items.setdefault(followup.owner_id, []).append(followup)  # type: ignore[arg-type]
    queue_url = settings.SITE_URL + reverse("followup_queue", kwargs={"org_slug": org.slug})
    sent = 0
    for user in claimed:
        mine = items.get(user.pk)
        if not mine:
            continue  # nothing due: no email
        context = {"user": user, "org": org, "items": mine, "queue_url": queue_url,
                   "site_url": settings.SITE_URL}  # fmt: skip
        send_mail(
            subject=f"{len(mine)} to follow up today in {org.name}",
            message=render_to_string("followups/digest.txt", context),
            from_email=None,
            recipient_list=[user.email],
        )
        sent += 1
    return sent
