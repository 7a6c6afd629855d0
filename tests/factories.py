from __future__ import annotations

import factory
from django.utils import timezone

from accounts.models import Account, AccountDomain
from contacts.models import Contact, ContactAddress
from conversations.models import Commitment, Conversation, Message
from followups.models import FollowUp
from mail.models import Attachment, Mailbox, QuarantinedEmail, RawEmail, UnsortedEmail
from mail.secrets import encrypt_secret
from organisations.models import Membership, Organisation, Role, User
from webhooks.models import Webhook, WebhookDelivery

PASSWORD = "correct-horse-battery"


class TenantFactory(factory.django.DjangoModelFactory):
    """Test data spans organisations on purpose: it goes through the named escape hatch."""

    class Meta:
        abstract = True

    @classmethod
    def _get_manager(cls, model_class):  # type: ignore[no-untyped-def]
        return model_class.all_orgs


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Organisation {n}")
    slug = factory.Sequence(lambda n: f"org-{n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"member{n}@threadline.test")
    full_name = factory.Faker("name")
    password = factory.django.Password(PASSWORD)


class MemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    organisation = factory.SubFactory(OrganisationFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.SALES


class AccountFactory(TenantFactory):
    class Meta:
        model = Account

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Customer {n}")


class AccountDomainFactory(TenantFactory):
    class Meta:
        model = AccountDomain

    organisation = factory.SelfAttribute("account.organisation")
    account = factory.SubFactory(AccountFactory)
    domain = factory.Sequence(lambda n: f"customer{n}.example")


class ContactFactory(TenantFactory):
    class Meta:
        model = Contact

    organisation = factory.SelfAttribute("account.organisation")
    account = factory.SubFactory(AccountFactory)
    full_name = factory.Faker("name")
    title = "Head of Operations"


class ContactAddressFactory(TenantFactory):
    class Meta:
        model = ContactAddress

    organisation = factory.SelfAttribute("contact.organisation")
    contact = factory.SubFactory(ContactFactory)
    kind = ContactAddress.Kind.EMAIL
    value = factory.Sequence(lambda n: f"person{n}@customer.example")


class ConversationFactory(TenantFactory):
    class Meta:
        model = Conversation

    organisation = factory.SelfAttribute("account.organisation")
    account = factory.SubFactory(AccountFactory)
    subject = factory.Sequence(lambda n: f"Conversation {n}")


class MessageFactory(TenantFactory):
    class Meta:
        model = Message

    organisation = factory.SelfAttribute("conversation.organisation")
    conversation = factory.SubFactory(ConversationFactory)
    account = factory.SelfAttribute("conversation.account")
    kind = Message.Kind.CALL
    direction = Message.Direction.OUTBOUND
    occurred_at = factory.LazyFunction(timezone.now)
    body_text = "We talked about next steps."


class CommitmentFactory(TenantFactory):
    class Meta:
        model = Commitment

    organisation = factory.SelfAttribute("conversation.organisation")
    conversation = factory.SubFactory(ConversationFactory)
    owed_by = Commitment.OwedBy.US
    text = "Send the revised pricing"


class FollowUpFactory(TenantFactory):
    class Meta:
        model = FollowUp

    organisation = factory.SelfAttribute("conversation.organisation")
    conversation = factory.SubFactory(ConversationFactory)
    account = factory.SelfAttribute("conversation.account")
    owner = factory.SelfAttribute("conversation.owner")
    reason = FollowUp.Reason.AWAITING_US
    priority = 2
    trigger_at = factory.LazyFunction(timezone.now)
    due_at = factory.LazyFunction(timezone.now)


class MailboxFactory(TenantFactory):
    class Meta:
        model = Mailbox

    owner = factory.SubFactory(UserFactory)
    email_address = factory.SelfAttribute("owner.email")
    host = "127.0.0.1"
    port = 1  # nothing listens there: no test reaches a real server by accident
    security = Mailbox.Security.NONE
    username = factory.SelfAttribute("owner.email")
    secret = factory.LazyFunction(lambda: encrypt_secret("imap-secret"))


class QuarantinedEmailFactory(TenantFactory):
    class Meta:
        model = QuarantinedEmail

    raw = b"not an email"
    reason = "the message has no sender and no recipients"
    source = "INBOX UID 1"


class RawEmailFactory(TenantFactory):
    class Meta:
        model = RawEmail

    raw = factory.Sequence(
        lambda n: (
            f"From: someone{n}@gmail.com\r\nTo: x@y.example\r\nSubject: Hi {n}\r\n"
            f"Message-ID: <unsorted-{n}@gmail.com>\r\n\r\nHello\r\n".encode()
        )
    )
    sha256 = factory.LazyAttribute(lambda o: __import__("hashlib").sha256(o.raw).hexdigest())


class UnsortedEmailFactory(TenantFactory):
    class Meta:
        model = UnsortedEmail

    raw_email = factory.SubFactory(
        RawEmailFactory, organisation=factory.SelfAttribute("..organisation")
    )
    message_id = factory.Sequence(lambda n: f"<unsorted-{n}@gmail.com>")
    subject = "Mystery"
    sender = "someone@gmail.com"
    occurred_at = factory.LazyFunction(timezone.now)


class AttachmentFactory(TenantFactory):
    class Meta:
        model = Attachment

    organisation = factory.SelfAttribute("message.organisation")
    message = factory.SubFactory(MessageFactory)
    position = factory.Sequence(lambda n: n)
    filename = "quote.pdf"
    content_type = "application/pdf"
    content = b"%PDF-1.4\n"
    size = factory.LazyAttribute(lambda o: len(o.content or b""))
    sha256 = factory.LazyAttribute(
        lambda o: __import__("hashlib").sha256(o.content or b"").hexdigest()
    )


class WebhookFactory(TenantFactory):
    class Meta:
        model = Webhook

    url = "https://hooks.example/in"
    events = factory.LazyFunction(lambda: ["message.created"])
    secret = factory.LazyFunction(lambda: encrypt_secret("whsec_test"))


class WebhookDeliveryFactory(TenantFactory):
    class Meta:
        model = WebhookDelivery

    organisation = factory.SelfAttribute("webhook.organisation")
    webhook = factory.SubFactory(WebhookFactory)
    event = "message.created"
    payload = factory.LazyFunction(lambda: {"type": "message.created", "data": {}})
    status = WebhookDelivery.Status.FAILED
    attempts = 8
    next_attempt_at = None
    last_status_code = 500
