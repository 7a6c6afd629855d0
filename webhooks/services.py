"""What admins do with webhooks, and one attempt at a delivery."""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from mail.secrets import decrypt_secret, encrypt_secret
from organisations.models import Organisation, User
from webhooks import addresses, sending, signing
from webhooks.events import emit_many, enqueue
from webhooks.models import TEST_EVENT, Webhook, WebhookDelivery

# An attempt holds its claim this long: past it, a lost attempt may be taken up again.
CLAIM_SECONDS = 60


@dataclass(frozen=True)
class Created:
    webhook: Webhook
    secret: str  # the only time it is available in plain text


def webhook_create(*, org: Organisation, url: str, events: list[str], by: User | None) -> Created:
    """Subscribe a URL (already checked by the form); the secret is returned once."""
    secret = signing.new_secret()
    webhook = Webhook.objects.for_org(org).create(
        url=url.strip(), events=sorted(set(events)), secret=encrypt_secret(secret), created_by=by
    )
    return Created(webhook, secret)


def webhook_set_active(*, org: Organisation, webhook: Webhook, active: bool) -> Webhook:
    webhook.is_active = active
    webhook.save(update_fields=["is_active"])
    return webhook


def webhook_delete(*, org: Organisation, webhook: Webhook) -> None:
    webhook.delete()  # its deliveries with it; pending ones find nothing to send


@transaction.atomic
def webhook_send_test(*, org: Organisation, webhook: Webhook, by: User | None) -> int:
    """A `webhook.test` event to this webhook only, whatever it subscribes to."""
    data = {"message": "A test event from Threadline.", "sent_by": by.email if by else None}
    return emit_many(org, TEST_EVENT, [data], webhooks=[webhook])


@transaction.atomic
def delivery_redeliver(*, org: Organisation, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send an event again as a new delivery with the same event id (receivers dedupe on it);
    the old row stays in the log as it was, and a delivered one is never sent again."""
    again = WebhookDelivery.objects.for_org(org).create(
        webhook_id=delivery.webhook_id,
        event=delivery.event,
        event_id=delivery.event_id,
        payload=delivery.payload,
    )
    transaction.on_commit(lambda: enqueue(org.pk, [again.pk]))
    return again


def backoff(attempts: int) -> datetime.timedelta:
    """Wait after the n-th failed attempt: 30 s, 1, 2, 4, 8 min... capped at 6 hours."""
    seconds = settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** max(0, attempts - 1)
    return datetime.timedelta(seconds=min(seconds, 6 * 3600))


@dataclass(frozen=True)
class Attempt:
    outcome: str  # delivered, retry, failed, or skipped (not ours to send now)
    retry_in: float | None = None
    error: str = ""


def delivery_attempt(*, org: Organisation, delivery_id: int) -> Attempt:
    """One attempt. Only the run that claims the delivery (one conditional UPDATE: pending and
    due) sends, so a redelivered or duplicated task does nothing; a delivered or failed one is
    never sent again. At least once, not exactly once: a worker that dies after the receiver
    answered sends again after the claim runs out, with the same event id."""
    now = timezone.now()
    claimed = (
        WebhookDelivery.objects.for_org(org)
        .filter(pk=delivery_id, status=WebhookDelivery.Status.PENDING)
        .filter(models.Q(next_attempt_at__isnull=True) | models.Q(next_attempt_at__lte=now))
        .update(
            attempts=models.F("attempts") + 1,
            next_attempt_at=now + datetime.timedelta(seconds=CLAIM_SECONDS),
        )
    )
    if not claimed:
        return Attempt("skipped")
    delivery = WebhookDelivery.objects.for_org(org).select_related("webhook").get(pk=delivery_id)
    webhook = delivery.webhook
    if not webhook.is_active:
        return _finish(org, delivery, sending.Outcome(False, None, "the webhook is disabled"),
                       final=True)  # fmt: skip
    body = json.dumps(delivery.payload, separators=(",", ":")).encode()
    try:
        secret = decrypt_secret(webhook.secret)
        # Resolved again now: the name may point elsewhere since it was saved (DNS rebinding).
        target = addresses.check(webhook.url, allow_private=org.webhooks_allow_private)
    except addresses.AddressRefused as error:
        outcome = sending.Outcome(False, None, str(error))
    except ValueError:
        outcome = sending.Outcome(
            False, None, "the signing secret cannot be decrypted (was the key changed?)"
        )
        return _finish(org, delivery, outcome, final=True)
    else:
        outcome = sending.post(
            target,
            body,
            {
                signing.HEADER: signing.sign(secret, body),
                "Threadline-Event": delivery.event,
                "Threadline-Delivery": str(delivery.event_id),
            },
        )
    return _finish(org, delivery, outcome, final=False)


def _finish(
    org: Organisation, delivery: WebhookDelivery, outcome: sending.Outcome, *, final: bool
) -> Attempt:
    now = timezone.now()
    row = WebhookDelivery.objects.for_org(org).filter(pk=delivery.pk)
    if outcome.delivered:
        row.update(
            status=WebhookDelivery.Status.DELIVERED,
            delivered_at=now,
            next_attempt_at=None,
            last_status_code=outcome.status_code,
            last_error="",
        )
        return Attempt("delivered")
    limit = settings.WEBHOOK_MAX_ATTEMPTS
    if final or delivery.attempts >= limit:
        reason = outcome.error if final else f"gave up after {delivery.attempts} attempts: "
        row.update(
            status=WebhookDelivery.Status.FAILED,
            next_attempt_at=None,
            last_status_code=outcome.status_code,
            last_error=(reason if final else reason + outcome.error)[:2000],
        )
        return Attempt("failed", error=outcome.error)
    wait = backoff(delivery.attempts)
    row.update(
        next_attempt_at=now + wait,
        last_status_code=outcome.status_code,
        last_error=outcome.error[:2000],
    )
    return Attempt("retry", retry_in=wait.total_seconds(), error=outcome.error)


def deliveries_due(*, org: Organisation, older_than: datetime.timedelta) -> list[int]:
    """Pending deliveries overdue by this much: their task was lost (broker restarted, worker
    killed mid-attempt). The sweep enqueues them again; the claim keeps that harmless."""
    return list(
        WebhookDelivery.objects.for_org(org)
        .filter(
            status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=timezone.now() - older_than
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:1000]
    )


def deliveries_prune(*, org: Organisation, older_than: datetime.timedelta) -> int:
    """Delivered and failed deliveries past the retention period go (the log stays bounded)."""
    deleted, _ = (
        WebhookDelivery.objects.for_org(org)
        .filter(created_at__lt=timezone.now() - older_than)
        .exclude(status=WebhookDelivery.Status.PENDING)
        .delete()
    )
    return deleted
