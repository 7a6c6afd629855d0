from __future__ import annotations

import datetime
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import Account
from contacts.models import Contact
from conversations.models import Commitment, Conversation
from organisations.tenancy import TenantModel


class FollowUp(TenantModel):
    """Something a member should do so the customer does not feel forgotten.

    Opened and resolved by the scan (followups/scan.py) from the record; at most one open item
    per conversation and reason. A member's own answer (done, no reply needed, not a promise)
    is kept as the resolution, and the same cause does not open the item again.
    """

    class Reason(models.TextChoices):
        # In priority order: the value of `priority` below.
        PROMISE_DUE = "promise_due", "Our promise is due"
        AWAITING_US = "awaiting_us", "Customer waiting on us"
        GONE_QUIET = "gone_quiet", "Gone quiet"
        AWAITING_THEM = "awaiting_them", "Waiting on them"

    class Resolution(models.TextChoices):
        RECORD = "record", "Resolved by the record"  # they replied, we kept the promise...
        DONE = "done", "Done"
        NO_REPLY_NEEDED = "no_reply_needed", "No reply needed"
        NOT_A_PROMISE = "not_a_promise", "Not a promise"

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="followups"
    )
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="followups")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="followups",
    )
    commitment = models.ForeignKey(
        Commitment, on_delete=models.SET_NULL, null=True, blank=True, related_name="followups"
    )
    # A key person gone quiet (a decision maker or champion), not the whole account.
    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, null=True, blank=True, related_name="followups"
    )
    reason = models.CharField(max_length=14, choices=Reason.choices)
    priority = models.PositiveSmallIntegerField()
    # What started it (the customer's turn, our question, the promise's reminder, the last
    # exchange): a member's answer holds for this cause only.
    trigger_at = models.DateTimeField()
    due_at = models.DateTimeField()
    opened_at = models.DateTimeField(default=timezone.now)
    snoozed_until = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.CharField(max_length=16, choices=Resolution.choices, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["organisation", "conversation", "reason"],
                condition=Q(resolved_at__isnull=True),
                name="followup_one_open_per_reason",
            ),
        ]
        indexes: ClassVar = [
            models.Index(
                fields=["organisation", "owner", "priority", "due_at"],
                condition=Q(resolved_at__isnull=True),
                name="followup_open_queue",
            ),
            models.Index(
                fields=["organisation", "conversation", "reason", "trigger_at"],
                name="followup_by_cause",
            ),
        ]
        ordering: ClassVar = ["priority", "due_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_reason_display()}: {self.conversation_id}"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None

    def is_snoozed(self, now: datetime.datetime | None = None) -> bool:
        return self.snoozed_until is not None and self.snoozed_until > (now or timezone.now())
