import datetime as dt

from django.utils import timezone

from accounts.models import Account
from conversations.models import Commitment, Conversation, Message, Participant
from tests.conftest import CLIENT_QUERIES


def log(client, cast, **fields):
    data = {"kind": "call", "initiated_by": "outbound", "occurred_at": "2026-11-20T14:30",
            "body": "Walked through the rollout plan with Ops.", "conversation": ""}  # fmt: skip
    data.update(fields)
    return client.post(
        f"/o/{cast.org.slug}/accounts/{cast.account.pk}/log/", data, HTTP_HX_REQUEST="true"
    )


def test_logging_a_call_starts_a_conversation_with_who_took_part_and_both_sides_promises(a):
    response = log(
        a.client(), a, contacts=[a.contact.pk], subject="Rollout",
        we_owe="Send the rollout checklist", we_owe_due="2026-11-27",
        they_owe="Confirm the go-live date",
    )  # fmt: skip
    assert response.status_code == 200
    conversation = Conversation.objects.for_org(a.org).get(subject="Rollout")
    message = conversation.messages.get()
    assert (message.kind, message.direction, message.sender_member) == ("call", "outbound", a.sales)
    assert message.occurred_at == dt.datetime(2026, 11, 20, 14, 30, tzinfo=dt.UTC)
    people = set(
        Participant.objects.for_org(a.org).filter(message=message).values_list("contact", "member")
    )
    assert people == {(a.contact.pk, None), (None, a.sales.pk)}
    promises = {(c.owed_by, c.text, c.due_on) for c in conversation.commitments.all()}
    assert promises == {
        ("us", "Send the rollout checklist", dt.date(2026, 11, 27)),
        ("them", "Confirm the go-live date", None),
    }
    html = response.content.decode()
    assert 'id="timeline" hx-swap-oob="true"' in html and "Walked through the rollout plan" in html
    assert "Send the rollout checklist" in html


def test_a_call_counts_as_a_two_way_exchange_and_moves_the_clocks(a):
    log(a.client(), a, conversation=a.conversation.pk, kind="meeting", initiated_by="inbound")
    a.conversation.refresh_from_db()
    at = dt.datetime(2026, 11, 20, 14, 30, tzinfo=dt.UTC)
    assert a.conversation.last_inbound_at == at and a.conversation.last_outbound_at == at
    assert Account.objects.for_org(a.org).get().last_interaction_at == at


def test_a_note_is_internal_and_an_older_entry_does_not_move_clocks_back(a):
    log(a.client(), a, subject="Fresh", kind="call", occurred_at="2026-11-20T10:00")
    conversation = Conversation.objects.for_org(a.org).get(subject="Fresh")
    log(a.client(), a, conversation=conversation.pk, kind="note", occurred_at="2026-11-21T10:00")
    log(a.client(), a, conversation=conversation.pk, kind="call", occurred_at="2026-11-01T10:00")
    note = Message.objects.for_org(a.org).get(kind="note")
    assert note.direction == "internal"
    conversation.refresh_from_db()

    def nov(day: int) -> dt.datetime:
        return dt.datetime(2026, 11, day, 10, tzinfo=dt.UTC)

    assert conversation.last_activity_at == nov(21), "the note is activity"
    assert conversation.last_inbound_at == nov(20), "a note is nobody's turn; the old call is older"
    assert conversation.started_at == nov(1), "an older entry moves the start back"
    assert conversation.message_count == 3
    # Our own note is no contact with the customer: the account was last in touch on the 20th.
    assert Account.objects.for_org(a.org).get().last_interaction_at == nov(20)


def test_invalid_log_shows_field_errors_and_changes_nothing(a):
    before = Message.all_orgs.count(), Commitment.all_orgs.count(), Conversation.all_orgs.count()
    future = (timezone.now() + dt.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    response = log(a.client(), a, body="", kind="fax", occurred_at=future, we_owe_due="2026-12-01")
    html = response.content.decode()
    assert response.status_code == 422
    assert "This field is required." in html
    assert "Select a valid choice. fax is not one of the available choices." in html
    assert "An interaction that is logged has already happened." in html
    assert "Say what was promised, or clear the date." in html
    assert (
        Message.all_orgs.count(),
        Commitment.all_orgs.count(),
        Conversation.all_orgs.count(),
    ) == before


def test_logging_without_htmx_redirects_back_to_the_account(a):
    response = a.client().post(
        f"/o/{a.org.slug}/accounts/{a.account.pk}/log/",
        {"kind": "note", "occurred_at": "2026-11-20T09:00", "body": "Budget approved."},
    )
    assert response.status_code == 302
    assert response["Location"] == f"/o/{a.org.slug}/accounts/{a.account.pk}/"


def test_logging_into_a_conversation_from_its_page(a):
    response = a.client().post(
        f"/o/{a.org.slug}/conversations/{a.conversation.pk}/log/",
        {"kind": "call", "occurred_at": "2026-11-21T09:00", "body": "Agreed the timeline."},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    logged = a.conversation.messages.get(body_text="Agreed the timeline.")
    assert (logged.kind, logged.sender_member) == ("call", a.sales)
    assert 'id="conversation-messages" hx-swap-oob="true"' in response.content.decode()


def test_conversation_page_shows_messages_in_order_with_promises(a, django_assert_max_num_queries):
    older = a.message.occurred_at - dt.timedelta(days=2)
    Message.all_orgs.create(
        organisation=a.org, conversation=a.conversation, account=a.account, kind="note",
        direction="internal", occurred_at=older, body_text="Earlier internal note",
    )  # fmt: skip
    client = a.client()
    url = f"/o/{a.org.slug}/conversations/{a.conversation.pk}/"
    client.get(url)
    # 16, plus the open follow-ups and the member list of the owner form.
    with django_assert_max_num_queries(18 + CLIENT_QUERIES):
        html = client.get(url).content.decode()
    assert html.index("Earlier internal note") < html.index(a.message.body_text)
    assert 'class="flash"' not in html, "messages of the thread are not flash messages"
    assert a.commitment.text in html


def test_marking_a_promise_kept(a):
    response = a.client().post(
        f"/o/{a.org.slug}/commitments/{a.commitment.pk}/kept/", HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    a.commitment.refresh_from_db()
    assert a.commitment.state == "kept" and a.commitment.kept_at is not None


def test_a_promise_cannot_be_set_to_a_state_that_does_not_exist(a):
    response = a.client().post(f"/o/{a.org.slug}/commitments/{a.commitment.pk}/forgotten/")
    assert response.status_code == 422
    a.commitment.refresh_from_db()
    assert a.commitment.state == "open"
