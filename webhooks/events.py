"""Emitting events: where the record changes, one call says what happened.

`emit_many(org, event, items)` is the one entry point (`emit` is one item). When no active
webhook of the organisation subscribes to the event it costs a cache read (one small query on
a miss) and `items` is never even iterated, so the callers pass generators and a 500-message
ingest batch builds nothing. Otherwise the deliveries are created with one INSERT and each is
enqueued when the transaction commits (nothing is sent for a write that rolls back).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from organisations.models import Organisation
from webhooks.models import Event, Webhook, WebhookDelivery

logger = logging.getLogger(__name__)

# Subscriptions change rarely and are read on every ingest batch: cached, dropped on change.
CACHE_SECONDS = 300


def _cache_key(organisation_id: int) -> str:
    # The database name too: test and development databases share one Redis, and ids repeat.
    return f"webhooks:subscribed:{settings.DATABASES['default']['NAME']}:{organisation_id}"


def forget_subscriptions(organisation_id: int) -> None:
    """After a webhook changed: now, and again at commit (a reader may have cached the old
    subscriptions from a snapshot taken before this write became visible)."""
    key = _cache_key(organisation_id)
    _delete_quietly(key)
    transaction.on_commit(lambda: _delete_quietly(key))


def _delete_quietly(key: str) -> None:
    # The cache being down must not stop the change; the TTL bounds how long it is stale.
    try:
        cache.delete(key)
    except Exception:
        logger.warning("could not drop the cached webhook subscriptions", exc_info=True)


def subscribed_events(organisation_id: int) -> frozenset[str]:
    """The events some active webhook of the organisation wants."""
    key = _cache_key(organisation_id)
    try:
        cached = cache.get(key)
    except Exception:
        cached = None
    if cached is not None:
        return frozenset(cached)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT DISTINCT unnest(events) FROM webhooks_webhook
             WHERE organisation_id = %s AND is_active
            """,
            [organisation_id],
        )
        events = sorted(row[0] for row in cursor.fetchall())
    try:
        cache.set(key, events, CACHE_SECONDS)
    except Exception:
        logger.warning("could not cache webhook subscriptions", exc_info=True)
    return frozenset(events)


def is_subscribed(org: Organisation | int, event: str) -> bool:
    return event in subscribed_events(org if isinstance(org, int) else org.pk)


def payload(*, event_id: uuid.UUID, event: str, slug: str, data: Mapping[str, Any]) -> dict:
    return {
        "id": str(event_id),
        "type": event,
        "created_at": timezone.now().isoformat(),
        "organisation": slug,
        "data": dict(data),
    }


def emit(org: Organisation | int, event: str, data: Mapping[str, Any]) -> int:
    return emit_many(org, event, [data])


def emit_many(
    org: Organisation | int,
    event: str,
    items: Iterable[Mapping[str, Any]],
    *,
    webhooks: Iterable[Webhook] | None = None,
) -> int:
    """Deliver each item of `event` to every active webhook subscribed to it. Returns how
    many deliveries were created. `webhooks` names the targets instead (the test event)."""
    organisation_id = org if isinstance(org, int) else org.pk
    if webhooks is None:
        if event not in subscribed_events(organisation_id):
            return 0
        targets = [
            webhook
            for webhook in Webhook.objects.for_org(organisation_id).filter(is_active=True)
            if event in webhook.events
        ]
    else:
        targets = list(webhooks)
    if not targets:
        return 0
    slug = (
        org.slug
        if isinstance(org, Organisation)
        else Organisation.objects.values_list("slug", flat=True).get(pk=organisation_id)
    )
    deliveries = []
    for data in items:
        event_id = uuid.uuid4()
        body = payload(event_id=event_id, event=event, slug=slug, data=data)
        deliveries += [
            WebhookDelivery(
                organisation_id=organisation_id,
                webhook=webhook,
                event=event,
                event_id=event_id,
                payload=body,
            )
            for webhook in targets
        ]
    if not deliveries:
        return 0
    WebhookDelivery.objects.for_org(organisation_id).bulk_create(deliveries, batch_size=1000)
    ids = [delivery.pk for delivery in deliveries]
    transaction.on_commit(lambda: enqueue(organisation_id, ids))
    return len(deliveries)


def enqueue(organisation_id: int, delivery_ids: Iterable[int]) -> None:
    from webhooks.tasks import webhook_deliver

    for delivery_id in delivery_ids:
        try:
            webhook_deliver.delay(organisation_id, delivery_id)
        except Exception:  # the broker being down loses no delivery: the sweep finds it
            logger.warning("could not enqueue webhook delivery %s", delivery_id, exc_info=True)


# --- What each event says: the object's id and the fields a receiver acts on (no bodies). ---


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def message_data(message: Any) -> dict[str, Any]:
    return {
        "message_id": message.pk,
        "conversation_id": message.conversation_id,
        "account_id": message.account_id,
        "kind": message.kind,
        "direction": message.direction,
        "occurred_at": _iso(message.occurred_at),
        "subject": message.subject,
        "automated": bool(message.automated_reason),
    }


def commitment_data(
    commitment: Any, *, change: str, previous_state: str | None = None
) -> dict[str, Any]:
    return {
        "commitment_id": commitment.pk,
        "conversation_id": commitment.conversation_id,
        "message_id": commitment.message_id,
        "change": change,  # created, suggested or state
        "owed_by": commitment.owed_by,
        "text": commitment.text,
        "state": commitment.state,
        "previous_state": previous_state,
        "due_on": _iso(commitment.due_on),
        "due_at": _iso(commitment.due_at),
    }


def state_change_data(
    conversation_id: int, account_id: int, old: str, new: str, since: Any
) -> dict[str, Any]:
    return {
        "conversation_id": conversation_id,
        "account_id": account_id,
        "old_state": old,
        "new_state": new,
        "state_since": _iso(since),
    }


def emit_followups(org: Organisation, event: str, followup_ids: Iterable[int]) -> int:
    """followup.opened / followup.resolved for these items (read only when subscribed)."""
    from followups.models import FollowUp

    ids = list(followup_ids)
    if not ids or not is_subscribed(org, event):
        return 0
    rows = FollowUp.objects.for_org(org).filter(pk__in=ids).order_by("pk")
    return emit_many(
        org,
        event,
        (
            {
                "followup_id": f.pk,
                "conversation_id": f.conversation_id,
                "account_id": f.account_id,
                "owner_id": f.owner_id,
                "commitment_id": f.commitment_id,
                "contact_id": f.contact_id,
                "reason": f.reason,
                "opened_at": _iso(f.opened_at),
                "due_at": _iso(f.due_at),
                "resolved_at": _iso(f.resolved_at),
                "resolution": f.resolution,
            }
            for f in rows
        ),
    )


__all__ = [
    "Event",
    "emit",
    "emit_followups",
    "emit_many",
    "forget_subscriptions",
    "is_subscribed",
    "subscribed_events",
]
