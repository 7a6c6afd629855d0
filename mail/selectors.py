from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from mail.models import Mailbox, QuarantinedEmail, UnsortedEmail
from organisations.models import Organisation, User


def mailboxes_of(*, org: Organisation, owner: User) -> QuerySet[Mailbox]:
    return (
        Mailbox.objects.for_org(org)
        .filter(owner=owner)
        .annotate(quarantined=Count("quarantine", filter=Q(quarantine__resolved_at__isnull=True)))
        .order_by("email_address")
    )


def open_quarantine(*, org: Organisation, mailbox: Mailbox) -> QuerySet[QuarantinedEmail]:
    return (
        QuarantinedEmail.objects.for_org(org)
        .filter(mailbox=mailbox, resolved_at__isnull=True)
        .defer("raw")
        .order_by("-quarantined_at")
    )


def unsorted_waiting(*, org: Organisation) -> QuerySet[UnsortedEmail]:
    return (
        UnsortedEmail.objects.for_org(org)
        .filter(state=UnsortedEmail.State.WAITING)
        .order_by("-occurred_at")
    )
