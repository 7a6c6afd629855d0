"""Deliveries to a real HTTP receiver on 127.0.0.1: signed, retried, given up on, logged."""

from __future__ import annotations

import datetime
import json
import re
from pathlib import Path
from typing import Any

import time_machine
from django.utils import timezone

from mail.secrets import decrypt_secret
from organisations.models import Organisation
from tests import factories
from webhooks import signing
from webhooks.models import Webhook, WebhookDelivery
from webhooks.services import backoff, delivery_attempt
from webhooks.tasks import webhook_deliver


def allow_private(cast: Any) -> None:
    response = cast.client(cast.admin).post(
        f"/o/{cast.org.slug}/settings/webhooks/", {"webhooks_allow_private": "on"}
    )
    assert response.status_code == 302
    cast.org.refresh_from_db()
    assert cast.org.webhooks_allow_private


def add_webhook(cast: Any, url: str, events: list[str]) -> tuple[Webhook, str]:
    """Through the admin page, as a person would; returns the webhook and the secret shown."""
    response = cast.client(cast.admin).post(
        f"/o/{cast.org.slug}/settings/webhooks/new/", {"url": url, "events": events}, follow=True
    )
    assert response.status_code == 200, response.content.decode()
    html = response.content.decode()
    secret = re.search(r"data-secret>(whsec_[^<]+)<", html).group(1)
    webhook = Webhook.objects.for_org(cast.org).get(url=url)
    return webhook, secret


def readme_verify() -> Any:
    """The receiver's check exactly as the README shows it."""
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    section = readme.split("### Receiving webhooks", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, Any] = {}
    exec(code, namespace)  # noqa: S102 - our own README
    return namespace["verify"]


def verify(secret: str, received: Any) -> bool:
    header = received.headers["Threadline-Signature"]
    ours = signing.verify(secret, received.body, header)
    assert readme_verify()(secret, received.body, header) == ours
    return ours


def test_a_delivery_is_signed_with_the_secret_shown_once_and_retried_after_a_500(
    a, receiver, eager, django_capture_on_commit_callbacks
):
    allow_private(a)
    webhook, secret = add_webhook(a, receiver.url, ["message.created"])
    assert decrypt_secret(webhook.secret) == secret and secret not in webhook.secret
    detail = a.client(a.admin).get(f"/o/{a.org.slug}/settings/webhooks/{webhook.pk}/")
    assert secret not in detail.content.decode(), "the secret is shown once, on creation"

    receiver.statuses = [500, 200]
    with django_capture_on_commit_callbacks(execute=True):
        response = a.client(a.sales).post(
            f"/o/{a.org.slug}/accounts/{a.account.pk}/log/",
            {
                "kind": "call",
                "body": "Renewal call\nPricing stays at 40k",
                "occurred_at": "2026-11-20T10:00",
            },
        )
        assert response.status_code in {200, 302}

    first, second = receiver.received
    assert first.body == second.body, "a retry sends the same event"
    assert verify(secret, first) and verify(secret, second)
    assert not signing.verify("whsec_wrong", second.body, second.headers["Threadline-Signature"])
    assert first.path == "/hooks/threadline"
    assert second.headers["Threadline-Event"] == "message.created"
    assert second.headers["Content-Type"] == "application/json"
    event = json.loads(second.body)
    assert second.headers["Threadline-Delivery"] == event["id"]
    assert event["type"] == "message.created" and event["organisation"] == a.org.slug
    data = event["data"]
    assert data["account_id"] == a.account.pk and data["kind"] == "call"
    assert data["subject"] == "Renewal call"
    assert "Pricing stays" not in second.body.decode(), "bodies stay out"

    delivery = WebhookDelivery.objects.for_org(a.org).get(webhook=webhook)
    assert delivery.status == WebhookDelivery.Status.DELIVERED
    assert (delivery.attempts, delivery.last_status_code, delivery.last_error) == (2, 200, "")
    assert str(delivery.event_id) == event["id"] and delivery.delivered_at is not None

    # Delivered is final: a duplicated or redelivered task sends nothing.
    assert webhook_deliver(a.org.pk, delivery.pk)["outcome"] == "skipped"
    assert len(receiver.received) == 2


def test_it_gives_up_after_the_limit_and_the_failure_shows_in_the_log(
    a, receiver, eager, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    allow_private(a)
    webhook, secret = add_webhook(a, receiver.url, ["commitment.changed"])
    receiver.statuses = [500]
    with django_capture_on_commit_callbacks(execute=True):
        response = a.client(a.admin).post(f"/o/{a.org.slug}/settings/webhooks/{webhook.pk}/test/")
        assert response.status_code == 302

    assert len(receiver.received) == 3, "the limit, and not one more"
    assert all(verify(secret, r) for r in receiver.received)
    assert json.loads(receiver.received[0].body)["type"] == "webhook.test"
    delivery = WebhookDelivery.objects.for_org(a.org).get(webhook=webhook)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("failed", 3, 500)
    assert delivery.last_error.startswith("gave up after 3 attempts: HTTP 500")
    assert webhook_deliver(a.org.pk, delivery.pk)["outcome"] == "skipped"
    assert len(receiver.received) == 3

    page = a.client(a.admin).get(f"/o/{a.org.slug}/settings/webhooks/{webhook.pk}/")
    html = page.content.decode()
    assert "Failed" in html and "gave up after 3 attempts: HTTP 500" in html
    listing = a.client(a.admin).get(f"/o/{a.org.slug}/settings/webhooks/").content.decode()
    assert receiver.url in listing

    # Redeliver: a new delivery with the same event id; this time the receiver is back.
    receiver.statuses = [200]
    with django_capture_on_commit_callbacks(execute=True):
        a.client(a.admin).post(
            f"/o/{a.org.slug}/settings/webhooks/deliveries/{delivery.pk}/redeliver/"
        )
    again = WebhookDelivery.objects.for_org(a.org).exclude(pk=delivery.pk).get(webhook=webhook)
    assert again.status == "delivered" and again.event_id == delivery.event_id
    assert receiver.received[-1].body == receiver.received[0].body
    delivery.refresh_from_db()
    assert delivery.status == "failed", "the log keeps what happened"


def test_attempts_back_off_exponentially_and_a_claimed_attempt_is_not_repeated(a, receiver):
    a.org.webhooks_allow_private = True
    a.org.save()
    webhook = factories.WebhookFactory(organisation=a.org, url=receiver.url)
    delivery = factories.WebhookDeliveryFactory(
        organisation=a.org, webhook=webhook, status="pending", attempts=0,
        next_attempt_at=timezone.now(), last_status_code=None,
    )  # fmt: skip
    receiver.statuses = [503]
    start = timezone.now()
    waits: list[datetime.timedelta] = []
    with time_machine.travel(start, tick=False) as traveller:
        for _ in range(3):
            assert delivery_attempt(org=a.org, delivery_id=delivery.pk).outcome == "retry"
            assert delivery_attempt(org=a.org, delivery_id=delivery.pk).outcome == "skipped"
            delivery.refresh_from_db()
            assert delivery.next_attempt_at is not None
            waits.append(delivery.next_attempt_at - timezone.now())
            traveller.shift(waits[-1])
    assert waits == [backoff(1), backoff(2), backoff(3)]
    assert [w.total_seconds() for w in waits] == [30, 60, 120]
    assert len(receiver.received) == 3 and delivery.attempts == 3
    assert backoff(30) == datetime.timedelta(hours=6), "capped"


def test_a_redirect_is_not_followed(a, receiver, eager, django_capture_on_commit_callbacks):
    a.org.webhooks_allow_private = True
    a.org.save()
    webhook = factories.WebhookFactory(organisation=a.org, url=receiver.url)
    receiver.statuses = [302]
    delivery = factories.WebhookDeliveryFactory(
        organisation=a.org, webhook=webhook, status="pending", attempts=7,
        next_attempt_at=timezone.now(),
    )  # fmt: skip
    webhook_deliver(a.org.pk, delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == "failed" and delivery.last_status_code == 302
    assert "redirects are not followed" in delivery.last_error
    assert len(receiver.received) == 1


def test_an_address_gone_private_is_refused_at_delivery_time(a, receiver, eager):
    # Allowed when it was added; the admin then turned the allowance off. The same check runs
    # before every attempt, so a name that now resolves to a private address is refused too.
    webhook = factories.WebhookFactory(
        organisation=a.org, url=receiver.url.replace("127.0.0.1", "localhost")
    )
    Organisation.objects.filter(pk=a.org.pk).update(webhooks_allow_private=False)
    delivery = factories.WebhookDeliveryFactory(
        organisation=a.org, webhook=webhook, status="pending", attempts=7,
        next_attempt_at=timezone.now(), last_status_code=None,
    )  # fmt: skip
    webhook_deliver(a.org.pk, delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == "failed" and "private, loopback or link-local" in delivery.last_error
    assert receiver.received == []


def test_a_disabled_webhook_gets_nothing(a, receiver, eager):
    a.org.webhooks_allow_private = True
    a.org.save()
    webhook = factories.WebhookFactory(organisation=a.org, url=receiver.url, is_active=False)
    delivery = factories.WebhookDeliveryFactory(
        organisation=a.org, webhook=webhook, status="pending", attempts=0,
        next_attempt_at=timezone.now(),
    )  # fmt: skip
    webhook_deliver(a.org.pk, delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == "failed" and delivery.last_error == "the webhook is disabled"
    assert receiver.received == []


def test_the_signature_is_stripe_style_and_refuses_old_timestamps():
    body = b'{"id":"x"}'
    header = signing.sign("whsec_abc", body, now=1_700_000_000)
    t, v1 = header.split(",")
    assert t == "t=1700000000" and v1.startswith("v1=") and len(v1) == 3 + 64
    assert not signing.verify("whsec_abc", body, header), "too old"
    fresh = signing.sign("whsec_abc", body)
    assert signing.verify("whsec_abc", body, fresh)
    assert not signing.verify("whsec_abc", body + b" ", fresh)


def test_the_sweep_sends_deliveries_whose_task_was_lost_and_prunes_old_ones(a, b, receiver, eager):
    from webhooks.tasks import webhook_sweep

    a.org.webhooks_allow_private = True
    a.org.save()
    webhook = factories.WebhookFactory(organisation=a.org, url=receiver.url)
    lost = factories.WebhookDeliveryFactory(
        organisation=a.org, webhook=webhook, status="pending", attempts=1,
        next_attempt_at=timezone.now() - datetime.timedelta(minutes=10),
    )  # fmt: skip
    due_soon = factories.WebhookDeliveryFactory(
        organisation=a.org, webhook=webhook, status="pending", attempts=1,
        next_attempt_at=timezone.now() + datetime.timedelta(minutes=1),
    )  # fmt: skip
    old = factories.WebhookDeliveryFactory(
        organisation=a.org, webhook=webhook, status="delivered",
        created_at=timezone.now() - datetime.timedelta(days=31),
    )  # fmt: skip
    assert webhook_sweep() == 1
    lost.refresh_from_db()
    due_soon.refresh_from_db()
    assert lost.status == "delivered" and len(receiver.received) == 1
    assert due_soon.status == "pending", "its own task is still coming"
    assert not WebhookDelivery.objects.for_org(a.org).filter(pk=old.pk).exists()
    assert WebhookDelivery.objects.for_org(b.org).filter(pk=b.delivery.pk).exists()


def test_a_delivery_over_https_checks_the_receivers_certificate(
    a, tls_receiver, eager, monkeypatch, django_capture_on_commit_callbacks
):
    allow_private(a)  # "localhost" is a loopback address
    webhook, secret = add_webhook(a, tls_receiver.url, ["message.created"])
    admin = a.client(a.admin)
    test_url = f"/o/{a.org.slug}/settings/webhooks/{webhook.pk}/test/"

    # A certificate no authority we trust signed: refused, and the log says why.
    with django_capture_on_commit_callbacks(execute=True):
        admin.post(test_url)
    refused = WebhookDelivery.objects.for_org(a.org).get(webhook=webhook)
    assert refused.status == WebhookDelivery.Status.FAILED and tls_receiver.received == []
    assert "TLS failed" in refused.last_error and "CERTIFICATE_VERIFY_FAILED" in refused.last_error
    detail = admin.get(f"/o/{a.org.slug}/settings/webhooks/{webhook.pk}/").content.decode()
    assert "CERTIFICATE_VERIFY_FAILED" in detail

    # Once its authority is trusted, the same receiver gets the signed event over TLS.
    monkeypatch.setenv("SSL_CERT_FILE", tls_receiver.ca_file)
    with django_capture_on_commit_callbacks(execute=True):
        admin.post(test_url)
    [received] = tls_receiver.received
    assert verify(secret, received)
    [delivered] = (
        WebhookDelivery.objects.for_org(a.org).filter(webhook=webhook).exclude(pk=refused.pk)
    )
    assert delivered.status == WebhookDelivery.Status.DELIVERED
