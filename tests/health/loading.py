"""Put an archetype's history into the database as one account of an organisation."""

from __future__ import annotations

from accounts.models import Account
from contacts.models import Contact
from conversations.models import Commitment, Conversation, Message, Participant
from organisations.models import Organisation, User
from tests import factories
from tests.health.archetypes import Record


def load(record: Record, *, org: Organisation, owner: User | None, name: str) -> Account:
    account: Account = factories.AccountFactory(organisation=org, owner=owner, name=name)  # type: ignore[assignment]
    contacts: dict[int, Contact] = {}
    for n, person in enumerate(record.people):
        contacts[person.id] = factories.ContactFactory(  # type: ignore[assignment]
            organisation=org, account=account, full_name=f"{name} person {n}",
            buying_influence=person.influence,
            left_company_on=person.left_at.date() if person.left_at else None,
        )  # fmt: skip
    conversations = {}
    for cid in sorted({e.conversation_id for e in record.events}):
        times = [e.at for e in record.events if e.conversation_id == cid]
        conversations[cid] = Conversation.all_orgs.create(
            organisation=org, account=account, owner=owner, subject=f"{name} thread {cid}",
            started_at=min(times), last_activity_at=max(times),
            state="awaiting_us" if cid in record.awaiting_us else "settled",
        )  # fmt: skip
    messages = []
    for e in record.events:
        call = e.kind in {"call", "meeting"}
        messages.append(
            Message(
                organisation=org, conversation=conversations[e.conversation_id], account=account,
                kind=e.kind, direction=e.direction, occurred_at=e.at,
                sender_contact=contacts[e.contact_ids[0]] if e.contact_ids and not call else None,
                sender_member=owner if e.direction == "outbound" else None,
                automated_reason="auto-reply" if e.automated else "",
                is_out_of_office=e.out_of_office, body_text="Hello",
            )
        )  # fmt: skip
    Message.all_orgs.bulk_create(messages)
    Participant.all_orgs.bulk_create(
        Participant(organisation=org, message=m, contact=contacts[c])
        for m, e in zip(messages, record.events, strict=True)
        if e.kind in {"call", "meeting"}
        for c in e.contact_ids
    )
    Commitment.all_orgs.bulk_create(
        Commitment(
            organisation=org, conversation=conversations[p.conversation_id], owed_by=p.owed_by,
            text=p.text, due_on=p.due_at.date() if p.due_at else None, due_at=p.due_at,
            state=p.state, kept_at=p.kept_at, created_at=p.created_at or record.now,
        )
        for p in record.promises
    )  # fmt: skip
    return account


def contacts_of(account: Account) -> list[Contact]:
    return list(Contact.all_orgs.filter(account=account))
