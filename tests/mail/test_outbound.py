"""Email out against real servers: aiosmtpd on 127.0.0.1 takes the mail, Dovecot keeps the
Sent copy, and the next sync of that mailbox neither duplicates it nor loses the answer."""

from __future__ import annotations

import email
import socket
from datetime import timedelta
from email import policy
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from conversations.models import Conversation, Message
from followups.models import FollowUp
from mail.models import DraftAttachment, EmailDraft, Mailbox, OutboundEmail
from mail.secrets import encrypt_secret
from mail.services import outbound_sweep
from mail.sync import mailbox_sync
from mail.tasks import send_outbound_email
from mail.threading import conversation_from_token
from tests.mail.conftest import PASSWORD
from threadline.celery import app


class Relay:
    """An SMTP server that checks logins, can refuse recipients, and keeps what it took."""

    def __init__(self) -> None:
        self.received: list[tuple[list[str], Any]] = []
        self.refuse: set[str] = set()
        self.logins: dict[str, str] = {}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address in self.refuse:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        parsed = email.message_from_bytes(envelope.content, policy=policy.default)
        self.received.append((list(envelope.rcpt_tos), parsed))
        return "250 OK"

    def authenticate(self, server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
        user = auth_data.login.decode()
        ok = self.logins.get(user) == auth_data.password.decode()
        return AuthResult(success=ok, handled=ok)  # not handled: the server answers 535


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def relay():
    relay = Relay()
    port = _free_port()
    controller = Controller(
        relay, hostname="127.0.0.1", port=port, authenticator=relay.authenticate,
        auth_required=True, auth_require_tls=False,
    )  # fmt: skip
    controller.start()
    relay.port = port  # type: ignore[attr-defined]
    try:
        yield relay
    finally:
        controller.stop()


@pytest.fixture
def eager():
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


@pytest.fixture
def mailbox(dovecot, relay, a):
    """The member's mailbox: IMAP on Dovecot, SMTP on the relay with the same password."""
    Mailbox.all_orgs.filter(pk=a.mailbox.pk).update(is_active=False)
    username = dovecot.new_user()
    relay.logins[username] = PASSWORD
    return Mailbox.all_orgs.create(
        organisation=a.org, owner=a.sales, email_address=f"{username}@imap.test",
        username=username, secret=encrypt_secret(PASSWORD), host=dovecot.host,
        port=dovecot.port, security="none", smtp_host="127.0.0.1", smtp_port=relay.port,
        smtp_security="none",
    )  # fmt: skip


def customer(a) -> str:
    return a.contact.addresses.get().value


def question(a, mailbox) -> bytes:
    return (
        f"From: A Person <{customer(a)}>\r\nTo: {mailbox.email_address}\r\n"
        "Subject: Pricing for 40 seats\r\nMessage-ID: <q1@alpha-customer.example>\r\n"
        "Date: Mon, 16 Nov 2026 10:00:00 +0000\r\n\r\n"
        "Could you send the price for 40 seats?\r\n"
    ).encode()


@pytest.fixture
def asked(a, dovecot, mailbox) -> Conversation:
    """The customer asked by email; the sync filed it."""
    dovecot.append(mailbox.username, "INBOX", question(a, mailbox))
    assert mailbox_sync(org=a.org, mailbox_id=mailbox.pk).created == 1
    return Message.objects.for_org(a.org).get(message_id="<q1@alpha-customer.example>").conversation


def send(a, conversation, django_capture_on_commit_callbacks, **fields):
    data = {
        "to": customer(a), "cc": "", "subject": "Re: Pricing for 40 seats",
        "body": "It is 1,200 a month. Shall I send the order form?",
    } | fields  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        return a.client().post(
            f"/o/{a.org.slug}/conversations/{conversation.pk}/send/", data, HTTP_HX_REQUEST="true"
        )


def sent_folder_copies(dovecot, username: str, message_id: str) -> list[tuple[bytes, bytes]]:
    imap = dovecot.connect(username)
    try:
        imap.select("Sent", readonly=True)
        _, found = imap.search(None, "HEADER", "Message-ID", message_id)
        copies = []
        for number in (found[0] or b"").split():
            _, data = imap.fetch(number, "(FLAGS BODY.PEEK[])")
            copies.append((data[0][0], data[0][1]))
        return copies
    finally:
        imap.logout()


def test_a_reply_threads_goes_to_sent_is_not_stored_twice_and_the_answer_threads_back(
    a, dovecot, relay, mailbox, asked, eager, django_capture_on_commit_callbacks
):
    response = send(a, asked, django_capture_on_commit_callbacks)
    assert response.status_code == 200 and response["HX-Redirect"].endswith(f"/{asked.pk}/")

    [(envelope, sent)] = relay.received
    assert envelope == [customer(a)]
    assert sent["In-Reply-To"] == "<q1@alpha-customer.example>"
    assert sent["References"] == "<q1@alpha-customer.example>"
    assert conversation_from_token(org_id=a.org.pk, message_id=sent["Message-ID"]) == asked.pk
    assert mailbox.email_address in sent["From"] and a.sales.display_name in sent["From"]
    assert sent["Date"] and sent["Subject"] == "Re: Pricing for 40 seats"
    text = sent.get_content()
    assert text.index("It is 1,200 a month") < text.index("> Could you send the price")

    reply = Message.objects.for_org(a.org).get(message_id=sent["Message-ID"])
    assert (reply.conversation_id, reply.direction, reply.sender_member) == (
        asked.pk, "outbound", a.sales,
    )  # fmt: skip
    assert reply.outbound.state == "sent" and reply.outbound.sent_copy_folder == "Sent"
    asked.refresh_from_db()
    assert asked.state == "awaiting_them", "we asked something: now it is their turn"

    [(flags, raw)] = sent_folder_copies(dovecot, mailbox.username, sent["Message-ID"])
    assert b"\\Seen" in flags

    again = mailbox_sync(org=a.org, mailbox_id=mailbox.pk)
    assert (again.created, again.duplicates) == (0, 1), "the Sent copy is the stored reply"
    assert Message.objects.for_org(a.org).filter(conversation=asked).count() == 2

    # Their answer, with a new subject: the headers lead it back.
    dovecot.append(
        mailbox.username, "INBOX",
        (f"From: {customer(a)}\r\nTo: {mailbox.email_address}\r\nSubject: order form\r\n"
         f"Message-ID: <a1@alpha-customer.example>\r\nIn-Reply-To: {sent['Message-ID']}\r\n"
         "Date: Mon, 16 Nov 2026 12:00:00 +0000\r\n\r\nYes please, send it.\r\n").encode(),
    )  # fmt: skip
    assert mailbox_sync(org=a.org, mailbox_id=mailbox.pk).created == 1
    answer = Message.objects.for_org(a.org).get(message_id="<a1@alpha-customer.example>")
    assert answer.conversation_id == asked.pk


def test_a_refused_recipient_shows_why_and_a_retry_sends_exactly_once(
    a, relay, mailbox, asked, eager, django_capture_on_commit_callbacks
):
    relay.refuse.add(customer(a))
    send(a, asked, django_capture_on_commit_callbacks)
    reply = Message.objects.for_org(a.org).get(conversation=asked, direction="outbound")
    assert reply.outbound.state == "failed" and relay.received == []
    assert "refused the recipient" in reply.outbound.reason and "550" in reply.outbound.reason

    page = a.client().get(f"/o/{a.org.slug}/conversations/{asked.pk}/").content.decode()
    assert "No such user here" in page and f"/messages/{reply.pk}/retry/" in page

    relay.refuse.clear()
    with django_capture_on_commit_callbacks(execute=True):
        a.client().post(f"/o/{a.org.slug}/messages/{reply.pk}/retry/")
    reply.outbound.refresh_from_db()
    assert reply.outbound.state == "sent" and len(relay.received) == 1
    # The task delivered twice (a redelivery), and Retry clicked again: nothing goes out twice.
    assert send_outbound_email(a.org.pk, reply.outbound.pk)["outcome"] == "claimed"
    with django_capture_on_commit_callbacks(execute=True):
        a.client().post(f"/o/{a.org.slug}/messages/{reply.pk}/retry/")
    assert len(relay.received) == 1
    assert relay.received[0][1]["Message-ID"] == reply.message_id, "the retry is the same email"


def test_the_sweep_fails_an_email_a_dead_worker_left_and_sends_one_whose_task_was_lost(
    a, relay, mailbox, asked, eager, django_capture_on_commit_callbacks
):
    send(a, asked, django_capture_on_commit_callbacks)
    reply = Message.objects.for_org(a.org).get(conversation=asked, direction="outbound")
    outbound = OutboundEmail.objects.for_org(a.org).filter(pk=reply.outbound.pk)
    now = timezone.now()

    # A worker died after claiming it: whether the server took it is unknown.
    outbound.update(state="sending", claimed_at=now - timedelta(minutes=5))
    assert outbound_sweep(org=a.org).failed == 0, "it may still be sending"
    outbound.update(claimed_at=now - timedelta(minutes=20))
    assert outbound_sweep(org=a.org).failed == 1
    assert outbound.get().state == "failed" and "may have been sent" in outbound.get().reason
    page = a.client().get(f"/o/{a.org.slug}/conversations/{asked.pk}/").content.decode()
    assert f"/messages/{reply.pk}/retry/" in page
    assert len(relay.received) == 1, "never sent again by itself"

    # Queued, but its task never reached a worker.
    outbound.update(state="queued", reason="")
    assert outbound_sweep(org=a.org).requeued == 0, "its task may be on its way"
    Message.objects.for_org(a.org).filter(pk=reply.pk).update(
        created_at=now - timedelta(minutes=10)
    )
    assert outbound_sweep(org=a.org).requeued == 1
    assert outbound.get().state == "sent" and len(relay.received) == 2
    assert relay.received[1][1]["Message-ID"] == reply.message_id


def test_a_refused_password_and_a_server_that_is_down_are_said_plainly(
    a, relay, mailbox, asked, eager, django_capture_on_commit_callbacks
):
    Mailbox.all_orgs.filter(pk=mailbox.pk).update(smtp_secret=encrypt_secret("wrong"))
    send(a, asked, django_capture_on_commit_callbacks)
    Mailbox.all_orgs.filter(pk=mailbox.pk).update(smtp_port=_free_port())
    send(a, asked, django_capture_on_commit_callbacks, body="Second try.")
    first, second = OutboundEmail.objects.for_org(a.org).order_by("pk")
    assert first.state == "failed" and "refused the username or password" in first.reason
    assert second.state == "failed" and "cannot reach the mail server" in second.reason
    assert relay.received == []


def test_without_its_own_smtp_server_mail_goes_through_the_organisations(
    a, smtp_server, dovecot, mailbox, asked, eager, django_capture_on_commit_callbacks
):
    Mailbox.all_orgs.filter(pk=mailbox.pk).update(smtp_host="")
    send(a, asked, django_capture_on_commit_callbacks)
    [(envelope, sent)] = smtp_server.received
    assert envelope == [customer(a)] and sent["In-Reply-To"] == "<q1@alpha-customer.example>"
    assert OutboundEmail.objects.for_org(a.org).get().state == "sent"
    assert sent_folder_copies(dovecot, mailbox.username, sent["Message-ID"])


def test_send_and_mark_done_resolves_the_follow_up_and_keeps_the_promise_written(
    a, relay, mailbox, eager, django_capture_on_commit_callbacks
):
    followup = a.followup
    send(
        a, a.conversation, django_capture_on_commit_callbacks, mark_done="1",
        we_owe="Send the order form", we_owe_due="2026-12-01",
    )  # fmt: skip
    followup.refresh_from_db()
    assert followup.resolved_at is not None
    assert followup.resolution in {FollowUp.Resolution.DONE, FollowUp.Resolution.RECORD}
    promise = a.conversation.commitments.get(text="Send the order form")
    assert (promise.owed_by, promise.state, str(promise.due_on)) == ("us", "open", "2026-12-01")
    assert promise.message.direction == "outbound"


def test_bad_input_answers_422_with_the_field_errors_and_stores_nothing(
    a, mailbox, asked, django_capture_on_commit_callbacks
):
    response = send(
        a, asked, django_capture_on_commit_callbacks, to="not an address, ", body="", subject=""
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "is not an email address" in html and "This field is required." in html
    assert not Message.objects.for_org(a.org).filter(direction="outbound", kind="email").exists()


def test_a_subject_with_line_breaks_stays_one_header(
    a, relay, mailbox, asked, eager, django_capture_on_commit_callbacks
):
    send(a, asked, django_capture_on_commit_callbacks, subject="Prices\r\nBcc: x@evil.example")
    [(envelope, sent)] = relay.received
    assert envelope == [customer(a)] and sent["Bcc"] is None
    assert sent["Subject"] == "Prices Bcc: x@evil.example"


def test_a_draft_survives_a_reload_and_goes_when_sent(
    a, relay, mailbox, asked, eager, django_capture_on_commit_callbacks
):
    client = a.client()
    base = f"/o/{a.org.slug}/conversations/{asked.pk}"
    saved = client.post(
        f"{base}/draft/", {"to": customer(a), "subject": "Re: x", "body": "Half a thought"},
        HTTP_HX_REQUEST="true",
    )  # fmt: skip
    assert saved.status_code == 200 and "Draft saved" in saved.content.decode()
    composer = client.get(f"{base}/compose/", HTTP_HX_REQUEST="true").content.decode()
    assert "Half a thought" in composer
    other = a.client(a.admin).get(f"{base}/compose/", HTTP_HX_REQUEST="true").content.decode()
    assert "Half a thought" not in other, "a draft is its writer's own"
    send(a, asked, django_capture_on_commit_callbacks, body="Whole thought")
    assert not EmailDraft.objects.for_org(a.org).filter(author=a.sales).exists()


def test_the_composer_offers_the_accounts_people_and_replies_to_the_customer(a, mailbox, asked):
    html = (
        a.client()
        .get(f"/o/{a.org.slug}/conversations/{asked.pk}/compose/", HTTP_HX_REQUEST="true")
        .content.decode()
    )
    assert f'value="{customer(a)}"' in html, "To: the customer who wrote"
    assert 'value="Re: Pricing for 40 seats"' in html
    assert a.contact.full_name in html and f'data-address="{customer(a)}"' in html


def test_the_mailbox_page_tests_the_smtp_login(a, relay, mailbox):
    url = f"/o/{a.org.slug}/mail/{mailbox.pk}/"
    form = {
        "email_address": mailbox.email_address, "host": mailbox.host, "port": mailbox.port,
        "security": "none", "username": mailbox.username, "history_days": 90,
        "smtp_host": "127.0.0.1", "smtp_port": relay.port, "smtp_security": "none",
        "smtp_username": "", "test_smtp": "1",
    }  # fmt: skip
    page = a.client().post(url, form).content.decode()
    assert f"Connected to 127.0.0.1:{relay.port} and logged in as {mailbox.username}" in page
    refused = a.client().post(url, form | {"smtp_password": "wrong"}).content.decode()
    assert "refused the username or password" in refused
    down = a.client().post(url, form | {"smtp_port": _free_port()}).content.decode()
    assert "cannot reach the mail server" in down


def test_a_retry_of_another_organisations_email_is_a_404(a, b):
    response = a.client().post(f"/o/{a.org.slug}/messages/{b.message.pk}/retry/")
    assert response.status_code == 404


def test_attachments_go_with_the_email_and_are_kept_like_incoming_ones(
    a, relay, mailbox, asked, eager, django_capture_on_commit_callbacks
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    quote = SimpleUploadedFile("quote 40 seats.pdf", b"%PDF-1.7 quote", "application/pdf")
    send(a, asked, django_capture_on_commit_callbacks, attachments=[quote])
    [(_, sent)] = relay.received
    [part] = list(sent.iter_attachments())
    assert (part.get_filename(), part.get_content()) == ("quote 40 seats.pdf", b"%PDF-1.7 quote")
    reply = Message.objects.for_org(a.org).get(conversation=asked, direction="outbound")
    [kept] = reply.attachments.all()
    assert (kept.filename, kept.content_type, bytes(kept.content)) == (
        "quote 40 seats.pdf", "application/pdf", b"%PDF-1.7 quote",
    )  # fmt: skip


def test_a_new_email_from_a_persons_page_starts_a_conversation_and_its_answer_threads_back(
    a, dovecot, relay, mailbox, eager, django_capture_on_commit_callbacks
):
    page = a.client().get(f"/o/{a.org.slug}/accounts/{a.account.pk}/email/?contact={a.contact.pk}")
    assert customer(a) in page.content.decode(), "the person is already in To"
    with django_capture_on_commit_callbacks(execute=True):
        response = a.client().post(
            f"/o/{a.org.slug}/accounts/{a.account.pk}/email/",
            {"to": customer(a), "subject": "Your renewal in January", "body": "Can we talk?"},
        )
    conversation = Conversation.objects.for_org(a.org).get(subject="Your renewal in January")
    assert response.status_code == 302 and response["Location"].endswith(f"/{conversation.pk}/")
    [(envelope, sent)] = relay.received
    assert envelope == [customer(a)]
    answer = (
        f"From: A Person <{customer(a)}>\r\nTo: {mailbox.email_address}\r\n"
        f"Subject: Re: Your renewal in January\r\nMessage-ID: <a2@alpha-customer.example>\r\n"
        f"In-Reply-To: {sent['Message-ID']}\r\nDate: Tue, 17 Nov 2026 10:00:00 +0000\r\n\r\nYes.\r\n"
    ).encode()
    dovecot.append(mailbox.username, "INBOX", answer)
    mailbox_sync(org=a.org, mailbox_id=mailbox.pk)
    reply = Message.objects.for_org(a.org).get(message_id="<a2@alpha-customer.example>")
    assert reply.conversation_id == conversation.pk


def test_a_new_email_without_anyone_to_send_to_keeps_nothing(a, mailbox):
    before = Conversation.objects.for_org(a.org).count()
    response = a.client().post(
        f"/o/{a.org.slug}/accounts/{a.account.pk}/email/",
        {"to": "not an address", "subject": "x", "body": "y"},
    )
    assert response.status_code == 422 and "is not an email address" in response.content.decode()
    assert Conversation.objects.for_org(a.org).count() == before


def composer(a, conversation) -> str:
    url = f"/o/{a.org.slug}/conversations/{conversation.pk}/compose/"
    return a.client().get(url, HTTP_HX_REQUEST="true").content.decode()


def choose_file(a, conversation, name: str, content: bytes):
    upload = SimpleUploadedFile(name, content, content_type="text/csv")
    return a.client().post(
        f"/o/{a.org.slug}/conversations/{conversation.pk}/draft/files/",
        {"attachments": [upload]}, HTTP_HX_REQUEST="true",
    )  # fmt: skip


def test_a_chosen_file_stays_with_the_draft_through_a_reload_and_goes_with_the_email(
    a, relay, mailbox, asked, eager, django_capture_on_commit_callbacks
):
    response = choose_file(a, asked, "prices.csv", b"seats,price\n40,1200\n")
    assert response.status_code == 200 and "prices.csv" in response.content.decode()
    assert "prices.csv" in composer(a, asked), "a reload keeps it"

    send(a, asked, django_capture_on_commit_callbacks)
    [(_, sent)] = relay.received
    [attached] = list(sent.iter_attachments())
    assert attached.get_filename() == "prices.csv"
    assert attached.get_content() in ("seats,price\n40,1200\n", b"seats,price\n40,1200\n")
    assert "prices.csv" not in composer(a, asked), "the next email starts without it"
    assert not DraftAttachment.objects.for_org(a.org).filter(draft__author=a.sales).exists()


def test_a_send_refused_for_its_fields_keeps_the_files_it_carried(a, mailbox, asked):
    upload = SimpleUploadedFile("prices.csv", b"seats,price\n", content_type="text/csv")
    response = a.client().post(
        f"/o/{a.org.slug}/conversations/{asked.pk}/send/",
        {"to": "", "subject": "Prices", "body": "Attached.", "attachments": [upload]},
        HTTP_HX_REQUEST="true",
    )  # fmt: skip
    assert response.status_code == 422
    page = response.content.decode()
    assert "This field is required." in page and "prices.csv" in page
    assert "prices.csv" in composer(a, asked)


def test_a_kept_file_can_be_removed_and_files_past_the_limit_are_refused(
    a, mailbox, asked, settings
):
    choose_file(a, asked, "old.csv", b"x" * 10)
    [kept] = DraftAttachment.objects.for_org(a.org).filter(draft__author=a.sales)
    response = a.client().post(
        f"/o/{a.org.slug}/conversations/{asked.pk}/draft/files/{kept.pk}/remove/",
        HTTP_HX_REQUEST="true",
    )
    assert "old.csv" not in response.content.decode()
    assert "old.csv" not in composer(a, asked)

    settings.MAIL_ATTACHMENTS_PER_MESSAGE_MAX_BYTES = 1024 * 1024
    choose_file(a, asked, "first.csv", b"x" * 700_000)
    response = choose_file(a, asked, "second.csv", b"x" * 700_000)
    assert response.status_code == 422
    page = response.content.decode()
    assert "1 MB together at most" in page and "first.csv" in page and "second.csv" not in page
