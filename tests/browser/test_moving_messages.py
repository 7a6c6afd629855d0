"""Moving a message and merging conversations from the conversation page, in a real browser."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from conversations.models import Conversation, Message
from organisations.tenancy import all_orgs_context
from tests import factories
from tests.browser.conftest import log_in


@pytest.fixture
def misfiled(a):
    """A later message that belongs in another of the account's conversations (built before
    the browser starts: see the `page` fixture)."""
    later = factories.MessageFactory(
        organisation=a.org, conversation=a.conversation, account=a.account,
        occurred_at=timezone.now() - timedelta(days=1), body_text="About the invoice, actually",
    )  # fmt: skip
    other = factories.ConversationFactory(
        organisation=a.org, account=a.account, subject="Invoice query"
    )
    return later, other


def test_moving_a_message_then_merging_from_the_conversation_page(live_server, a, misfiled, page):  # noqa: F811
    later, other = misfiled
    log_in(page, live_server, a.sales)
    page.goto(f"{live_server.url}/o/{a.org.slug}/conversations/{a.conversation.pk}/")
    page.evaluate("window.samePage = true")

    message = page.locator(f"#message-{later.pk}")
    message.locator("a", has_text="Move to…").click()
    form = message.locator("form.move-form")
    form.locator("button", has_text="Move").click()
    form.locator(".error", has_text="Choose where the message belongs.").wait_for()
    assert page.evaluate("window.samePage") is True, "the form and its errors come in place"

    form.locator("select[name=to_conversation]").select_option(str(other.pk))
    form.locator("button", has_text="Move").click()
    page.locator(".flash", has_text="Invoice query").wait_for()
    assert page.locator("#conversation-messages", has_text="About the invoice").count() == 0

    page.locator("#merge a", has_text="Merge another conversation").click()
    merge = page.locator("form.merge-form")
    merge.locator("select[name=other]").select_option(str(other.pk))
    merge.locator("button", has_text="Merge").click()
    page.locator(".flash", has_text="Merged “Invoice query”").wait_for()
    page.locator("#conversation-messages", has_text="About the invoice").wait_for()
    with all_orgs_context():
        assert Message.all_orgs.get(pk=later.pk).conversation_id == a.conversation.pk
        assert not Conversation.all_orgs.filter(pk=other.pk).exists()
