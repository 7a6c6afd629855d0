"""What a script can do through the API, and that it changes the record as the web UI does."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Account
from api.services import api_token_create
from conversations.models import Commitment, Conversation, Message
from conversations.search_index import messages_index
from followups.models import FollowUp
from health.models import HealthSnapshot
from health.services import health_snapshots_refresh
from organisations.models import Membership, Role
from tests import factories
from tests.api.conftest import Api, error_of


def token_for(cast, user) -> Api:
    membership = Membership.objects.get(organisation=cast.org, user=user)
    return Api(cast, api_token_create(membership=membership, name="t")[1])


# --- Accounts and domains ---


def test_an_account_is_made_with_its_domains_and_found_by_one(api, a):
    response = api.post(
        "accounts/", {"name": "Initech", "domains": ["@Initech.com", "initech.co.uk"]}
    )
    assert response.status_code == 201, response.content
    made = response.json()
    assert made["domains"] == ["initech.co.uk", "initech.com"]
    found = api.get("accounts/", {"domain": "initech.com"}).json()["results"]
    assert [row["id"] for row in found] == [made["id"]]
    assert (
        api.get("domains/", {"domain": "initech.co.uk"}).json()["results"][0]["account"]
        == made["id"]
    )


def test_bad_account_input_says_what_is_wrong_and_changes_nothing(api, a):
    response = api.post("accounts/", {"name": a.account.name.upper(), "domains": ["gmail.com"]})
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "invalid"
    assert error["fields"]["name"] == ["There is already an account with this name."]
    assert "free-mail domain" in error["fields"]["domains"][0]
    assert Account.all_orgs.filter(organisation=a.org).count() == 1


def test_changing_an_account_name_keeps_its_domains(api, a):
    response = api.patch(f"accounts/{a.account.pk}/", {"name": "Renamed Ltd"})
    assert response.status_code == 200
    assert response.json()["domains"] == [a.domain.domain]
    assert Account.all_orgs.get(pk=a.account.pk).name == "Renamed Ltd"


def test_accounts_expand_to_their_people_in_a_fixed_number_of_queries(api, a):
    for n in range(30):
        account = factories.AccountFactory(organisation=a.org, name=f"Bulk {n:02}")
        factories.ContactFactory(organisation=a.org, account=account, full_name=f"P{n}")
    with CaptureQueriesContext(connection) as queries:
        rows = api.get("accounts/", {"expand": "contacts", "limit": 50}).json()["results"]
    assert len(rows) == 31
    assert all(len(row["contacts"]) == 1 for row in rows)
    assert len(queries) <= 12, [q["sql"][:80] for q in queries]
    assert api.get("accounts/").json()["results"][0]["contacts"] is None


def test_an_unknown_expansion_is_refused(api):
    error = error_of(api.get("accounts/", {"expand": "secrets"}))
    assert "Cannot expand secrets" in error["fields"]["expand"][0]


def test_pages_follow_the_cursor_without_repeats(api, a):
    for n in range(4):
        factories.AccountFactory(organisation=a.org, name=f"Page {n}")
    seen, url = [], api.url("accounts/") + "?limit=2"
    while url:
        body = api.client.get(url, **api.headers).json()
        seen += [row["name"] for row in body["results"]]
        url = body["next"]
    assert len(seen) == 5 and len(set(seen)) == 5
    assert seen == sorted(seen)
    assert "limit" in error_of(api.get("accounts/", {"limit": "lots"}))["fields"]


def test_a_days_health_pages_through_every_account_once_however_many_there_are(api, a):
    # One snapshot per account shares each day: more than DRF's cursor counts past (1,000).
    day = datetime.date(2026, 11, 1)
    accounts = Account.objects.for_org(a.org).bulk_create(
        Account(organisation=a.org, name=f"Account {n:04}") for n in range(1250)
    )
    HealthSnapshot.objects.for_org(a.org).bulk_create(
        HealthSnapshot(organisation=a.org, account=account, day=day, band="healthy", inputs={},
                       mutuality=1, interactivity=1, continuity=1, breadth=1, responsiveness=1,
                       commitments=1, recency=1)
        for account in accounts
    )  # fmt: skip
    seen, url = [], api.url("health/") + "?limit=200"
    for _ in range(10):  # a cursor that went round in circles would never end
        body = api.client.get(url, **api.headers).json()
        seen += [row["account"] for row in body["results"]]
        url = body["next"]
        if not url:
            break
    assert url is None
    assert sorted(seen) == sorted(account.pk for account in accounts)


# --- Contacts ---


def test_a_contact_is_found_by_an_address_as_mail_would_match_it(api, a):
    response = api.post(
        "contacts/",
        {"account": a.account.pk, "full_name": "Ann Lee", "emails": ["Ann.Lee@Initech.example"],
         "phone": "+44 20 7946 0000", "level": "executive"},
    )  # fmt: skip
    assert response.status_code == 201, response.content
    found = api.get("contacts/", {"email": "ann.lee+news@initech.example"}).json()["results"]
    assert [c["full_name"] for c in found] == ["Ann Lee"]
    assert {x["kind"] for x in found[0]["addresses"]} == {"email", "phone"}
    taken = api.post(
        "contacts/",
        {"account": a.account.pk, "full_name": "Other", "emails": ["ann.lee@initech.example"]},
    )
    assert "already belongs to Ann Lee" in error_of(taken)["fields"]["emails"][0]


# --- Logging what was said ---


def test_logging_a_call_records_it_and_the_promise_made(api, a):
    response = api.post(
        "messages/",
        {"account": a.account.pk, "kind": "call", "initiated_by": "inbound",
         "body": "They asked about the renewal price.", "contacts": [a.contact.pk],
         "we_owe": "Send the renewal quote", "we_owe_due": "2030-01-10"},
    )  # fmt: skip
    assert response.status_code == 201, response.content
    message = response.json()
    assert message["kind"] == "call" and message["direction"] == "inbound"
    assert {p["contact"] for p in message["participants"]} >= {a.contact.pk}
    conversation = api.get(f"conversations/{message['conversation']}/", {"expand": "commitments"})
    commitments = conversation.json()["commitments"]
    assert [(c["text"], c["state"], c["due_on"]) for c in commitments] == [
        ("Send the renewal quote", "open", "2030-01-10")
    ]


def test_a_logged_interaction_with_bad_input_says_why_and_writes_nothing(api, a):
    before = Message.all_orgs.count()
    response = api.post(
        "messages/",
        {"account": a.account.pk, "kind": "email", "body": " ",
         "occurred_at": (timezone.now() + datetime.timedelta(days=2)).isoformat(),
         "they_owe_due": "2030-01-01"},
    )  # fmt: skip
    fields = error_of(response)["fields"]
    assert set(fields) >= {"kind", "body", "occurred_at"}
    assert Message.all_orgs.count() == before


# --- Commitments ---


def test_a_promise_is_added_then_kept(api, a):
    made = api.post(
        "commitments/",
        {"conversation": a.conversation.pk, "owed_by": "them", "text": "Sign the order"},
    )
    assert made.status_code == 201, made.content
    kept = api.patch(
        f"commitments/{made.json()['id']}/", {"state": "kept", "kept_by_message": a.message.pk}
    )
    assert kept.status_code == 200, kept.content
    assert kept.json()["state"] == "kept"
    assert kept.json()["kept_by_message"] == a.message.pk
    again = api.patch(f"commitments/{made.json()['id']}/", {"state": "dropped"})
    assert "cannot become" in error_of(again)["message"]


# --- Follow-ups ---


def test_a_member_snoozes_and_resolves_their_follow_ups(api, a):
    assert [f["id"] for f in api.get("followups/").json()["results"]] == [a.followup.pk]
    until = (timezone.now() + datetime.timedelta(days=3)).isoformat()
    assert api.post(f"followups/{a.followup.pk}/snooze/", {"until": until}).status_code == 200
    assert api.get("followups/").json()["results"] == []
    assert [f["id"] for f in api.get("followups/", {"status": "snoozed"}).json()["results"]] == [
        a.followup.pk
    ]
    done = api.post(f"followups/{a.followup.pk}/resolve/", {"resolution": "no_reply_needed"})
    assert done.status_code == 200
    assert done.json()["resolution"] == "no_reply_needed"
    assert Conversation.all_orgs.get(pk=a.conversation.pk).no_reply_needed_at is not None
    assert (
        "already resolved" in error_of(api.post(f"followups/{a.followup.pk}/resolve/"))["message"]
    )


def test_only_managers_reach_other_members_follow_ups(a):
    other = factories.FollowUpFactory(
        organisation=a.org, conversation=a.conversation, owner=a.admin,
        reason=FollowUp.Reason.GONE_QUIET,
    )  # fmt: skip
    sales = Api(a)
    assert sales.get(f"followups/{other.pk}/").status_code == 404
    assert sales.post(f"followups/{other.pk}/resolve/").status_code == 404
    assert {f["id"] for f in sales.get("followups/", {"owner": "all"}).json()["results"]} == {
        a.followup.pk
    }
    admin = token_for(a, a.admin)
    everyone = admin.get("followups/", {"owner": "all"}).json()["results"]
    assert {f["id"] for f in everyone} == {a.followup.pk, other.pk}


# --- Conversations ---


def test_reassigning_a_conversation_follows_the_web_uis_rule(a):
    manager = factories.MemberFactory(organisation=a.org, role=Role.MANAGER).user
    denied = Api(a).patch(f"conversations/{a.conversation.pk}/", {"owner": a.sales.pk})
    assert denied.status_code == 403
    moved = token_for(a, manager).patch(
        f"conversations/{a.conversation.pk}/", {"owner": a.sales.pk}
    )
    assert moved.status_code == 200 and moved.json()["owner"] == a.sales.pk
    assert FollowUp.all_orgs.get(pk=a.followup.pk).owner == a.sales


def test_a_conversation_is_reassigned_to_someone_never_to_nobody(a):
    # As in the web UI's reassign form: its open follow-ups would be nobody's.
    Conversation.all_orgs.filter(pk=a.conversation.pk).update(owner=a.sales)
    for api in (Api(a), token_for(a, a.admin)):
        response = api.patch(f"conversations/{a.conversation.pk}/", {"owner": None})
        assert response.status_code == 400
        assert error_of(response)["fields"] == {"owner": ["Choose a member to give it to."]}
    assert Conversation.all_orgs.get(pk=a.conversation.pk).owner == a.sales
    assert FollowUp.all_orgs.get(pk=a.followup.pk).owner == a.sales


# --- Health, search, mailboxes ---


def test_health_is_read_with_its_reasons(api, a):
    health_snapshots_refresh(org=a.org)
    rows = api.get("health/", {"latest": "true", "expand": "explanation"}).json()["results"]
    assert [row["account"] for row in rows] == [a.account.pk]
    explanation = rows[0]["explanation"]
    assert {c["component"] for c in explanation["components"]} == set(rows[0]["components"])
    assert all(c["sentence"] for c in explanation["components"])


def test_search_finds_a_phrase_and_highlights_it(api, a):
    other = factories.MessageFactory(
        organisation=a.org,
        conversation=a.conversation,
        body_text="pricing was secret in the spring",
    )
    messages_index(org=a.org)
    body = api.get("search/", {"q": '"secret pricing"'}).json()
    assert [m["id"] for m in body["messages"]] == [a.message.pk]
    assert "<mark>secret</mark> <mark>pricing</mark>" in body["messages"][0]["snippet_highlighted"]
    assert other.pk not in [
        m["id"] for m in api.get("search/", {"q": "pricing -spring"}).json()["messages"]
    ]


def test_search_filter_errors_come_in_the_one_error_body(api, a, b):
    error = error_of(api.get("search/", {"q": "pricing", "account": b.account.pk}))
    assert error["code"] == "invalid"
    assert error["fields"] == {
        "account": ["Select a valid choice. That choice is not one of the available choices."]
    }
    error = error_of(
        api.get("search/", {"q": "pricing", "since": "2026-05-02", "until": "2026-05-01"})
    )
    assert error["fields"] == {"until": ["The end of the range is before its start."]}
    assert "q" in error_of(api.get("search/", {"q": " "}))["fields"]


def test_mailboxes_are_your_own_and_never_show_a_secret(api, a):
    rows = api.get("mailboxes/").json()["results"]
    assert [row["id"] for row in rows] == [a.mailbox.pk]
    assert not {"secret", "smtp_secret", "lease_token"} & set(rows[0])
    others = factories.MailboxFactory(organisation=a.org, owner=a.admin)
    assert api.get(f"mailboxes/{others.pk}/").status_code == 404


@pytest.mark.parametrize("path", ["accounts/", "messages/", "conversations/", "commitments/"])
def test_an_unknown_api_address_or_method_answers_in_the_error_shape(api, path):
    assert error_of(api.client.delete(api.url(path), **api.headers))["code"] == "method_not_allowed"
    assert error_of(api.get("no-such-thing/"))["code"] == "not_found"


def test_suggested_commitments_can_be_confirmed(api, a):
    suggested = factories.CommitmentFactory(
        organisation=a.org, conversation=a.conversation, state=Commitment.State.SUGGESTED
    )
    listed = api.get("commitments/", {"state": "suggested"}).json()["results"]
    assert [c["id"] for c in listed] == [suggested.pk]
    assert api.patch(f"commitments/{suggested.pk}/", {"state": "open"}).json()["state"] == "open"
