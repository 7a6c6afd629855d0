"""Finding what was said, who and which account, within one organisation only."""

import datetime

import pytest
import time_machine
from django.utils import timezone

from conversations.models import Message
from conversations.search_index import INDEX_NOW_MAX, messages_index
from conversations.services import interaction_log
from tests import factories
from tests.conftest import CLIENT_QUERIES


def log(cast, body, *, kind="call", days_ago=1, account=None, direction="outbound"):  # type: ignore[no-untyped-def]
    return interaction_log(
        org=cast.org, account=account or cast.account, author=cast.sales, kind=kind,
        body=body, occurred_at=timezone.now() - datetime.timedelta(days=days_ago),
        initiated_by=direction,
    )  # fmt: skip


def hits(cast, **params):  # type: ignore[no-untyped-def]
    response = cast.client().get(f"/o/{cast.org.slug}/search/", params)
    assert response.status_code == 200, response.content
    page = response.context["page"]
    return [m.body_text for m in page]


@pytest.fixture
def said(a, b):  # type: ignore[no-untyped-def]
    log(a, "We agreed the renewal price for 40 seats at the current rate.", days_ago=5)
    log(a, "They worry the renewal will cost more in March.", days_ago=3)
    log(a, "Delivery to the Leeds depot moves to Tuesdays.", kind="meeting", days_ago=2)
    log(b, "Bravo's renewal price is confidential.", days_ago=1)
    return a


def test_a_quoted_phrase_finds_only_that_phrase(said):
    assert hits(said, q='"renewal price"') == [
        "We agreed the renewal price for 40 seats at the current rate."
    ]


def test_a_minus_word_leaves_messages_with_it_out(said):
    assert hits(said, q="renewal -march") == [
        "We agreed the renewal price for 40 seats at the current rate."
    ]


def test_or_finds_either(said):
    assert len(hits(said, q="leeds or march")) == 2


def test_words_match_their_other_forms_in_english(said):
    assert hits(said, q="depots") == ["Delivery to the Leeds depot moves to Tuesdays."]


def test_matches_are_highlighted_and_the_rest_escaped(a):
    log(a, "The <b>renewal</b> & pricing call went well.")
    response = a.client().get(f"/o/{a.org.slug}/search/", {"q": "renewal"})
    page = response.content.decode()
    assert "<mark>renewal</mark>" in page
    assert "&lt;b&gt;" in page and "<b><mark>" not in page


def test_filters_narrow_the_messages(said):
    a = said
    other = factories.AccountFactory(organisation=a.org, name="Other Ltd")
    log(a, "The renewal of Other's plan.", account=other, direction="inbound")
    assert len(hits(a, q="renewal")) == 3
    assert hits(a, q="renewal", account=other.pk) == ["The renewal of Other's plan."]
    assert hits(a, q="renewal", kind="meeting") == []
    since = (timezone.now() - datetime.timedelta(days=4)).date().isoformat()
    assert len(hits(a, q="renewal", since=since)) == 2
    assert hits(a, q="renewal", order="newest")[0] == "The renewal of Other's plan."


def test_the_person_filter_keeps_what_they_took_part_in(a):
    message = log(a, "Renewal questions from Alpha Person.")
    log(a, "Renewal questions from someone else.")
    message.participants.create(organisation=a.org, contact=a.contact, role="attendee")
    assert hits(a, q="renewal", person=a.contact.pk) == ["Renewal questions from Alpha Person."]


def test_people_and_accounts_are_found_by_the_start_of_their_names_and_addresses(a):
    client = a.client()
    for q in ("alp", "alpha pers", "person@alpha", "ALPHA cust"):
        page = client.get(f"/o/{a.org.slug}/search/", {"q": q}).content.decode()
        assert ("ALPHA Person" in page) or ("ALPHA Customer Ltd" in page), q
    page = client.get(f"/o/{a.org.slug}/search/", {"q": "alpha-cust"}).content.decode()
    assert "ALPHA Customer Ltd" in page, "domains by their beginning"


def test_nothing_of_another_organisation_is_ever_found(said, b):
    a = said
    assert all("Bravo" not in text for text in hits(a, q="confidential or renewal"))
    page = a.client().get(f"/o/{a.org.slug}/search/", {"q": "bravo"}).content.decode()
    assert "BRAVO Person" not in page and "BRAVO Customer" not in page
    jump = a.client().get(f"/o/{a.org.slug}/search/jump/", {"q": "bravo"}).content.decode()
    assert "BRAVO" not in jump


def test_another_organisations_ids_as_filters_are_refused(said, b):
    response = said.client().get(
        f"/o/{said.org.slug}/search/", {"q": "renewal", "account": b.account.pk}
    )
    assert response.status_code == 422
    assert "Select a valid choice" in response.content.decode()


def test_quick_jump_offers_accounts_people_and_conversations(said):
    page = said.client().get(f"/o/{said.org.slug}/search/jump/", {"q": "alpha"}).content.decode()
    assert "ALPHA Customer Ltd" in page and "ALPHA Person" in page
    page = said.client().get(f"/o/{said.org.slug}/search/jump/", {"q": "leeds"}).content.decode()
    assert "Conversation" in page and "Delivery to the Leeds depot" in page


def test_the_search_page_takes_the_same_few_queries_however_many_hits(
    a, django_assert_max_num_queries
):
    for n in range(30):
        log(a, f"Renewal note number {n}.")
    client = a.client()
    # Session, user, membership, context; the page of ids, its messages with their headlines,
    # accounts, people, the owner choices, nav count, switcher.
    with django_assert_max_num_queries(13 + CLIENT_QUERIES):
        response = client.get(f"/o/{a.org.slug}/search/", {"q": "renewal"})
    assert len(response.context["page"]) == 20


def test_a_simple_language_organisation_matches_words_exactly(said):
    said.org.search_language = "simple"
    said.org.save()
    messages_index(org=said.org)
    assert hits(said, q="depots") == []
    assert hits(said, q="depot") == ["Delivery to the Leeds depot moves to Tuesdays."]


def test_quoted_history_counts_but_below_what_was_said(a):
    new = log(a, "Renewal price agreed.", days_ago=2)
    quoted = log(a, "Fine by me.", days_ago=1)
    Message.objects.for_org(a.org).filter(pk=quoted.pk).update(
        quoted_text="> Renewal price agreed."
    )
    messages_index(org=a.org, message_ids=[quoted.pk])
    assert hits(a, q="renewal price") == [new.body_text, quoted.body_text]


def test_changing_the_language_reindexes_every_message(said, django_capture_on_commit_callbacks):
    from threadline.celery import app

    # Indexed in English, "Delivery" is stored as "deliveri": the word itself is not found
    # in the simple language until every message is indexed again.
    said.org.search_language = "simple"
    said.org.save()
    assert hits(said, q="delivery") == []
    said.org.search_language = "english"
    said.org.save()
    app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = said.client(said.admin).post(
                f"/o/{said.org.slug}/settings/",
                {
                    "hours-time_zone": "UTC",
                    "hours-workday_starts": "09:00",
                    "hours-workday_ends": "17:00",
                    "hours-workdays": ["1", "2", "3", "4", "5"],
                    "hours-reply_target_days": "1",
                    "hours-search_language": "simple",
                },  # fmt: skip
            )
    finally:
        app.conf.task_always_eager = False
    assert response.status_code == 302
    assert hits(said, q="delivery") == ["Delivery to the Leeds depot moves to Tuesdays."]


def mailbox_batch(cast, count: int, word: str) -> list[bytes]:  # type: ignore[no-untyped-def]
    sender = cast.contact.addresses.get().value
    return [
        (
            f"From: {sender}\r\nTo: {cast.sales.email}\r\nSubject: Order {n}\r\n"
            f"Message-ID: <batch-{n}@{cast.org.slug}>\r\n"
            f"Date: Tue, 03 Nov 2026 09:{n % 60:02d}:00 +0000\r\n\r\n"
            f"The {word} for order {n} is ready.\r\n"
        ).encode()
        for n in range(count)
    ]


def test_a_mailbox_sized_batch_is_indexed_by_a_task_once_it_commits(
    a, b, django_capture_on_commit_callbacks
):
    from mail.services import emails_ingest
    from search.tasks import index_messages
    from threadline.celery import app

    items = [(raw, "INBOX") for raw in mailbox_batch(a, INDEX_NOW_MAX + 5, "invoice")]
    with django_capture_on_commit_callbacks() as callbacks:
        emails_ingest(org=a.org, items=items)
    # Stored without vectors: to_tsvector is no part of the batch's transaction.
    assert not Message.objects.for_org(a.org).filter(search_vector__isnull=False).exists()
    assert hits(a, q="invoice") == []
    # The commit enqueues one task for the batch (its other hooks are not this test's).
    tasks = [hook for hook in callbacks if getattr(hook, "func", None) == index_messages.delay]
    assert len(tasks) == 1 and tasks[0].args[0] == a.org.pk
    app.conf.task_always_eager = True
    try:
        tasks[0]()
    finally:
        app.conf.task_always_eager = False
    indexed = Message.objects.for_org(a.org).filter(search_vector__isnull=False)
    assert indexed.count() == INDEX_NOW_MAX + 5
    assert hits(a, q="invoice", order="newest")[0] == "The invoice for order 24 is ready."


def test_a_few_messages_are_findable_at_once(a):
    from mail.services import emails_ingest

    emails_ingest(org=a.org, items=[(raw, "INBOX") for raw in mailbox_batch(a, 3, "invoice")])
    assert len(hits(a, q="invoice")) == 3


def test_the_sweep_indexes_what_a_lost_task_left_behind(a, b):
    from mail.services import emails_ingest
    from search.tasks import SWEEP_GRACE, index_missing_messages

    # The batch commits (the test's transaction stands for that) but its task never runs.
    emails_ingest(
        org=a.org, items=[(r, "INBOX") for r in mailbox_batch(a, INDEX_NOW_MAX + 1, "crate")]
    )
    emails_ingest(
        org=b.org, items=[(r, "INBOX") for r in mailbox_batch(b, INDEX_NOW_MAX + 1, "crate")]
    )
    assert hits(a, q="crate") == []
    assert index_missing_messages(a.org.pk) == 0, "recorded a moment ago: its task may come yet"
    waiting = Message.objects.for_org(a.org).filter(search_vector__isnull=True).count()
    assert waiting >= INDEX_NOW_MAX + 1  # the cast's own messages are made without a vector
    with time_machine.travel(timezone.now() + SWEEP_GRACE + datetime.timedelta(seconds=1)):
        assert index_missing_messages(a.org.pk) == waiting
        assert index_missing_messages(a.org.pk) == 0
    assert hits(a, q="crate", order="newest")[0] == "The crate for order 20 is ready."
    # Only its own organisation's: B's messages wait for B's sweep.
    assert Message.all_orgs.filter(organisation=b.org, search_vector__isnull=True).count() > (
        INDEX_NOW_MAX
    )


def test_an_email_is_found_by_its_attachments_name_and_the_words_in_it(a, b):
    from mail.services import email_ingest

    sender = a.contact.addresses.get().value
    raw = (
        f"From: {sender}\r\nTo: {a.sales.email}\r\nSubject: As promised\r\n"
        f"Message-ID: <files@{a.org.slug}>\r\nDate: Tue, 03 Nov 2026 09:00:00 +0000\r\n"
        'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain\r\n\r\nHere it is.\r\n"
        "--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; "
        'filename="quarterly-tariffs_2027.pdf"\r\n\r\n%PDF-1.4\r\n--b--\r\n'
    ).encode()
    assert email_ingest(org=a.org, raw=raw).outcome == "created"
    assert hits(a, q="quarterly-tariffs_2027.pdf") == ["Here it is."]
    assert hits(a, q="tariffs") == ["Here it is."]
    assert hits(b, q="tariffs") == []
