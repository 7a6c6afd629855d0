"""Organisation A's token never reads or writes organisation B, through any API operation.

The operations come from the API's own schema, so a new endpoint is walked without anyone
adding it here; one whose resource this test cannot fill with B's ids fails it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from drf_spectacular.generators import SchemaGenerator

from conversations.models import Commitment, Message
from health.models import HealthSnapshot
from health.services import health_snapshots_refresh
from tests.api.conftest import Api
from tests.conftest import Cast


def operations() -> list[tuple[str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return [
        (path, method.upper())
        for path, item in schema["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    ]


def _ids(cast: Cast) -> dict[str, Any]:
    return {
        "accounts": cast.account.pk,
        "domains": cast.domain.pk,
        "contacts": cast.contact.pk,
        "conversations": cast.conversation.pk,
        "messages": cast.message.pk,
        "commitments": cast.commitment.pk,
        "followups": cast.followup.pk,
        "health": HealthSnapshot.all_orgs.filter(organisation=cast.org).first().pk,
        "mailboxes": cast.mailbox.pk,
    }


def fill(path: str, slug: str, ids: dict[str, Any]) -> str:
    path = path.replace("{org_slug}", slug)
    if "{id}" not in path:
        return path
    resource = path.split(f"{slug}/")[1].split("/")[0]
    assert resource in ids, f"the cross-tenant API test does not know how to fill {path}"
    return path.replace("{id}", str(ids[resource]))


@pytest.fixture
def both(a: Cast, b: Cast) -> tuple[Cast, Cast]:
    for cast in (a, b):
        health_snapshots_refresh(org=cast.org)
    return a, b


def b_texts(b: Cast) -> list[str]:
    return [b.account.name, b.contact.full_name, b.message.body_text, b.commitment.text,
            b.conversation.subject, b.domain.domain, b.mailbox.email_address,
            b.org.slug]  # fmt: skip


def call(api: Api, method: str, url: str) -> Any:
    send = getattr(api.client, method.lower())
    if method == "GET":
        return send(url, **api.headers)
    return send(url, data=json.dumps({}), content_type="application/json", **api.headers)


@pytest.mark.parametrize(("path", "method"), operations(), ids=lambda v: str(v))
def test_a_token_of_organisation_a_never_reaches_b(path, method, both):
    a, b = both
    api = Api(a)
    # Under B's slug: nothing, whatever the ids.
    response = call(api, method, fill(path, b.org.slug, _ids(b)))
    assert response.status_code == 404, (method, path, response.status_code)
    if "{id}" in path:
        # B's row under A's slug: not found, for reads and writes alike.
        response = call(api, method, fill(path, a.org.slug, _ids(b)))
        assert response.status_code == 404, (method, path, response.status_code)
        # The same with A's own row answers, so the 404 above was not for nothing.
        own = call(api, "GET", fill(path, a.org.slug, _ids(a)))
        assert own.status_code in {200, 405}, (path, own.status_code)
    elif method == "GET":
        response = api.client.get(
            fill(path, a.org.slug, _ids(a)), {"q": "secret pricing"}, **api.headers
        )
        assert response.status_code == 200, (path, response.content)
        body = response.content.decode()
        for text in b_texts(b):
            assert text not in body, (path, text)


def test_lists_show_a_rows_and_none_of_bs(both):
    a, b = both
    api = Api(a)
    expected = {
        "accounts/": a.account.name,
        "domains/": a.domain.domain,
        "contacts/": a.contact.full_name,
        "conversations/": a.conversation.subject,
        "messages/": a.message.body_text,
        "commitments/": a.commitment.text,
        "followups/": str(a.followup.pk),
        "mailboxes/": a.mailbox.email_address,
        "search/?q=secret%20pricing": a.message.subject,
        "conversations/?expand=messages,commitments": a.commitment.text,
        "accounts/?expand=contacts": a.contact.full_name,
    }
    for path, text in expected.items():
        body = api.get(path).content.decode()
        assert text in body, path
        for b_text in b_texts(b):
            assert b_text not in body, (path, b_text)
    health = api.get("health/").json()["results"]
    assert {row["account"] for row in health} == {a.account.pk}


@pytest.mark.parametrize(
    ("path", "body_of", "field"),
    [
        ("contacts/", lambda b: {"account": b.account.pk, "full_name": "X"}, "account"),
        ("messages/", lambda b: {"account": b.account.pk, "kind": "call", "body": "X"}, "account"),
        ("commitments/", lambda b: {"conversation": b.conversation.pk, "owed_by": "us", "text": "X"},
         "conversation"),
        ("accounts/", lambda b: {"name": "X", "owner": b.sales.pk}, "owner"),
    ],
)  # fmt: skip
def test_ids_from_b_in_a_body_are_refused_and_nothing_is_written(path, body_of, field, both):
    a, b = both
    before = (Message.all_orgs.count(), Commitment.all_orgs.count())
    response = Api(a).post(path, body_of(b))
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert (Message.all_orgs.count(), Commitment.all_orgs.count()) == before


def test_a_logged_call_cannot_name_bs_people_or_conversation(both):
    a, b = both
    body = {"account": a.account.pk, "kind": "call", "body": "X"}
    api = Api(a)
    assert api.post("messages/", {**body, "contacts": [b.contact.pk]}).status_code == 400
    assert api.post("messages/", {**body, "conversation": b.conversation.pk}).status_code == 400
    response = api.patch(
        f"commitments/{a.commitment.pk}/", {"state": "kept", "kept_by_message": b.message.pk}
    )
    assert response.status_code == 400
    assert not Message.all_orgs.filter(body_text="X").exists()
