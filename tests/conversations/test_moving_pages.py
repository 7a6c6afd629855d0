"""Move, split and merge from the conversation page: forms, errors, and other organisations."""

import datetime as dt
from typing import cast

import pytest
from django.utils import timezone

from conversations.models import Conversation, ConversationLink, Message
from conversations.services import conversation_merge, record_activity_bulk
from tests import factories
from tests.conftest import CLIENT_QUERIES


def add_message(conv, days_ago, **fields):
    made = cast(Message, factories.MessageFactory(
        organisation=conv.organisation, conversation=conv, account=conv.account,
        occurred_at=timezone.now() - dt.timedelta(days=days_ago), **fields,
    ))  # fmt: skip
    record_activity_bulk(org=conv.organisation, messages=[made])
    return made


@pytest.fixture
def other(a):
    """Another conversation with A's account, one message in it."""
    conv = factories.ConversationFactory(
        organisation=a.org, account=a.account, subject="Security questionnaire"
    )
    add_message(conv, 5, body_text="Questionnaire attached")
    return conv


def url(cast, path):
    return f"/o/{cast.org.slug}/{path}"


def test_the_conversation_page_offers_move_split_and_merge_within_its_query_budget(
    a, other, django_assert_max_num_queries
):
    later = add_message(a.conversation, 1, body_text="A later word")
    client = a.client()
    page = url(a, f"conversations/{a.conversation.pk}/")
    client.get(page)
    with django_assert_max_num_queries(18 + CLIENT_QUERIES):  # 16 + follow-ups + owner form
        html = client.get(page).content.decode()
    assert html.count("Move to…") == 2
    assert html.count("Split from here…") == 1, "not from the first message: nothing would stay"
    assert url(a, f"messages/{later.pk}/split/") in html
    assert url(a, f"conversations/{a.conversation.pk}/merge/") in html


def test_the_move_form_offers_the_accounts_other_conversations_and_a_new_one(a, b, other):
    client = a.client()
    full = client.get(url(a, f"messages/{a.message.pk}/move/"))
    assert full.status_code == 200 and "<html" in full.content.decode()
    html = client.get(url(a, f"messages/{a.message.pk}/move/"), HTTP_HX_REQUEST="true")
    html = html.content.decode()
    assert "<html" not in html and 'hx-post="' in html
    assert "Security questionnaire" in html and "A new conversation" in html
    assert a.conversation.subject not in html, "not the one it is in"
    assert b.conversation.subject not in html


def test_moving_a_message_with_htmx_reloads_the_page_it_left(a, other):
    response = a.client().post(
        url(a, f"messages/{a.message.pk}/move/"),
        {"to_conversation": other.pk},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    # The cast's conversation had only this message: it is merged into the target, so go there.
    assert response["HX-Redirect"] == url(a, f"conversations/{other.pk}/")
    assert Message.all_orgs.get(pk=a.message.pk).conversation_id == other.pk
    assert not Conversation.all_orgs.filter(pk=a.conversation.pk).exists()
    old = a.client().get(url(a, f"conversations/{a.conversation.pk}/"))
    assert old.status_code == 302 and old["Location"] == url(a, f"conversations/{other.pk}/")
    assert a.commitment.text in a.client().get(old["Location"]).content.decode()


def test_moving_a_message_without_htmx_stays_on_its_conversation(a, other):
    later = add_message(a.conversation, 1, body_text="Goes elsewhere")
    response = a.client().post(
        url(a, f"messages/{later.pk}/move/"), {"to_conversation": other.pk}, follow=True
    )
    assert response.redirect_chain[-1][0] == url(a, f"conversations/{a.conversation.pk}/")
    html = response.content.decode()
    assert "Moved “" in html and "Security questionnaire" in html
    assert "Goes elsewhere" not in html


def test_moving_a_message_to_a_new_conversation(a):
    later = add_message(a.conversation, 1, subject="Invoice question", body_text="Which PO?")
    response = a.client().post(url(a, f"messages/{later.pk}/move/"), {"to_conversation": "new"})
    assert response.status_code == 302
    new = Conversation.all_orgs.get(subject="Invoice question")
    assert (new.account, new.message_count) == (a.account, 1)


def test_moving_a_message_to_another_accounts_conversation_by_its_address(a):
    elsewhere = factories.AccountFactory(organisation=a.org, name="Elsewhere Ltd")
    theirs = factories.ConversationFactory(organisation=a.org, account=elsewhere, subject="Theirs")
    later = add_message(a.conversation, 1)
    pasted = f"http://testserver{url(a, f'conversations/{theirs.pk}/')}"
    response = a.client().post(url(a, f"messages/{later.pk}/move/"), {"elsewhere": pasted})
    assert response.status_code == 302
    moved = Message.all_orgs.get(pk=later.pk)
    assert (moved.conversation_id, moved.account_id) == (theirs.pk, elsewhere.pk)


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({}, "Choose where the message belongs."),
        ({"to_conversation": "new", "elsewhere": "OTHER"}, "not both"),
        ({"elsewhere": "the blue one"}, "No conversation of this organisation has that address."),
        ({"to_conversation": "999999"}, "is not one of the available choices"),
    ],
)
def test_a_bad_move_answers_422_with_the_reason_and_moves_nothing(a, other, data, error):
    data = {k: str(other.pk) if v == "OTHER" else v for k, v in data.items()}
    response = a.client().post(
        url(a, f"messages/{a.message.pk}/move/"), data, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 422
    assert error in response.content.decode()
    assert Message.all_orgs.get(pk=a.message.pk).conversation_id == a.conversation.pk


def test_a_message_cannot_be_moved_to_its_own_conversation_by_address(a):
    response = a.client().post(
        url(a, f"messages/{a.message.pk}/move/"), {"elsewhere": str(a.conversation.pk)}
    )
    assert response.status_code == 422
    assert "already in that conversation" in response.content.decode()


def test_another_organisations_conversation_is_refused_as_a_target(a, b, other):
    client = a.client()
    by_choice = client.post(
        url(a, f"messages/{a.message.pk}/move/"), {"to_conversation": b.conversation.pk}
    )
    by_address = client.post(
        url(a, f"messages/{a.message.pk}/move/"),
        {"elsewhere": f"/o/{b.org.slug}/conversations/{b.conversation.pk}/"},
    )
    merge = client.post(
        url(a, f"conversations/{a.conversation.pk}/merge/"), {"other": b.conversation.pk}
    )
    assert (by_choice.status_code, by_address.status_code, merge.status_code) == (422, 422, 422)
    assert "No conversation of this organisation has that address." in by_address.content.decode()
    assert Message.all_orgs.get(pk=a.message.pk).conversation_id == a.conversation.pk
    assert Conversation.all_orgs.filter(pk=b.conversation.pk).exists()
    assert Message.all_orgs.get(pk=b.message.pk).conversation_id == b.conversation.pk


def test_splitting_from_the_page_opens_the_new_conversation_linked_both_ways(
    a, django_assert_max_num_queries
):
    later = add_message(a.conversation, 1, subject="Re: renewal — Paris", body_text="Paris too")
    client = a.client()
    confirm = client.get(url(a, f"messages/{later.pk}/split/"), HTTP_HX_REQUEST="true")
    assert "will continue in a new conversation" in confirm.content.decode()
    response = client.post(url(a, f"messages/{later.pk}/split/"), HTTP_HX_REQUEST="true")
    continued = Conversation.all_orgs.get(subject="Re: renewal — Paris")
    assert response["HX-Redirect"] == url(a, f"conversations/{continued.pk}/")
    assert ConversationLink.all_orgs.filter(
        from_conversation=a.conversation, to_conversation=continued
    ).exists()
    new_page = client.get(url(a, f"conversations/{continued.pk}/"))
    assert "Split from" in new_page.content.decode() and "Paris too" in new_page.content.decode()
    old_page = url(a, f"conversations/{a.conversation.pk}/")
    client.get(old_page)
    with django_assert_max_num_queries(18 + CLIENT_QUERIES):  # 16 + follow-ups + owner form
        html = client.get(old_page).content.decode()
    assert "Continued in" in html and "Paris too" not in html


def test_splitting_from_the_first_message_answers_422(a):
    response = a.client().post(url(a, f"messages/{a.message.pk}/split/"), HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    assert "starts the conversation" in response.content.decode()
    assert Conversation.all_orgs.filter(organisation=a.org).count() == 1


def test_merging_from_the_page_and_the_old_address_leads_to_the_merged_conversation(a, other):
    client = a.client()
    form = client.get(url(a, f"conversations/{a.conversation.pk}/merge/"), HTTP_HX_REQUEST="true")
    assert "Security questionnaire" in form.content.decode()
    response = client.post(
        url(a, f"conversations/{a.conversation.pk}/merge/"), {"other": other.pk}, follow=True
    )
    assert response.redirect_chain[-1][0] == url(a, f"conversations/{a.conversation.pk}/")
    html = response.content.decode()
    assert "Questionnaire attached" in html and "Merged “Security questionnaire”" in html
    old = client.get(url(a, f"conversations/{other.pk}/"), follow=True)
    assert old.redirect_chain == [(url(a, f"conversations/{a.conversation.pk}/"), 302)]
    assert client.get(url(a, f"conversations/{other.pk}/log/")).status_code == 404


def test_a_merge_without_a_choice_answers_422(a, other):
    response = a.client().post(
        url(a, f"conversations/{a.conversation.pk}/merge/"), {"other": ""}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 422 and "This field is required." in response.content.decode()
    assert Conversation.all_orgs.filter(pk=other.pk).exists()


def test_another_organisations_merged_conversation_address_is_404(a, b):
    other_b = cast(
        Conversation, factories.ConversationFactory(organisation=b.org, account=b.account)
    )
    conversation_merge(org=b.org, into=b.conversation, other=other_b, by=b.sales)
    assert a.client().get(url(a, f"conversations/{other_b.pk}/")).status_code == 404
    assert b.client().get(url(b, f"conversations/{other_b.pk}/")).status_code == 302
