"""The cast every test module starts from: two organisations, each with members and a record.

Tests run against real PostgreSQL and Redis: the ones in DATABASE_URL / REDIS_URL, or the
embedded ones under var/test. The database connection is the app role, so row-level security
is live in every test; test code itself sees all organisations (so it can check what changed),
while each request runs in its own organisation's context like in production.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from api.services import api_token_create
from mail.models import DraftAttachment, EmailDraft
from organisations.models import Holiday, Membership, Role
from organisations.tenancy import all_orgs_context, no_org_context
from tests import factories


def pytest_configure(config: pytest.Config) -> None:
    from threadline import embedded

    embedded.ensure_started()


@pytest.fixture(autouse=True)
def _test_code_sees_all_orgs(request: pytest.FixtureRequest) -> Iterator[None]:
    names = request.fixturenames
    if "live_server" in names:
        request.getfixturevalue("live_server")  # starting it reconnects; set the context after
        request.getfixturevalue("transactional_db")
    elif "transactional_db" in names:
        request.getfixturevalue("transactional_db")
    elif "db" in names or request.node.get_closest_marker("django_db"):
        request.getfixturevalue("db")
    else:
        yield
        return
    with all_orgs_context():
        yield


# The test client resets the database context around each request: that costs 3 queries.
CLIENT_QUERIES = 3


class TenantClient(Client):
    """A test client whose requests start with no database context, as in production.

    Test code sees every organisation (to check what changed); requests must not inherit that.
    """

    def request(self, **request: Any) -> Any:
        with no_org_context():
            return super().request(**request)


@pytest.fixture
def client() -> TenantClient:
    return TenantClient()


class Cast:
    """One organisation's people and record, built the same way for A and B."""

    def __init__(self, slug: str) -> None:
        self.org = factories.OrganisationFactory(slug=slug, name=f"Org {slug.upper()}")
        self.admin = factories.MemberFactory(organisation=self.org, role=Role.ADMIN).user
        self.sales = factories.MemberFactory(organisation=self.org, role=Role.SALES).user
        self.account = factories.AccountFactory(
            organisation=self.org, owner=self.sales, name=f"{slug.upper()} Customer Ltd"
        )
        self.domain = factories.AccountDomainFactory(
            organisation=self.org, account=self.account, domain=f"{slug}-customer.example"
        )
        self.contact = factories.ContactFactory(
            organisation=self.org, account=self.account, full_name=f"{slug.upper()} Person"
        )
        factories.ContactAddressFactory(
            organisation=self.org, contact=self.contact, value=f"person@{slug}-customer.example"
        )
        self.conversation = factories.ConversationFactory(
            organisation=self.org, account=self.account, subject=f"{slug.upper()} renewal talk"
        )
        self.message = factories.MessageFactory(
            organisation=self.org,
            conversation=self.conversation,
            account=self.account,
            body_text=f"{slug.upper()} secret pricing discussion",
            occurred_at=timezone.now() - timedelta(days=2),
        )
        self.commitment = factories.CommitmentFactory(
            organisation=self.org, conversation=self.conversation, text=f"{slug.upper()} promise"
        )
        self.holiday = Holiday.objects.for_org(self.org.pk).create(
            date=datetime.date(2026, 12, 25), name=f"{slug.upper()} Christmas"
        )
        self.followup = factories.FollowUpFactory(
            organisation=self.org, conversation=self.conversation, owner=self.sales
        )
        self.mailbox = factories.MailboxFactory(organisation=self.org, owner=self.sales)
        self.quarantined = factories.QuarantinedEmailFactory(
            organisation=self.org, mailbox=self.mailbox, reason=f"{slug.upper()} broken mail"
        )
        self.unsorted = factories.UnsortedEmailFactory(
            organisation=self.org, subject=f"{slug.upper()} mystery email"
        )
        self.attachment = factories.AttachmentFactory(
            organisation=self.org, message=self.message, filename=f"{slug}-quote.pdf"
        )
        # A file kept with the admin's draft (not the sales member's: their composer starts empty).
        draft = EmailDraft.objects.for_org(self.org).create(
            conversation=self.conversation, author=self.admin, subject=f"{slug} draft"
        )
        self.draft_file = DraftAttachment.objects.for_org(self.org).create(
            draft=draft, filename=f"{slug}-plan.pdf", content_type="application/pdf",
            size=9, content=b"%PDF-1.4\n",
        )  # fmt: skip
        # The sales member's personal API token (the secret is only known here, as in life).
        self.token, self.token_secret = api_token_create(
            membership=Membership.objects.get(organisation=self.org, user=self.sales),
            name=f"{slug} script",
        )
        # Disabled, so the record the tests build emits no webhook deliveries.
        self.webhook = factories.WebhookFactory(
            organisation=self.org, url=f"https://{slug}-hooks.example/in", is_active=False
        )
        self.delivery = factories.WebhookDeliveryFactory(
            organisation=self.org, webhook=self.webhook, last_error=f"{slug.upper()} hook down"
        )

    def client(self, user: object | None = None) -> Client:
        client = TenantClient()
        client.force_login(user or self.sales)  # type: ignore[arg-type]
        return client


@pytest.fixture
def a(db: None) -> Cast:
    return Cast("alpha")


@pytest.fixture
def b(db: None) -> Cast:
    return Cast("bravo")


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings: None) -> None:
    # Creating (and later dropping) the test database is the owner's job, not the app role's.
    from organisations import database

    database._as_owner = True


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None) -> Iterator[None]:
    from django.db import connections

    from organisations import database

    database._as_owner = False
    connections.close_all()  # tests reconnect as the app role
    yield
    connections.close_all()
    database._as_owner = True


class SmtpInbox:
    """What a real SMTP server on 127.0.0.1 received (aiosmtpd), as parsed emails."""

    def __init__(self) -> None:
        self.received: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        import email
        from email import policy

        message = email.message_from_bytes(envelope.content, policy=policy.default)
        self.received.append((envelope.rcpt_tos, message))
        return "250 OK"


@pytest.fixture
def smtp_server(settings: Any) -> Iterator[SmtpInbox]:
    """A real SMTP server on a free port, and Django's mailer pointed at it."""
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = SmtpInbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 10},
        }
    }
    try:
        yield inbox
    finally:
        controller.stop()
