"""A believable demo organisation: people at several levels, a year of conversations.

Idempotent: run it as often as you like, the demo organisation is built once.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts.services import account_rhythm_refresh, account_save
from contacts.models import BuyingInfluence, Contact, Level
from contacts.services import contact_save, contacts_rhythm_refresh
from conversations.models import Message
from conversations.services import interaction_log, record_activity_bulk
from followups.scan import followups_scan
from organisations.models import Membership, Organisation, Role, User
from organisations.tenancy import org_context

DEMO_SLUG = "demo"
DEMO_EMAIL = "demo@threadline.test"
DEMO_PASSWORD = "threadline-demo"  # noqa: S105 - documented demo login, refused in production

MEMBERS = [
    (DEMO_EMAIL, "Dana Demo", Role.ADMIN),
    ("morgan@threadline.test", "Morgan Lee", Role.MANAGER),
    ("sam@threadline.test", "Sam Patel", Role.SALES),
]

# name, domain, people: (name, title, level, influence)
ACCOUNTS = [
    ("Northwind Logistics", "northwind.example", [
        ("Alice Romero", "COO", Level.EXECUTIVE, BuyingInfluence.DECISION_MAKER),
        ("Ben Okafor", "Head of Operations", Level.SENIOR, BuyingInfluence.CHAMPION),
        ("Chloe Tan", "Dispatch Lead", Level.STAFF, BuyingInfluence.USER),
    ]),
    ("Blue Harbor Foods", "blueharbor.example", [
        ("Daniel Weiss", "CFO", Level.EXECUTIVE, BuyingInfluence.DECISION_MAKER),
        ("Emma Novak", "Procurement Manager", Level.MANAGER, BuyingInfluence.INFLUENCER),
    ]),
    ("Kestrel Health", "kestrelhealth.example", [
        ("Farah Haddad", "VP Clinical Systems", Level.SENIOR, BuyingInfluence.DECISION_MAKER),
        ("George Lindqvist", "IT Security Lead", Level.MANAGER, BuyingInfluence.BLOCKER),
        ("Hana Sato", "Nurse Manager", Level.STAFF, BuyingInfluence.USER),
    ]),
    ("Atlas Engineering", "atlas-eng.example", [
        ("Ivan Petrov", "Managing Director", Level.EXECUTIVE, BuyingInfluence.DECISION_MAKER),
        ("Julia Costa", "Project Engineer", Level.STAFF, BuyingInfluence.CHAMPION),
    ]),
    ("Maple & Finch Legal", "maplefinch.example", [
        ("Kofi Mensah", "Partner", Level.EXECUTIVE, BuyingInfluence.DECISION_MAKER),
        ("Laura Byrne", "Practice Manager", Level.MANAGER, BuyingInfluence.INFLUENCER),
    ]),
    ("Solstice Energy", "solstice.example", [
        ("Mateo Ruiz", "Director of Field Ops", Level.SENIOR, BuyingInfluence.DECISION_MAKER),
        ("Nina Kowalski", "Analyst", Level.STAFF, BuyingInfluence.USER),
    ]),
    ("Brightpath Schools", "brightpath.example", [
        ("Olivia Grant", "Head of Digital Learning", Level.SENIOR, BuyingInfluence.DECISION_MAKER),
        ("Peter Hall", "Teacher", Level.STAFF, BuyingInfluence.USER),
    ]),
    ("Quarry Street Bakery", "quarrystreet.example", [
        ("Rosa Almeida", "Owner", Level.EXECUTIVE, BuyingInfluence.DECISION_MAKER),
    ]),
]  # fmt: skip

TOPICS = [
    ("Quarterly review", "Went through usage and the support tickets from last quarter."),
    ("Pricing for the new sites", "They asked how pricing scales past 50 seats."),
    ("Onboarding the dispatch team", "Walked the team through setup; two questions on exports."),
    ("Renewal", "Talked about the renewal date and what they want changed."),
    ("Integration with their ERP", "Their IT lead wants SSO and an audit log before go-live."),
    ("Training session", "Ran a training session for new staff; good questions on reports."),
]


class Command(BaseCommand):
    help = "Create the demo organisation (once) with a year of believable history."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.THREADLINE_DEMO:
            raise CommandError("The demo seed only runs with DEBUG or THREADLINE_DEMO on.")
        if Organisation.objects.filter(slug=DEMO_SLUG).exists():
            self.stdout.write("Demo organisation already exists; nothing to do.")
            return
        with transaction.atomic():
            org = Organisation.objects.create(name="Demo Company", slug=DEMO_SLUG)
            users = []
            for email, name, role in MEMBERS:
                user = User.objects.filter(email=email).first() or User.objects.create_user(
                    email, DEMO_PASSWORD, full_name=name
                )
                Membership.objects.create(organisation=org, user=user, role=role)
                users.append(user)
            with org_context(org):
                self._build_history(org, users)
                account_rhythm_refresh(org=org)
                contacts_rhythm_refresh(org=org)
                followups_scan(org=org)  # so the first visit already shows what needs doing
        self.stdout.write(self.style.SUCCESS(f"Demo organisation created: log in as {DEMO_EMAIL}"))

    def _build_history(self, org: Organisation, users: list[User]) -> None:
        rng = random.Random(2026)  # noqa: S311 - demo data, not security
        now = timezone.now().replace(minute=0, second=0, microsecond=0)
        for index, (name, domain, people) in enumerate(ACCOUNTS):
            owner = users[index % len(users)]
            account = account_save(
                org=org,
                domains=[domain],
                name=name,
                website=f"https://www.{domain}",
                owner=owner,
                description=f"{name}: customer since {now.year - 1 - index % 3}.",
            )
            contacts: list[Contact] = []
            for person, title, level, influence in people:
                first = person.split()[0].lower()
                contacts.append(
                    contact_save(
                        org=org,
                        emails=[f"{first}@{domain}"],
                        phone=f"+44 20 7946 0{rng.randint(100, 999)}",
                        account=account,
                        full_name=person,
                        title=title,
                        level=level,
                        buying_influence=influence,
                    )
                )
            # Quarry Street has gone quiet: nothing for seven months.
            last_day = 210 if name == "Quarry Street Bakery" else 3
            day = 360
            while day > last_day:
                subject, summary = rng.choice(TOPICS)
                kind = rng.choice([Message.Kind.CALL, Message.Kind.MEETING, Message.Kind.NOTE])
                interaction_log(
                    org=org,
                    account=account,
                    author=owner,
                    kind=kind,
                    subject=f"{subject} – {name}",
                    body=summary,
                    occurred_at=now - timedelta(days=day, hours=rng.randint(0, 8)),
                    initiated_by=rng.choice(["outbound", "inbound"]),
                    contacts=rng.sample(contacts, k=min(len(contacts), rng.randint(1, 2))),
                )
                day -= rng.randint(18, 45)
        self._waiting_and_overdue(org, users, now)

    def _waiting_and_overdue(self, org: Organisation, users: list[User], now: Any) -> None:
        from accounts.models import Account
        from conversations.models import Conversation, Participant

        # Northwind asked a question four days ago and nobody has answered: they wait on us.
        northwind = Account.objects.for_org(org).get(name="Northwind Logistics")
        ben = Contact.objects.for_org(org).get(full_name="Ben Okafor")
        at = now - timedelta(days=4)  # past one business day, whatever today is
        conversation = Conversation.objects.for_org(org).create(
            account=northwind, subject="Can we add the Leeds depot?", owner=northwind.owner,
            started_at=at, last_activity_at=at,
        )  # fmt: skip
        message = Message.objects.for_org(org).create(
            conversation=conversation, account=northwind, kind=Message.Kind.EMAIL,
            direction=Message.Direction.INBOUND, sender_contact=ben, occurred_at=at,
            subject=conversation.subject, message_id="<leeds-depot@northwind.example>",
            body_text="Hi, could we add the Leeds depot to our plan next month? "
            "What would that do to the price? Thanks, Ben",
        )  # fmt: skip
        Participant.objects.for_org(org).create(
            message=message, contact=ben, address="ben@northwind.example", role="from"
        )
        record_activity_bulk(org=org, messages=[message])  # as ingestion does: clocks, turn

        # We promised Blue Harbor revised pricing by last Friday and have not sent it.
        blue = Account.objects.for_org(org).get(name="Blue Harbor Foods")
        daniel = Contact.objects.for_org(org).get(full_name="Daniel Weiss")
        interaction_log(
            org=org, account=blue, author=blue.owner or users[0], kind=Message.Kind.CALL,
            subject="Revised pricing for 2027", occurred_at=now - timedelta(days=12),
            body="Daniel wants a three-year option before the board meets.",
            contacts=[daniel], we_owe="Send revised three-year pricing",
            we_owe_due=(now - timedelta(days=5)).date(),
            they_owe="Share the board meeting date", they_owe_due=(now + timedelta(days=7)).date(),
        )  # fmt: skip
