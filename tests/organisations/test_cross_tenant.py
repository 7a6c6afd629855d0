"""A member of organisation A never reaches organisation B's data, through any URL.

The walk covers every URL pattern under /o/<org-slug>/. A new pattern with a parameter this
test does not know fails it, so nobody can add a page without adding it here.
"""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from conversations.models import Message
from tests.conftest import Cast


def org_patterns() -> list[URLPattern]:
    org_resolver = next(
        p for p in get_resolver().url_patterns
        if isinstance(p, URLResolver) and "org_slug" in str(p.pattern)
    )  # fmt: skip
    return [p for p in org_resolver.url_patterns if isinstance(p, URLPattern)]


def ids_of(cast: Cast) -> dict[str, object]:
    return {
        "account_id": cast.account.pk,
        "contact_id": cast.contact.pk,
        "conversation_id": cast.conversation.pk,
        "message_id": cast.message.pk,
        "commitment_id": cast.commitment.pk,
        "state": "kept",
        "mailbox_id": cast.mailbox.pk,
        "quarantined_id": cast.quarantined.pk,
        "unsorted_id": cast.unsorted.pk,
        "decision": "dismiss",
        "followup_id": cast.followup.pk,
        "holiday_id": cast.holiday.pk,
        "resolution": "done",
        "attachment_id": cast.attachment.pk,
        "file_id": cast.draft_file.pk,
        "token_id": cast.token.pk,
        "webhook_id": cast.webhook.pk,
        "delivery_id": cast.delivery.pk,
    }


# Pages only admins reach (404 for everyone else): walked as A's admin, so "A's own ids work"
# means something.
ADMIN_ONLY = {"webhook_detail", "webhook_toggle", "webhook_delete", "webhook_test",
              "webhook_redeliver", "webhook_created"}  # fmt: skip
# Pages that show a new secret once, after post/redirect/get; without one they send you on.
SHOWN_ONCE = {"webhook_created"}


def url_for(pattern: URLPattern, slug: str, ids: dict[str, object]) -> str:
    params = list(pattern.pattern.converters)
    unknown = set(params) - set(ids)
    assert not unknown, f"cross-tenant test does not know how to fill {unknown} in {pattern.name}"
    route = str(pattern.pattern)
    for name in params:
        route = route.replace(f"<int:{name}>", str(ids[name])).replace(
            f"<str:{name}>", str(ids[name])
        )
    return f"/o/{slug}/{route}"


@pytest.mark.parametrize(
    "pattern", [p for p in org_patterns() if p.pattern.converters], ids=lambda p: p.name
)
def test_a_member_of_a_gets_404_for_bs_ids(pattern, a, b):
    # URLs without ids (home, lists, new account) are covered by the slug and list tests.
    client = a.client(a.admin if pattern.name in ADMIN_ONLY else None)
    url = url_for(pattern, a.org.slug, ids_of(b))
    for method in ("get", "post"):
        response = getattr(client, method)(url, {"body": "x", "kind": "call"})
        assert response.status_code in {404, 405}, (method, url, response.status_code)
        assert response.status_code != 405 or method == "get", (method, url)
    a_ids_response = client.get(url_for(pattern, a.org.slug, ids_of(a)))
    works = {302} if pattern.name in SHOWN_ONCE else {200, 405}
    assert a_ids_response.status_code in works, "the same page with A's own ids works"


@pytest.mark.parametrize("pattern", org_patterns(), ids=lambda p: p.name)
def test_a_member_of_a_gets_404_under_bs_slug(pattern, a, b):
    client = a.client()
    for method in ("get", "post"):
        response = getattr(client, method)(url_for(pattern, b.org.slug, ids_of(b)))
        assert response.status_code == 404, (method, pattern.name)


@pytest.mark.parametrize("pattern", org_patterns(), ids=lambda p: p.name)
def test_anonymous_visitors_are_sent_to_log_in(pattern, a):
    from tests.conftest import TenantClient as Client

    response = Client().get(url_for(pattern, a.org.slug, ids_of(a)))
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_an_unknown_organisation_slug_is_404(a):
    assert a.client().get("/o/no-such-org/accounts/").status_code == 404


def test_lists_and_pages_show_none_of_bs_rows(a, b):
    client = a.client()
    slug = a.org.slug
    # Each page with something of A's that it must show, so an empty page cannot pass.
    pages = [
        (f"/o/{slug}/", a.message.body_text),
        (f"/o/{slug}/accounts/", a.account.name),
        (f"/o/{slug}/accounts/{a.account.pk}/", a.message.body_text),
        (f"/o/{slug}/contacts/{a.contact.pk}/", a.contact.full_name),
        (f"/o/{slug}/conversations/{a.conversation.pk}/", a.commitment.text),
        (f"/o/{slug}/conversations/{a.conversation.pk}/", a.attachment.filename),
        (f"/o/{slug}/accounts/{a.account.pk}/log/", a.contact.full_name),
        (f"/o/{slug}/mail/", a.mailbox.email_address),
        (f"/o/{slug}/mail/{a.mailbox.pk}/", a.quarantined.reason),
        (f"/o/{slug}/mail/unsorted/", a.unsorted.subject),
    ]
    b_texts = [b.account.name, b.contact.full_name, b.message.body_text, b.commitment.text,
               b.conversation.subject, b.unsorted.subject, b.quarantined.reason,
               b.mailbox.email_address, b.attachment.filename]  # fmt: skip
    for page, a_text in pages:
        html = client.get(page).content.decode()
        assert a_text in html, page
        for text in b_texts:
            assert text not in html, (page, text)
    search = client.get(f"/o/{a.org.slug}/accounts/", {"q": "Customer"}).content.decode()
    assert a.account.name in search and b.account.name not in search


@pytest.mark.parametrize(
    ("field", "value_of", "error"),
    [
        ("contacts", lambda b: [b.contact.pk], "is not one of the available choices"),
        ("conversation", lambda b: b.conversation.pk, "is not one of the available choices"),
    ],
)
def test_a_posted_id_from_another_organisation_is_refused(field, value_of, error, a, b):
    data = {"kind": "call", "body": "Hello", "occurred_at": "2026-01-05T10:00", field: value_of(b)}
    response = a.client().post(f"/o/{a.org.slug}/accounts/{a.account.pk}/log/", data)
    assert response.status_code == 422
    assert error in response.content.decode()
    assert not Message.all_orgs.filter(body_text="Hello").exists()


def test_an_owner_from_another_organisation_is_refused(a, b):
    response = a.client().post(
        f"/o/{a.org.slug}/accounts/{a.account.pk}/edit/", {"name": "X", "owner": b.sales.pk}
    )
    assert response.status_code == 422
    a.account.refresh_from_db()
    assert a.account.owner == a.sales
