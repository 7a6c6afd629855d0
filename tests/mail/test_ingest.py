"""Email in: each message lands once, with the right people, direction, account and thread."""

from __future__ import annotations

from accounts.models import Account
from contacts.models import Contact
from conversations.models import Conversation, Message
from mail.models import QuarantinedEmail, RawEmail, UnsortedEmail
from mail.services import email_ingest
from tests import factories


def eml(
    *,
    sender: str,
    to: str,
    subject: str = "Pricing",
    message_id: str,
    date: str = "Tue, 03 Nov 2026 09:15:00 +0000",
    body: str = "Hello there.",
    extra: str = "",
) -> bytes:
    headers = (
        f"From: {sender}\nTo: {to}\nSubject: {subject}\nMessage-ID: {message_id}\nDate: {date}\n"
        + extra
    )
    return (headers.strip("\n") + "\n\n" + body + "\n").replace("\n", "\r\n").encode()


def customer(a) -> str:
    return a.contact.addresses.get().value


def test_a_customers_email_lands_in_their_accounts_conversation_as_inbound(a):
    raw = eml(sender=f"Ann <{customer(a)}>", to=a.sales.email, message_id="<m1@alpha>")
    result = email_ingest(org=a.org, raw=raw)
    message = result.message
    assert result.outcome == "created"
    assert (message.account, message.direction, message.sender_contact) == (
        a.account, "inbound", a.contact,
    )  # fmt: skip
    assert message.conversation.subject == "Pricing"
    assert {(p.address, p.role) for p in message.participants.all()} == {
        (customer(a), "from"), (a.sales.email, "to"),
    }  # fmt: skip
    assert RawEmail.all_orgs.get(message=message).raw == raw
    message.conversation.refresh_from_db()
    assert message.conversation.last_inbound_at == message.occurred_at


def test_mail_we_send_is_outbound_and_mail_among_ourselves_is_internal(a):
    out = email_ingest(
        org=a.org, raw=eml(sender=a.sales.email, to=customer(a), message_id="<o1@us>")
    )
    assert (out.message.direction, out.message.sender_member) == ("outbound", a.sales)
    internal = email_ingest(
        org=a.org,
        raw=eml(sender=a.sales.email, to=a.admin.email, message_id="<i1@us>",
                extra="In-Reply-To: <o1@us>\n"),
    )  # fmt: skip
    assert internal.message.direction == "internal"
    assert internal.message.conversation == out.message.conversation


def test_the_same_message_seen_twice_is_one_message(a):
    raw = eml(sender=customer(a), to=a.sales.email, message_id="<twice@alpha>")
    first = email_ingest(org=a.org, raw=raw)
    # A colleague's mailbox has it too, with different Received headers.
    second = email_ingest(org=a.org, raw=b"Received: from elsewhere\r\n" + raw)
    again = email_ingest(org=a.org, raw=raw)
    assert (second.outcome, again.outcome) == ("duplicate", "duplicate")
    assert second.message == first.message == again.message
    assert Message.all_orgs.filter(message_id="<twice@alpha>").count() == 1


def test_a_new_person_at_a_known_domain_becomes_a_contact_there(a):
    raw = eml(
        sender=f'"Bea Novak" <bea@{a.domain.domain}>', to=a.sales.email, message_id="<new@alpha>"
    )
    result = email_ingest(org=a.org, raw=raw)
    bea = Contact.objects.for_org(a.org).get(full_name="Bea Novak")
    assert result.message.account == a.account and bea.account == a.account
    assert result.message.sender_contact == bea


def test_free_mail_never_matches_an_account_and_unknown_mail_waits_in_unsorted(a):
    a.domain.domain = "gmail.com"  # even if someone managed to add it
    a.domain.save()
    result = email_ingest(
        org=a.org, raw=eml(sender="stranger@gmail.com", to=a.sales.email, message_id="<u1@x>")
    )
    assert result.outcome == "unsorted"
    waiting = UnsortedEmail.objects.for_org(a.org).get(message_id="<u1@x>")
    assert (waiting.sender, waiting.subject, waiting.state) == (
        "stranger@gmail.com",
        "Pricing",
        "waiting",
    )
    assert not Message.objects.for_org(a.org).filter(message_id="<u1@x>").exists()
    assert email_ingest(org=a.org, raw=eml(sender="stranger@gmail.com", to=a.sales.email,
                                           message_id="<u1@x>")).outcome == "unsorted"  # fmt: skip
    assert UnsortedEmail.objects.for_org(a.org).filter(message_id="<u1@x>").count() == 1


def test_a_member_can_file_unsorted_mail_under_an_account(a):
    raw = eml(sender="Zed <zed@gmail.com>", to=a.sales.email, message_id="<file-me@x>")
    email_ingest(org=a.org, raw=raw)
    filed = email_ingest(org=a.org, raw=raw, account=a.account)
    assert filed.outcome == "created" and filed.message.account == a.account
    assert filed.message.sender_contact.full_name == "Zed"


def test_a_reply_threads_by_in_reply_to_then_references(a):
    first = email_ingest(
        org=a.org, raw=eml(sender=a.sales.email, to=customer(a), message_id="<t1@us>")
    )
    reply = email_ingest(
        org=a.org,
        raw=eml(sender=customer(a), to=a.sales.email, subject="Re: Pricing (revised)",
                message_id="<t2@alpha>", extra="In-Reply-To: <t1@us>\n"),
    )  # fmt: skip
    only_refs = email_ingest(
        org=a.org,
        raw=eml(sender=customer(a), to=a.sales.email, subject="Another subject entirely",
                message_id="<t3@alpha>", extra="References: <unknown@x> <t2@alpha>\n"),
    )  # fmt: skip
    conversation = first.message.conversation
    assert reply.message.conversation == conversation, "an edited subject still threads"
    assert only_refs.message.conversation == conversation
    assert conversation.messages.count() == 3


def test_an_outlook_reply_without_references_threads_by_subject_and_people(a):
    first = email_ingest(
        org=a.org,
        raw=eml(sender=a.sales.email, to=customer(a), subject="Q1 rollout", message_id="<s1@us>"),
    )
    reply = email_ingest(
        org=a.org,
        raw=eml(sender=customer(a), to=a.sales.email, subject="AW: RE[2]: Q1 rollout",
                message_id="<s2@alpha>", date="Wed, 04 Nov 2026 10:00:00 +0100"),
    )  # fmt: skip
    stranger_same_subject = email_ingest(
        org=a.org,
        raw=eml(sender=f"other@{a.domain.domain}", to="someone-else@us.example",
                subject="Re: Q1 rollout", message_id="<s3@alpha>"),
    )  # fmt: skip
    assert reply.message.conversation == first.message.conversation
    assert stranger_same_subject.message.conversation != first.message.conversation


def test_a_reply_token_in_our_message_ids_finds_the_conversation_and_a_forged_one_does_not(a):
    from mail.threading import reply_token_message_id

    forged = email_ingest(
        org=a.org,
        raw=eml(sender="x@gmail.com", to=a.sales.email, subject="Totally new", message_id="<f1@x>",
                extra=f"In-Reply-To: <tl.c{a.conversation.pk}.{'0' * 20}.abc@threadline.example>\n"),
    )  # fmt: skip
    assert forged.outcome == "unsorted"
    token = reply_token_message_id(
        org_id=a.org.pk, conversation_id=a.conversation.pk, host="t.example"
    )
    result = email_ingest(
        org=a.org,
        raw=eml(sender=customer(a), to=a.sales.email, subject="Totally new",
                message_id="<r1@alpha>", extra=f"In-Reply-To: {token}\n"),
    )  # fmt: skip
    assert result.message.conversation == a.conversation


def test_automated_mail_is_kept_but_moves_no_ones_clock(a):
    Message.all_orgs.filter(pk=a.message.pk).update(message_id="<sent@us>")
    a.message.message_id = "<sent@us>"
    conversation = Conversation.objects.for_org(a.org).get()
    before = conversation.last_inbound_at, Account.objects.for_org(a.org).get().last_interaction_at
    result = email_ingest(
        org=a.org,
        raw=eml(sender=customer(a), to=a.sales.email, subject="Automatic reply: renewal",
                message_id="<ooo@alpha>", extra=f"In-Reply-To: {a.message.message_id or '<none>'}\n"
                "Auto-Submitted: auto-replied\n"),
    )  # fmt: skip
    assert result.message.is_automated and result.message.is_out_of_office
    conversation = result.message.conversation
    assert conversation.pk == a.conversation.pk, "the auto-reply threads into the conversation"
    conversation.refresh_from_db()
    assert conversation.last_inbound_at == before[0]
    assert (
        Account.objects.for_org(result.message.organisation)
        .get(pk=result.message.account_id)
        .last_interaction_at
        == before[1]
    )


def test_bytes_that_are_not_mail_are_quarantined_with_the_reason(a):
    result = email_ingest(org=a.org, raw=b"garbage without headers", source="INBOX uid 7")
    assert result.outcome == "quarantined"
    kept = QuarantinedEmail.objects.for_org(a.org).get(source="INBOX uid 7")
    assert kept.raw == b"garbage without headers" and "no sender" in kept.reason
    assert kept.source == "INBOX uid 7"


def test_ingestion_in_one_organisation_never_touches_another(a, b):
    # B knows this customer's domain too; A's ingestion files under A's account only.
    factories.AccountDomainFactory(organisation=b.org, account=b.account, domain=a.domain.domain)
    result = email_ingest(
        org=a.org, raw=eml(sender=f"x@{a.domain.domain}", to=a.sales.email, message_id="<iso@x>")
    )
    assert result.message.account == a.account
    assert not Message.objects.for_org(b.org).filter(message_id="<iso@x>").exists()


def test_every_real_world_email_is_imported_or_quarantined_never_a_crash(a):
    import os
    import re
    from collections import Counter
    from pathlib import Path

    import pytest

    from accounts.services import account_save
    from mail.services import emails_ingest

    corpus = os.environ.get("THREADLINE_MAIL_CORPUS")
    if not corpus or not Path(corpus).is_dir():
        pytest.skip("THREADLINE_MAIL_CORPUS is not set to the shared mail corpus (.ci/run sets it)")
    files = sorted(
        p for p in Path(corpus).rglob("*")
        if p.is_file() and p.name != "README.md" and "reply-trimming" not in p.parts
    )  # fmt: skip
    raws = [(f.read_bytes(), str(f.relative_to(corpus))) for f in files]
    # The commonest sender domains become accounts, so real mail is filed and threaded too.
    domains = Counter(
        m.group(1).lower().decode()
        for raw, _ in raws
        if (m := re.search(rb"^From:.*@([\w-]+(?:\.[\w-]+)+)", raw, re.M | re.I))
    )
    for n, (domain, _) in enumerate(domains.most_common(40)):
        if domain not in {"gmail.com", "yahoo.com", "hotmail.com", "aol.com", "msn.com"}:
            account_save(org=a.org, domains=[domain], name=f"Corpus {n}")
    outcomes: Counter[str] = Counter()
    for start in range(0, len(raws), 250):
        for result in emails_ingest(org=a.org, items=raws[start : start + 250]):
            outcomes[result.outcome] += 1
            assert result.outcome != "quarantined" or result.reason
    assert sum(outcomes.values()) == len(files) > 6000
    assert outcomes["created"] > 1000, outcomes
    assert Message.objects.for_org(a.org).filter(kind="email").count() == outcomes["created"]
    assert (
        QuarantinedEmail.objects.for_org(a.org).count() == outcomes["quarantined"] + 1
    )  # + the cast's
    # Ingesting the same mail again stores nothing new.
    again = Counter(r.outcome for r in emails_ingest(org=a.org, items=raws[:250]))
    assert again["created"] == 0


def test_a_date_in_the_future_does_not_hold_the_clocks_there(a):
    from django.utils import timezone

    result = email_ingest(
        org=a.org,
        raw=eml(sender=customer(a), to=a.sales.email, message_id="<fut@x>",
                date="Fri, 01 Jan 2099 00:00:00 +0000"),
    )  # fmt: skip
    assert result.message.occurred_at < timezone.now() + timezone.timedelta(hours=2)
    assert Account.objects.for_org(a.org).get().last_interaction_at.year < 2099


def test_a_thread_spanning_weeks_in_one_batch_stays_one_conversation(a):
    from mail.services import emails_ingest

    days = ["Mon, 02 Nov 2026", "Fri, 27 Nov 2026", "Tue, 22 Dec 2026"]
    items = [
        (eml(sender=customer(a), to=a.sales.email, subject="Re: Roadmap" if n else "Roadmap",
             message_id=f"<w{n}@x>", date=f"{day} 10:00:00 +0000"), "")
        for n, day in enumerate(days)
    ]  # fmt: skip
    results = emails_ingest(org=a.org, items=items)
    assert len({r.message.conversation.pk for r in results}) == 1


def test_two_customers_writing_to_us_on_the_same_subject_are_two_conversations(a):
    other = factories.ContactFactory(organisation=a.org, account=a.account, full_name="Other")
    factories.ContactAddressFactory(
        organisation=a.org, contact=other, value=f"other@{a.domain.domain}"
    )
    first = email_ingest(
        org=a.org,
        raw=eml(sender=customer(a), to=a.sales.email, subject="Invoice", message_id="<i1@x>"),
    )
    second = email_ingest(
        org=a.org,
        raw=eml(
            sender=f"other@{a.domain.domain}",
            to=a.sales.email,
            subject="Invoice",
            message_id="<i2@x>",
        ),
    )
    assert first.message.conversation != second.message.conversation


def test_mail_without_a_message_id_seen_in_two_mailboxes_is_one_message(a):
    body = f"From: {customer(a)}\r\nTo: {a.sales.email}\r\nSubject: No id\r\nDate: Mon, 02 Nov 2026 10:00:00 +0000\r\n\r\nHi\r\n"
    first = email_ingest(org=a.org, raw=("Delivered-To: one@us\r\n" + body).encode())
    second = email_ingest(org=a.org, raw=("Delivered-To: two@us\r\n" + body).encode())
    assert (first.outcome, second.outcome) == ("created", "duplicate")


def test_filed_mail_keeps_its_raw_copy(a):
    from mail.services import unsorted_file

    raw = eml(sender="zed@gmail.com", to=a.sales.email, message_id="<raw@x>")
    email_ingest(org=a.org, raw=raw)
    waiting = UnsortedEmail.objects.for_org(a.org).get(message_id="<raw@x>")
    message = unsorted_file(org=a.org, unsorted=waiting, account=a.account, by=a.sales)
    assert RawEmail.objects.for_org(a.org).get(message=message).raw == raw


def test_the_same_bad_email_read_twice_is_quarantined_once_and_a_long_source_is_fine(a):
    source = "INBOX/" + "deep/" * 100
    email_ingest(org=a.org, raw=b"garbage", source=source)
    email_ingest(org=a.org, raw=b"garbage", source=source)
    kept = QuarantinedEmail.objects.for_org(a.org).filter(raw=b"garbage")
    assert kept.count() == 1 and kept.get().source == source[:300]


def test_overlong_names_and_ids_are_trimmed_not_quarantined(a):
    result = email_ingest(
        org=a.org,
        raw=eml(sender=f'"{"N" * 300}" <long@{a.domain.domain}>', to=a.sales.email,
                message_id="<long@x>", extra=f"In-Reply-To: <{'y' * 1200}@x>\n"),
    )  # fmt: skip
    assert result.outcome == "created"
    assert result.message.sender_contact.full_name == "N" * 200


def test_a_worker_that_loses_the_race_to_create_a_contact_uses_the_winners(transactional_db, a):
    """Two other workers are each creating a new person (Bea at one account, Carl at another)
    and have not committed yet; this one stores mail from both people. Each time it finds the
    other's row in its way it must take that contact, not quarantine its email as a conflict."""
    import threading
    import time

    from django.db import connection

    from mail.services import emails_ingest
    from organisations.tenancy import org_context
    from tests.mail.workers import finish, go, said, start_worker

    other = factories.AccountFactory(organisation=a.org, name="Other Ltd")
    factories.AccountDomainFactory(organisation=a.org, account=other, domain="other.example")
    domains = {"bea": a.domain.domain, "carl": "other.example"}

    def mail_from(person: str, n: int) -> bytes:
        return eml(sender=f"{person.title()} <{person}@{domains[person]}>", to=a.sales.email,
                   subject=f"From {person}", message_id=f"<{person}-{n}@x>")  # fmt: skip

    holders, waiting = [], {}
    for person in ("bea", "carl"):
        holder = start_worker(
            "from django.db import connection, transaction\n"
            "from organisations.models import Organisation\n"
            "from organisations.tenancy import org_context\n"
            "from mail.services import email_ingest\n"
            f"org = Organisation.objects.get(pk={a.org.pk})\n"
            "with org_context(org), transaction.atomic():\n"
            f"    result = email_ingest(org=org, raw={mail_from(person, 1)!r})\n"
            "    print(connection.connection.info.backend_pid, flush=True)\n"
            "    sys.stdin.readline()  # holds the new contact, uncommitted, until told\n"
            "print(json.dumps(result.outcome))\n"
        )
        go(holder)
        waiting[int(said(holder))] = holder
        holders.append(holder)

    ours: dict = {}

    def ingest() -> None:
        try:
            with org_context(a.org):
                ours["pid"] = connection.connection.info.backend_pid
                ours["results"] = emails_ingest(
                    org=a.org, items=[(mail_from("bea", 2), ""), (mail_from("carl", 2), "")]
                )
        finally:
            connection.close()

    thread = threading.Thread(target=ingest)
    thread.start()
    deadline = time.monotonic() + 60
    while thread.is_alive() and waiting:  # let each holder commit once we wait on it
        assert time.monotonic() < deadline, "stuck"
        if "pid" in ours:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_blocking_pids(%s)", [ours["pid"]])
                for pid in cursor.fetchone()[0]:
                    if pid in waiting:
                        go(waiting.pop(pid))
        time.sleep(0.02)
    for holder in waiting.values():
        go(holder)
    thread.join(60)
    assert [finish(holder) for holder in holders] == ["created", "created"]
    assert [r.outcome for r in ours["results"]] == ["created", "created"], [
        r.reason for r in ours["results"]
    ]
    for person in ("bea", "carl"):
        contact = Contact.all_orgs.get(organisation=a.org, full_name=person.title())
        senders = Message.all_orgs.filter(subject=f"From {person}").values_list(
            "sender_contact", flat=True
        )
        assert list(senders) == [contact.pk, contact.pk], "both emails are from the one person"
    assert QuarantinedEmail.all_orgs.filter(organisation=a.org).count() == 1  # the cast's
