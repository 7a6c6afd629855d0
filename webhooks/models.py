"""Outbound webhooks: an organisation's subscriptions and every delivery made to them."""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils import timezone

from organisations.tenancy import TenantModel


class Event(models.TextChoices):
    MESSAGE_CREATED = "message.created", "A message was recorded (email, call, meeting, note)"
    CONVERSATION_STATE_CHANGED = (
        "conversation.state_changed",
        "A conversation changed state (whose turn it is)",
    )
    FOLLOWUP_OPENED = "followup.opened", "A follow-up was opened"
    FOLLOWUP_RESOLVED = "followup.resolved", "A follow-up was resolved"
    COMMITMENT_CHANGED = "commitment.changed", "A promise was added, suggested or changed state"
    HEALTH_BAND_CHANGED = "health.band_changed", "An account's health moved to another band"


# Sent by "Send test event" to one webhook, whatever it subscribes to.
TEST_EVENT = "webhook.test"


class Webhook(TenantModel):
    """A URL of the organisation's that receives the events it subscribes to, signed."""

    url = models.URLField(max_length=2000)
    events = ArrayField(models.CharField(max_length=40, choices=Event.choices))
    secret = models.TextField(help_text="The signing secret, encrypted; shown once on creation.")
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes: ClassVar = [
            # emit(): "which active webhooks of this organisation want this event?"
            models.Index(
                fields=["organisation"], condition=Q(is_active=True), name="webhook_org_active"
            ),
        ]
        ordering: ClassVar = ["created_at", "id"]

    def __str__(self) -> str:
        return self.url

    # Every change reaches the cache of subscribed events (webhooks/events.py) through here.
    def save(self, *args: Any, **kwargs: Any) -> None:
        super().save(*args, **kwargs)
        from webhooks.events import forget_subscriptions

        forget_subscriptions(self.organisation_id)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        organisation_id = self.organisation_id
        result = super().delete(*args, **kwargs)
        from webhooks.events import forget_subscriptions

        forget_subscriptions(organisation_id)
        return result


class WebhookDelivery(TenantModel):
    """One event for one webhook, and how getting it there went."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=40)
    # The event's id: the same for every webhook, attempt and redelivery, so receivers dedupe.
    event_id = models.UUIDField(default=uuid.uuid4)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Pending: when the next attempt may start. While an attempt runs it is the claim's end.
    next_attempt_at = models.DateTimeField(null=True, blank=True, default=timezone.now)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes: ClassVar = [
            # The delivery log of one webhook, newest first.
            models.Index(
                fields=["organisation", "webhook", "-created_at", "-id"], name="whdelivery_log"
            ),
            # The sweep for pending deliveries whose task was lost.
            models.Index(
                fields=["organisation", "next_attempt_at"],
                condition=Q(status="pending"),
                name="whdelivery_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} to webhook {self.webhook_id}: {self.status}"
