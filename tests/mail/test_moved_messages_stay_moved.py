"""A member's move, split or merge outlives later syncs, even a full resync of the folders.

Through a real Dovecot: a thread comes in from INBOX and Sent, a member puts a message
elsewhere, the folders get a new UIDVALIDITY (everything is read again), and later replies
follow the message to where the member put it.
"""

from __future__ import annotations

from typing import cast

import pytest

from conversations.models import Conversation, Message
from conversations.services import conversation_merge, conversation_split, message_move
from mail.models import Mailbox
from mail.secrets import encrypt_secret
from mail.sync import mailbox_sync
from tests import factories
from tests.mail.conftest import PASSWORD


def email(n: int, *, sender: str, to: str, reply_to: int | None = None, subject: str = "Rollout"):
    headers = (
        f"From: {sender}\nTo: {to}\nSubject: {'Re: ' if reply_to else ''}{subject}\n"
        f"Message-ID: <moved-{n}@example>\nDate: Mon, 16 Nov 2026 1{n}:00:00 +0000\n"
    )
    if reply_to:
        headers += f"In-Reply-To: <moved-{reply_to}@example>\n"
    return (headers + f"\nMessage number {n}\n").replace("\n", "\r\n").encode()


def by_number(org, n: int) -> Message:
    return Message.objects.for_org(org).get(message_id=f"<moved-{n}@example>")


@pytest.fixture
def synced_thread(dovecot, a):
    """Customer writes (1), we answer from any client (2, in Sent), they answer back (3)."""
    username = dovecot.new_user()
    mailbox = Mailbox.all_orgs.create(
        organisation=a.org, owner=a.sales, email_address=f"{username}@imap.test",
        username=username, secret=encrypt_secret(PASSWORD), host=dovecot.host,
        port=dovecot.port, security="none",
    )  # fmt: skip
    them, us = a.contact.addresses.get().value, a.sales.email
    dovecot.append(username, "INBOX", email(1, sender=them, to=us))
    dovecot.append(username, "Sent", email(2, sender=us, to=them, reply_to=1))
    dovecot.append(username, "INBOX", email(3, sender=them, to=us, reply_to=2))
    assert mailbox_sync(org=a.org, mailbox_id=mailbox.pk).created == 3
    thread = by_number(a.org, 1).conversation
    assert {by_number(a.org, n).conversation_id for n in (1, 2, 3)} == {thread.pk}

    def resync_everything() -> None:
        for number, folder in enumerate(("INBOX", "Sent"), start=1):
            dovecot.set_uidvalidity(username, folder, 7000 + number)
        report = mailbox_sync(org=a.org, mailbox_id=mailbox.pk)
        assert (report.created, report.duplicates) == (0, 3), "all read again, none stored again"

    def reply(n: int, to_message: int) -> Message:
        dovecot.append(username, "INBOX", email(n, sender=them, to=us, reply_to=to_message))
        assert mailbox_sync(org=a.org, mailbox_id=mailbox.pk).created == 1
        return by_number(a.org, n)

    return thread, resync_everything, reply


def where(org) -> dict[int, int]:
    return {n: by_number(org, n).conversation_id for n in (1, 2, 3)}


def test_a_moved_message_stays_moved_and_replies_to_it_follow_it(dovecot, a, synced_thread):
    thread, resync_everything, reply = synced_thread
    elsewhere = factories.AccountFactory(organisation=a.org, name="The real customer")
    target = cast(
        Conversation,
        factories.ConversationFactory(organisation=a.org, account=elsewhere, subject="Other"),
    )
    message_move(org=a.org, message=by_number(a.org, 3), to_conversation=target, by=a.sales)

    resync_everything()

    assert where(a.org) == {1: thread.pk, 2: thread.pk, 3: target.pk}
    assert by_number(a.org, 3).account_id == elsewhere.pk
    assert Message.objects.for_org(a.org).filter(message_id__startswith="<moved-").count() == 3
    target.refresh_from_db()
    thread.refresh_from_db()
    assert (thread.message_count, target.message_count) == (2, 1), "the resync counted nothing"
    # The member said message 3 belongs there: a reply to it goes there too, not back.
    assert reply(4, to_message=3).conversation_id == target.pk
    assert reply(5, to_message=2).conversation_id == thread.pk
    target.refresh_from_db()
    assert (target.message_count, target.account_id) == (2, elsewhere.pk)
    assert by_number(a.org, 4).account_id == elsewhere.pk


def test_a_split_survives_a_resync_and_replies_follow_each_part(dovecot, a, synced_thread):
    thread, resync_everything, reply = synced_thread
    continued = conversation_split(
        org=a.org, conversation=thread, from_message=by_number(a.org, 2), by=a.sales
    )

    resync_everything()

    assert where(a.org) == {1: thread.pk, 2: continued.pk, 3: continued.pk}
    assert reply(4, to_message=3).conversation_id == continued.pk
    assert reply(5, to_message=1).conversation_id == thread.pk


def test_a_merge_survives_a_resync(dovecot, a, synced_thread):
    thread, resync_everything, reply = synced_thread
    continued = conversation_split(
        org=a.org, conversation=thread, from_message=by_number(a.org, 3), by=a.sales
    )
    conversation_merge(org=a.org, into=a.conversation, other=continued, by=a.sales)

    resync_everything()

    assert where(a.org) == {1: thread.pk, 2: thread.pk, 3: a.conversation.pk}
    assert not Conversation.objects.for_org(a.org).filter(pk=continued.pk).exists()
    assert reply(4, to_message=3).conversation_id == a.conversation.pk
