"""The mailbox page, unsorted email and quarantine, as a member uses them."""

from __future__ import annotations

from conversations.models import Message
from mail.models import Mailbox, QuarantinedEmail, UnsortedEmail
from mail.secrets import decrypt_secret
from mail.services import email_ingest
from tests.mail.conftest import PASSWORD


def form(dovecot, username, **overrides):
    return {
        "email_address": "me@ourco.example", "host": dovecot.host, "port": dovecot.port,
        "security": "none", "username": username, "password": PASSWORD, "history_days": 90,
        "extra_folders": "",
    } | overrides  # fmt: skip


def test_test_connection_says_what_it_found_and_saves_nothing(dovecot, a):
    response = a.client().post(
        f"/o/{a.org.slug}/mail/new/", form(dovecot, dovecot.new_user()) | {"test": "1"}
    )
    html = response.content.decode()
    assert "Connected and logged in" in html and "found Sent as “Sent”" in html
    assert not Mailbox.objects.for_org(a.org).filter(email_address="me@ourco.example").exists()


def test_test_connection_explains_a_wrong_password_and_an_unreachable_host(dovecot, a):
    client = a.client()
    url = f"/o/{a.org.slug}/mail/new/"
    wrong = client.post(url, form(dovecot, dovecot.new_user(), password="nope") | {"test": "1"})
    assert (
        "Could not connect: the server refused the username or password" in wrong.content.decode()
    )
    down = client.post(url, form(dovecot, "x", port=1) | {"test": "1"})
    assert "Could not connect: cannot reach 127.0.0.1:1" in down.content.decode()


def test_saving_a_mailbox_encrypts_the_password_and_never_shows_it_again(dovecot, a):
    response = a.client().post(f"/o/{a.org.slug}/mail/new/", form(dovecot, dovecot.new_user()))
    assert response.status_code == 302
    mailbox = Mailbox.objects.for_org(a.org).get(email_address="me@ourco.example")
    assert PASSWORD not in mailbox.secret and decrypt_secret(mailbox.secret) == PASSWORD
    page = a.client().get(f"/o/{a.org.slug}/mail/{mailbox.pk}/").content.decode()
    assert PASSWORD not in page and mailbox.secret not in page
    # Saving again without a password keeps the stored one.
    a.client().post(
        f"/o/{a.org.slug}/mail/{mailbox.pk}/", form(dovecot, mailbox.username, password="")
    )
    mailbox.refresh_from_db()
    assert decrypt_secret(mailbox.secret) == PASSWORD


def test_a_bad_mailbox_form_says_what_is_wrong(dovecot, a):
    response = a.client().post(
        f"/o/{a.org.slug}/mail/new/", form(dovecot, "", port=70000, password="", history_days=9999)
    )
    html = response.content.decode()
    assert response.status_code == 422
    assert "A port is a number from 1 to 65535." in html
    assert "Ten years (3650 days) at most." in html
    assert html.count("This field is required.") == 2  # username and password


def test_a_members_mailbox_is_theirs_alone(a):
    other = a.client(a.admin)
    assert other.get(f"/o/{a.org.slug}/mail/{a.mailbox.pk}/").status_code == 404
    assert a.mailbox.email_address not in other.get(f"/o/{a.org.slug}/mail/").content.decode()


def test_mailbox_page_shows_sync_health_and_quarantine(a):
    html = a.client().get(f"/o/{a.org.slug}/mail/").content.decode()
    assert a.mailbox.email_address in html and "not yet" in html
    assert '#quarantine">1</a>' in html
    detail = a.client().get(f"/o/{a.org.slug}/mail/{a.mailbox.pk}/").content.decode()
    assert a.quarantined.reason in detail


def test_retrying_quarantined_mail_takes_it_in_once_it_can_be_read(a):
    fixed = QuarantinedEmail.all_orgs.create(
        organisation=a.org, mailbox=a.mailbox, reason="failed before the fix",
        raw=b"From: ann@gmail.com\r\nTo: x@y.example\r\nSubject: Hi\r\nMessage-ID: <q@x>\r\n\r\nHi\r\n",
    )  # fmt: skip
    client = a.client()
    client.post(f"/o/{a.org.slug}/mail/quarantine/{fixed.pk}/retry/")
    client.post(f"/o/{a.org.slug}/mail/quarantine/{a.quarantined.pk}/retry/")
    fixed.refresh_from_db()
    a.quarantined.refresh_from_db()
    assert fixed.resolved_at is not None
    assert UnsortedEmail.objects.for_org(a.org).filter(message_id="<q@x>").exists()
    assert a.quarantined.resolved_at is None and "no sender" in a.quarantined.reason
    assert QuarantinedEmail.objects.for_org(a.org).count() == 2, "no second copy of a failure"


def test_filing_unsorted_mail_under_an_account(a):
    raw = b"From: Kim <kim@gmail.com>\r\nTo: x@y.example\r\nSubject: Intro\r\nMessage-ID: <intro@k>\r\n\r\nHi\r\n"
    email_ingest(org=a.org, raw=raw)
    waiting = UnsortedEmail.objects.for_org(a.org).get(message_id="<intro@k>")
    page = a.client().get(f"/o/{a.org.slug}/mail/unsorted/").content.decode()
    assert "Intro" in page and "kim@gmail.com" in page
    response = a.client().post(
        f"/o/{a.org.slug}/mail/unsorted/{waiting.pk}/file/", {"account": a.account.pk}
    )
    message = Message.objects.for_org(a.org).get(message_id="<intro@k>")
    assert response.status_code == 302 and message.account == a.account
    assert message.sender_contact.full_name == "Kim"
    waiting.refresh_from_db()
    assert (waiting.state, waiting.filed_under, waiting.decided_by) == ("filed", a.account, a.sales)
    assert "Intro" not in a.client().get(f"/o/{a.org.slug}/mail/unsorted/").content.decode()


def test_dismissing_unsorted_mail_keeps_it_but_takes_it_off_the_list(a):
    a.client().post(f"/o/{a.org.slug}/mail/unsorted/{a.unsorted.pk}/dismiss/")
    a.unsorted.refresh_from_db()
    assert a.unsorted.state == "dismissed"
    assert (
        a.unsorted.subject not in a.client().get(f"/o/{a.org.slug}/mail/unsorted/").content.decode()
    )


def test_automated_mail_is_shown_as_such(a):
    raw = (
        f"From: {a.contact.addresses.get().value}\r\nTo: x@y.example\r\nSubject: Automatic reply: hi\r\n"
        "Message-ID: <ooo@k>\r\nAuto-Submitted: auto-replied\r\n\r\nI am away\r\n"
    ).encode()
    email_ingest(org=a.org, raw=raw)
    html = a.client().get(f"/o/{a.org.slug}/accounts/{a.account.pk}/").content.decode()
    assert '<span class="badge automated" title="out-of-office">Out of office</span>' in html


def test_a_reply_reads_as_its_new_text_with_the_quoted_history_folded_away(a):
    raw = (
        f"From: {a.contact.addresses.get().value}\r\nTo: x@y.example\r\nSubject: Re: Pricing\r\n"
        "Message-ID: <reply@k>\r\n\r\nFriday works.\r\n\r\nOn Mon, Sam wrote:\r\n> Can we meet?\r\n"
    ).encode()
    email_ingest(org=a.org, raw=raw)
    html = a.client().get(f"/o/{a.org.slug}/accounts/{a.account.pk}/").content.decode()
    body = html[html.index("Friday works.") :]
    assert (
        body.index("Friday works.")
        < body.index('<details class="quoted">')
        < body.index("&gt; Can we meet?")
    )


def test_connecting_the_same_mailbox_twice_is_a_field_error(dovecot, a):
    url = f"/o/{a.org.slug}/mail/new/"
    assert a.client().post(url, form(dovecot, dovecot.new_user())).status_code == 302
    again = a.client().post(
        url, form(dovecot, dovecot.new_user(), email_address="ME@ourco.example")
    )
    assert again.status_code == 422
    assert "You have connected this mailbox already." in again.content.decode()
