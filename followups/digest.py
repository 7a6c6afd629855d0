"""The daily digest: one email per member at the start of their working day, if anything is due."""

from __future__ import annotations

import datetime
import smtplib

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from followups.models import FollowUp
from followups.selectors import open_followups
from organisations.calendar import BusinessCalendar
from organisations.models import Membership, Organisation


class DigestNotSent(Exception):
    """Some digests could not be sent (the mail server refused or was away); retried."""


def digest_send_due(*, org: Organisation, now: datetime.datetime | None = None) -> int:
    """Send today's digests not yet sent; returns how many emails went out.

    A member's day is claimed with a conditional UPDATE before their email is sent, so two
    workers (or a retried task) never send one member two digests on one day. If sending fails
    the day is given back and, once the others were tried, DigestNotSent says who missed out
    (the task retries).
    """
    now = now or timezone.now()
    calendar = BusinessCalendar.for_org(org)
    today = calendar.local_date(now)
    if not calendar.is_workday(today) or now < calendar.opening(today)[0]:
        return 0
    due = Membership.objects.filter(organisation=org, user__is_active=True).exclude(
        digest_sent_on__gte=today
    )
    memberships = list(due.select_related("user"))
    if not memberships:
        return 0
    items: dict[int, list[FollowUp]] = {}
    for followup in (
        open_followups(org=org, now=now)
        .filter(owner__in=[m.user for m in memberships])
        .select_related("conversation", "account", "commitment", "contact")
        .order_by("priority", "due_at", "id")
    ):
        items.setdefault(followup.owner_id, []).append(followup)  # type: ignore[arg-type]
    queue_url = settings.SITE_URL + reverse("followup_queue", kwargs={"org_slug": org.slug})
    sent, failed = 0, []
    for membership in memberships:
        previous = membership.digest_sent_on
        claimed = (
            Membership.objects.filter(pk=membership.pk)
            .exclude(digest_sent_on__gte=today)
            .update(digest_sent_on=today)
        )
        mine = items.get(membership.user_id)
        if not claimed or not mine:
            continue  # another worker has it, or nothing is due: no email today
        user = membership.user
        context = {"user": user, "org": org, "items": mine, "queue_url": queue_url,
                   "site_url": settings.SITE_URL}  # fmt: skip
        try:
            with timezone.override(calendar.tz):  # dates as the member reads them
                body = render_to_string("followups/digest.txt", context)
            send_mail(
                subject=f"{len(mine)} to follow up today in {org.name}",
                message=body,
                from_email=None,
                recipient_list=[user.email],
            )
        except (OSError, smtplib.SMTPException) as error:
            # Not sent: give the day back so a retry sends it, and go on with the others.
            Membership.objects.filter(pk=membership.pk).update(digest_sent_on=previous)
            failed.append(f"{user.email}: {error}")
            continue
        sent += 1
    if failed:
        raise DigestNotSent("; ".join(failed))
    return sent
