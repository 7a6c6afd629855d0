"""A hard bounce (a delivery report saying the mailbox does not exist) marks the person whose
address bounced as having probably left; refusals, full mailboxes and delays mark nobody."""

from __future__ import annotations

import pickle
from datetime import datetime, timedelta
from email.utils import format_datetime

from django.urls import reverse
from django.utils import timezone

from contacts.models import Contact
from conversations.models import Message
from health.models import HealthSnapshot
from health.services import health_snapshots_refresh
from mail.models import RawEmail, UnsortedEmail
from mail.parsing import parse_email
from mail.services import email_ingest, emails_ingest
from tests import factories

OUR_MAIL_HOST = "mail.threadline.test"


def postfix_dsn(
    *,
    to: str,
    recipients: list[tuple[str, str, str, str]],
    queue_id: str = "3F2A1C0E3B",
    subject: str = "Undelivered Mail Returned to Sender",
    returned: str = "message/rfc822",
    extra: str = "",
    when: datetime | None = None,
) -> bytes:
    """A delivery status notification as Postfix sends it back to our sender: a notice for
    people, the report (one block per recipient: address, action, status, what the other
    server said) and the returned message (whole, or only its headers).

    `recipients` are (address, action, status, diagnostic) tuples."""
    when = when or timezone.now() - timedelta(days=1)
    boundary = f"{queue_id}.1781255701/{OUR_MAIL_HOST}"
    blocks = "\n".join(
        f"Final-Recipient: rfc822; {address}\nOriginal-Recipient: rfc822;{address}\n"
        f"Action: {action}\nStatus: {status}\nRemote-MTA: dns; mx.{address.split('@')[1]}\n"
        f"Diagnostic-Code: smtp; {diagnostic}\n"
        for address, action, status, diagnostic in recipients
    )
    notices = "\n".join(
        f"<{address}>: host mx.{address.split('@')[1]}[192.0.2.25] said: {diagnostic}\n"
        "    (in reply to RCPT TO command)\n"
        for address, _, _, diagnostic in recipients
    )
    original = (
        f"Return-Path: <{to}>\nFrom: Sales <{to}>\nTo: {', '.join(r[0] for r in recipients)}\n"
        f"Subject: Renewal\nMessage-ID: <renewal-{queue_id}@threadline.test>\n"
        f"Date: {format_datetime(when - timedelta(minutes=1))}\n"
    )
    if returned == "message/rfc822":
        original += "\nCould we talk about the renewal next week?\n"
    text = f"""Return-Path: <>
Received: by {OUR_MAIL_HOST} (Postfix)
\tid {queue_id}; {format_datetime(when)}
Date: {format_datetime(when)}
From: MAILER-DAEMON@{OUR_MAIL_HOST} (Mail Delivery System)
Subject: {subject}
To: {to}
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="{boundary}"
Content-Transfer-Encoding: 8bit
Message-Id: <20260612091501.{queue_id}@{OUR_MAIL_HOST}>
{extra}
This is a MIME-encapsulated message.

--{boundary}
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host {OUR_MAIL_HOST}.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

                   The mail system

{notices}
--{boundary}
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; {OUR_MAIL_HOST}
X-Postfix-Queue-ID: {queue_id}
X-Postfix-Sender: rfc822; {to}
Arrival-Date: {format_datetime(when - timedelta(minutes=1))}

{blocks}
--{boundary}
Content-Description: Undelivered Message
Content-Type: {returned}
Content-Transfer-Encoding: 8bit

{original}
--{boundary}--
"""
    return text.replace("\n\n\n", "\n\n").replace("\n", "\r\n").encode()


NO_SUCH_USER = "550 5.1.1 <{}>: Recipient address rejected: User unknown in virtual mailbox table"
REFUSED = "554 5.7.1 Service unavailable; Client host [198.51.100.7] blocked using zen.example"
FULL = "552 5.2.2 Mailbox full"
DELAYED = "450 4.4.1 Connection timed out"


def hard(address: str) -> tuple[str, str, str, str]:
    return (address, "failed", "5.1.1", NO_SUCH_USER.format(address))


def address_of(contact: Contact) -> str:
    return contact.addresses.get().value


def health_of(a) -> HealthSnapshot:  # type: ignore[no-untyped-def]
    health_snapshots_refresh(org=a.org, account_ids=[a.account.pk])
    return HealthSnapshot.objects.for_org(a.org).get(account=a.account)


def test_a_delivery_report_names_the_addresses_whose_mailbox_does_not_exist():
    parsed = parse_email(
        postfix_dsn(
            to="sales@threadline.test",
            recipients=[
                hard("Sam.Patel+crm@Acme.example"),
                ("ops@acme.example", "failed", "5.7.1", REFUSED),
                ("lee@acme.example", "failed", "5.2.2", FULL),
                ("kim@acme.example", "delayed", "4.4.1", DELAYED),
                ("gone@old-acme.example", "failed", "5.1.10", "556 5.1.10 null MX"),
            ],
        )
    )
    assert parsed.automated == "bounce"
    assert parsed.sender is not None and parsed.sender.address == "mailer-daemon@" + OUR_MAIL_HOST
    assert parsed.bounced == ["sam.patel@acme.example", "gone@old-acme.example"]
    # Mail is parsed in processes of their own: what they hand back must pickle.
    assert pickle.loads(pickle.dumps(parsed)).bounced == parsed.bounced  # noqa: S301 (our own)


def test_a_report_without_a_final_recipient_falls_back_to_the_original_one():
    raw = postfix_dsn(to="sales@threadline.test", recipients=[hard("sam@acme.example")])
    raw = raw.replace(b"Final-Recipient: rfc822; sam@acme.example\r\n", b"")
    assert parse_email(raw).bounced == ["sam@acme.example"]


def test_a_bounce_that_is_no_delivery_report_names_nobody():
    plain = (
        "From: Mail Delivery Subsystem <mailer-daemon@acme.example>\nTo: sales@threadline.test\n"
        "Subject: Delivery failure\nMessage-ID: <plain-bounce@acme.example>\n\n"
        "Your message to sam@acme.example could not be delivered: no such user.\n"
    ).replace("\n", "\r\n")
    parsed = parse_email(plain.encode())
    assert (parsed.automated, parsed.bounced) == ("bounce", [])


def test_a_hard_bounce_marks_the_person_whose_address_bounced_as_left(a):
    assert "person_left" not in health_of(a).flags
    result = email_ingest(
        org=a.org, raw=postfix_dsn(to=a.sales.email, recipients=[hard(address_of(a.contact))])
    )
    assert result.outcome == "created"
    bounce = result.message
    assert (bounce.account, bounce.direction, bounce.automated_reason) == (
        a.account, "inbound", "bounce",
    )  # fmt: skip
    # Recorded as the person whose mail did not arrive, not as someone who wrote.
    assert bounce.sender_contact is None
    assert [(p.role, p.contact, p.address) for p in bounce.participants.filter(role="bounced")] == [
        ("bounced", a.contact, address_of(a.contact))
    ]
    snapshot = health_of(a)
    assert "person_left" in snapshot.flags
    assert snapshot.inputs["breadth"]["people"] == 0  # the only person there no longer counts

    page = a.client().get(reverse("conversation_detail", args=[a.org.slug, bounce.conversation_id]))
    assert page.status_code == 200
    assert "Bounced:" in page.text and address_of(a.contact) in page.text
    took_part = page.text.split('class="by">')[1].split("</p>")[0]
    assert a.contact.full_name not in took_part  # named by the bounce, they took no part in it


def test_only_a_missing_mailbox_marks_someone_left_not_a_refusal_a_full_mailbox_or_a_delay(a):
    # Our email to the account, which the reports below answer the way Gmail's and
    # Exchange's do (In-Reply-To), so they are in the account's record.
    Message.all_orgs.filter(pk=a.message.pk).update(message_id="<renewal@threadline.test>")
    replying = "In-Reply-To: <renewal@threadline.test>\n"
    colleague = factories.ContactFactory(organisation=a.org, account=a.account, full_name="Kim")
    factories.ContactAddressFactory(
        organisation=a.org, contact=colleague, value="kim@alpha-customer.example"
    )
    person = address_of(a.contact)
    reports = [
        postfix_dsn(to=a.sales.email, queue_id="A1", extra=replying,
                    recipients=[(person, "failed", "5.7.1", REFUSED)]),
        postfix_dsn(to=a.sales.email, queue_id="A2", extra=replying,
                    recipients=[(person, "failed", "5.2.2", FULL)]),
        postfix_dsn(to=a.sales.email, queue_id="A3", extra=replying, returned="text/rfc822-headers",
                    subject="Delayed Mail (still being retried)",
                    recipients=[(person, "delayed", "4.4.1", DELAYED)]),
    ]  # fmt: skip
    for raw in reports:
        result = email_ingest(org=a.org, raw=raw)
        assert (result.outcome, result.message.conversation_id) == ("created", a.conversation.pk)
        assert not result.message.participants.filter(role="bounced").exists()
    snapshot = health_of(a)
    assert "person_left" not in snapshot.flags
    assert snapshot.inputs["breadth"]["people"] == 2

    # The same report naming a missing mailbox: only that person has left.
    email_ingest(
        org=a.org,
        raw=postfix_dsn(
            to=a.sales.email, queue_id="A4", extra=replying,
            recipients=[hard("kim@alpha-customer.example"), (person, "failed", "5.7.1", REFUSED)],
        ),
    )  # fmt: skip
    snapshot = health_of(a)
    assert "person_left" in snapshot.flags
    assert snapshot.inputs["breadth"]["people"] == 1
    assert snapshot.inputs["breadth"]["left_recently"] == 1


def test_a_bounce_for_an_address_nobody_knows_is_kept_and_marks_nobody(a):
    # At a domain no account has: it waits under Unsorted with its bytes, as any such mail.
    stranger = email_ingest(
        org=a.org,
        raw=postfix_dsn(
            to=a.sales.email, queue_id="B1", recipients=[hard("who@elsewhere.example")]
        ),
    )
    assert stranger.outcome == "unsorted"
    waiting = UnsortedEmail.objects.for_org(a.org).get(sender="mailer-daemon@" + OUR_MAIL_HOST)
    assert RawEmail.objects.for_org(a.org).filter(pk=waiting.raw_email_id).exists()

    # At the account's domain but nobody we know: filed under the account, and no contact is
    # made for an address that does not exist.
    contacts = Contact.objects.for_org(a.org).count()
    unknown = email_ingest(
        org=a.org,
        raw=postfix_dsn(
            to=a.sales.email, queue_id="B2", recipients=[hard("gone@alpha-customer.example")]
        ),
    )
    assert (unknown.outcome, unknown.message.account) == ("created", a.account)
    assert [
        (p.contact, p.address) for p in unknown.message.participants.filter(role="bounced")
    ] == [(None, "gone@alpha-customer.example")]
    assert Contact.objects.for_org(a.org).count() == contacts
    assert "person_left" not in health_of(a).flags


def test_a_batch_of_bounces_is_looked_up_and_written_in_the_same_few_queries(a):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    people = []
    for n in range(10):
        contact = factories.ContactFactory(organisation=a.org, account=a.account)
        factories.ContactAddressFactory(
            organisation=a.org, contact=contact, value=f"p{n}@alpha-customer.example"
        )
        people.append(contact)
    reports = [
        (postfix_dsn(to=a.sales.email, queue_id=f"C{n}",
                     recipients=[hard(f"p{n}@alpha-customer.example")]), f"INBOX uid {n}")
        for n in range(10)
    ]  # fmt: skip
    emails_ingest(org=a.org, items=reports[:1])  # the conversation the others thread into
    with CaptureQueriesContext(connection) as one:
        emails_ingest(org=a.org, items=reports[1:2])
    with CaptureQueriesContext(connection) as eight:
        results = emails_ingest(org=a.org, items=reports[2:])
    assert len(eight) == len(one)
    assert [r.message.participants.get(role="bounced").contact for r in results] == people[2:]


def test_a_bounce_joins_the_conversation_of_the_email_it_returns(a):
    # Mail servers set no In-Reply-To on a bounce: the returned email's Message-ID leads it.
    for n, returned in enumerate(["message/rfc822", "text/rfc822-headers"]):
        ours = factories.MessageFactory(
            organisation=a.org, conversation=a.conversation, direction="outbound",
            message_id=f"<renewal-Q{n}@threadline.test>", subject="Renewal",
        )  # fmt: skip
        bounce = email_ingest(
            org=a.org,
            raw=postfix_dsn(
                to=a.sales.email, queue_id=f"Q{n}", returned=returned,
                recipients=[hard(address_of(a.contact))],
            ),
        )  # fmt: skip
        assert bounce.message is not None
        assert bounce.message.conversation_id == ours.conversation_id, returned
