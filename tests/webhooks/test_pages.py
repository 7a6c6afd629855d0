"""The admin pages: URL checks with field errors, the private-address allowance, who may see."""

from __future__ import annotations

import re

import pytest

from mail.secrets import decrypt_secret
from organisations.models import Role
from tests import factories
from webhooks.models import Webhook


def add(cast, url, events=("message.created",)):  # type: ignore[no-untyped-def]
    return cast.client(cast.admin).post(
        f"/o/{cast.org.slug}/settings/webhooks/new/",
        {"url": url, "events": list(events)},
        follow=True,
    )


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("http://127.0.0.1:8000/hook", "private, loopback or link-local address (127.0.0.1)"),
        ("http://10.20.30.40/hook", "(10.20.30.40)"),
        ("http://192.168.1.5/hook", "(192.168.1.5)"),
        ("http://169.254.169.254/latest/meta-data/", "(169.254.169.254)"),
        ("http://[::1]:9000/hook", "(::1)"),
        ("http://[::ffff:127.0.0.1]/hook", "(::ffff:7f00:1)"),
        ("http://localhost:8000/hook", "localhost points at a private"),  # resolves to loopback
        ("http://0.0.0.0/hook", "(0.0.0.0)"),
        ("ftp://93.184.215.14/hook", "Use an http:// or https:// URL."),
        ("https://user:pw@93.184.215.14/hook", "no user name or password"),
        ("https://no-such-host.invalid/hook", "cannot be resolved"),
    ],
)
def test_urls_to_private_addresses_are_refused_with_a_field_error(a, url, error):
    response = add(a, url)
    assert response.status_code == 422
    html = response.content.decode()
    assert error in html, html
    assert 'class="field invalid"' in html
    assert not Webhook.objects.for_org(a.org).filter(url=url).exists()


def test_a_public_address_is_accepted_and_events_are_required(a):
    response = add(a, "https://93.184.215.14/hook", events=())
    assert response.status_code == 422
    assert "Choose at least one event." in response.content.decode()
    response = add(
        a, "https://93.184.215.14/hook", events=("message.created", "health.band_changed")
    )
    assert response.status_code == 200
    webhook = Webhook.objects.for_org(a.org).get(url="https://93.184.215.14/hook")
    assert webhook.events == ["health.band_changed", "message.created"]
    assert webhook.created_by == a.admin and webhook.is_active


def test_the_secret_is_shown_once_and_a_refresh_adds_no_second_webhook(a):
    client, slug = a.client(a.admin), a.org.slug
    url = "https://93.184.215.14/refreshed"
    made = client.post(
        f"/o/{slug}/settings/webhooks/new/", {"url": url, "events": ["message.created"]}
    )
    # Post/redirect/get: the page with the secret is a GET, so refreshing it posts nothing.
    assert made.status_code == 302
    webhook = Webhook.objects.for_org(a.org).get(url=url)
    shown = client.get(made["Location"])
    assert shown.status_code == 200
    assert "no-store" in shown["Cache-Control"]
    secret = re.search(r"data-secret>(whsec_[^<]+)<", shown.content.decode()).group(1)
    assert decrypt_secret(webhook.secret) == secret
    refreshed = client.get(made["Location"])
    assert refreshed.status_code == 302
    assert refreshed["Location"] == f"/o/{slug}/settings/webhooks/{webhook.pk}/"
    assert secret not in client.get(refreshed["Location"]).content.decode()
    assert Webhook.objects.for_org(a.org).filter(url=url).count() == 1


def test_another_admin_never_sees_the_new_secret(a):
    other = factories.MemberFactory(organisation=a.org, role=Role.ADMIN).user
    made = a.client(a.admin).post(
        f"/o/{a.org.slug}/settings/webhooks/new/",
        {"url": "https://93.184.215.14/mine", "events": ["message.created"]},
    )
    assert made.status_code == 302
    page = a.client(other).get(made["Location"])
    assert page.status_code == 302
    assert "data-secret" not in a.client(other).get(page["Location"]).content.decode()


def test_an_admin_may_allow_private_addresses_for_their_organisation_only(a, b):
    assert add(a, "http://127.0.0.1:8000/hook").status_code == 422
    page = a.client(a.admin).get(f"/o/{a.org.slug}/settings/webhooks/").content.decode()
    assert "Allow webhooks to private addresses" in page
    a.client(a.admin).post(f"/o/{a.org.slug}/settings/webhooks/", {"webhooks_allow_private": "on"})
    for url in ("http://127.0.0.1:8000/hook", "http://10.0.0.7/hook", "http://localhost/x"):
        assert add(a, url).status_code == 200, url
    assert add(b, "http://127.0.0.1:8000/hook").status_code == 422, "B is not affected"
    a.client(a.admin).post(f"/o/{a.org.slug}/settings/webhooks/", {})
    a.org.refresh_from_db()
    assert not a.org.webhooks_allow_private
    # Still only http(s), allowed or not.
    assert add(a, "ftp://10.0.0.7/hook").status_code == 422


def test_the_settings_page_links_to_webhooks(a):
    html = a.client(a.admin).get(f"/o/{a.org.slug}/settings/").content.decode()
    assert f"/o/{a.org.slug}/settings/webhooks/" in html


def test_non_admins_get_404_on_every_webhook_page(a):
    slug, hook = a.org.slug, a.webhook.pk
    for user in (a.sales,):
        client = a.client(user)
        for url in (f"/o/{slug}/settings/webhooks/", f"/o/{slug}/settings/webhooks/new/",
                    f"/o/{slug}/settings/webhooks/{hook}/"):  # fmt: skip
            assert client.get(url).status_code == 404, url
        for url in (
            f"/o/{slug}/settings/webhooks/",
            f"/o/{slug}/settings/webhooks/new/",
            f"/o/{slug}/settings/webhooks/{hook}/toggle/",
            f"/o/{slug}/settings/webhooks/{hook}/delete/",
            f"/o/{slug}/settings/webhooks/{hook}/test/",
            f"/o/{slug}/settings/webhooks/deliveries/{a.delivery.pk}/redeliver/",
        ):
            response = client.post(url, {"url": "https://93.184.215.14/", "events": ["message.created"],
                                         "webhooks_allow_private": "on"})  # fmt: skip
            assert response.status_code == 404, url
    a.org.refresh_from_db()
    assert not a.org.webhooks_allow_private
    assert Webhook.objects.for_org(a.org).count() == 1


def test_disable_enable_and_delete(a):
    client, slug, hook = a.client(a.admin), a.org.slug, a.webhook
    client.post(f"/o/{slug}/settings/webhooks/{hook.pk}/toggle/")
    hook.refresh_from_db()
    assert hook.is_active
    client.post(f"/o/{slug}/settings/webhooks/{hook.pk}/toggle/")
    hook.refresh_from_db()
    assert not hook.is_active
    response = client.post(f"/o/{slug}/settings/webhooks/{hook.pk}/delete/")
    assert response.status_code == 302
    assert not Webhook.objects.for_org(a.org).exists()


def test_the_delivery_log_shows_this_organisations_deliveries_only(a, b):
    html = (
        a.client(a.admin).get(f"/o/{a.org.slug}/settings/webhooks/{a.webhook.pk}/").content.decode()
    )
    assert a.delivery.last_error in html and b.delivery.last_error not in html
    partial = (
        a.client(a.admin)
        .get(f"/o/{a.org.slug}/settings/webhooks/{a.webhook.pk}/", headers={"HX-Request": "true"})
        .content.decode()
    )
    assert partial.lstrip().startswith('<div id="deliveries"') and a.delivery.last_error in partial
    listing = a.client(a.admin).get(f"/o/{a.org.slug}/settings/webhooks/").content.decode()
    assert a.webhook.url in listing and b.webhook.url not in listing
