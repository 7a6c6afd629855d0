from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.models import Account
from organisations.tenancy import TenantModel


class RawEmail(TenantModel):
    """The bytes of a message exactly as received, kept so it can be processed again."""

    sha256 = models.CharField(max_length=64)
    raw = models.BinaryField()
    message = models.ForeignKey(
        "conversations.Message",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="raw_copies",
    )
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["organisation", "sha256"], name="raw_email_unique"),
        ]


class QuarantinedEmail(TenantModel):
    """A message that could not be parsed or stored: kept raw with the reason, never dropped."""

    raw = models.BinaryField()
    reason = models.TextField()
    source = models.CharField(max_length=300, blank=True, help_text="Mailbox, folder and UID.")
    quarantined_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes: ClassVar = [
            models.Index(
                fields=["organisation", "quarantined_at"],
                condition=models.Q(resolved_at__isnull=True),
                name="quarantine_open",
            ),
        ]


class UnsortedEmail(TenantModel):
    """Mail from nobody we know: waits for a member to file it under an account or dismiss it."""

    class State(models.TextChoices):
        WAITING = "waiting", "Waiting"
        FILED = "filed", "Filed"
        DISMISSED = "dismissed", "Dismissed"

    raw_email = models.ForeignKey(RawEmail, on_delete=models.CASCADE, related_name="+")
    message_id = models.CharField(max_length=998)
    subject = models.CharField(max_length=300, blank=True)
    sender = models.CharField(max_length=254, blank=True)
    occurred_at = models.DateTimeField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.WAITING)
    filed_under = models.ForeignKey(
        Account, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["organisation", "message_id"], name="unsorted_email_unique"
            ),
        ]
        indexes: ClassVar = [
            models.Index(
                fields=["organisation", "occurred_at"],
                condition=models.Q(state="waiting"),
                name="unsorted_waiting",
            ),
        ]
