"""Whose turn it is, kept current as turns are recorded."""

import time_machine

from conversations.models import Conversation, Message
from conversations.services import interaction_log, record_activity_bulk
from conversations.state import conversation_states_refresh
from followups.scan import followups_scan
from tests import factories
from tests.followups.conftest import at

AWAITING_US, AWAITING_THEM = Conversation.State.AWAITING_US, Conversation.State.AWAITING_THEM
SETTLED, QUIET = Conversation.State.SETTLED, Conversation.State.QUIET


@time_machine.travel(at(20, 17), tick=False)
def test_a_customer_question_is_awaiting_us_with_a_reply_due_in_business_time(thread):
    thread.they("Could you send the renewal quote for 40 seats?", at(20, 16))
    conversation = thread.fresh
    assert conversation.state == AWAITING_US
    assert conversation.state_since == at(20, 16)
    assert conversation.reply_due_at == at(23, 16)  # over the weekend, one working day


@time_machine.travel(at(20, 17), tick=False)
def test_the_wait_counts_from_the_oldest_unanswered_customer_message(thread):
    thread.they("Could you send the renewal quote?", at(19, 10))
    thread.they("Also, does it include the SSO add-on?", at(20, 11))
    assert thread.fresh.state_since == at(19, 10)


@time_machine.travel(at(20, 17), tick=False)
def test_thanks_from_the_customer_settles_the_conversation(thread):
    thread.we("Here is the quote you asked for.", at(20, 10))
    thread.they("Thanks!", at(20, 11))
    assert thread.fresh.state == SETTLED


@time_machine.travel(at(20, 17), tick=False)
def test_our_answer_settles_it_and_our_question_makes_it_their_turn(thread):
    thread.they("Could you send the renewal quote?", at(18, 10))
    thread.we("Here it is, attached.", at(18, 12))
    assert thread.fresh.state == SETTLED
    thread.we("Does Tuesday work for a call to go through it?", at(18, 13))
    conversation = thread.fresh
    assert conversation.state == AWAITING_THEM
    assert conversation.nudge_due_at == at(23, 13)  # three business days, over the weekend


@time_machine.travel(at(20, 17), tick=False)
def test_their_usual_reply_time_stretches_the_wait_on_them(thread):
    thread.cast.account.usual_reply_days = 4
    thread.cast.account.save()
    thread.we("Does Tuesday work for a call?", at(18, 13))
    assert thread.fresh.nudge_due_at == at(26, 13)  # twice their usual 4 days


@time_machine.travel(at(20, 17), tick=False)
def test_automated_mail_does_not_change_whose_turn_it_is(thread):
    thread.they("Could you send the renewal quote?", at(19, 10))
    thread.they("Newsletter: our November product update", at(19, 12), automated="List-Id")
    thread.we("Delivery receipt", at(19, 13), automated="Auto-Submitted")
    conversation = thread.fresh
    assert conversation.state == AWAITING_US
    assert conversation.state_since == at(19, 10)


@time_machine.travel(at(20, 17), tick=False)
def test_an_out_of_office_reply_pauses_the_wait_on_them(thread):
    thread.we("Could you confirm the seat count?", at(16, 10))
    assert thread.fresh.nudge_due_at == at(19, 10)
    thread.they(
        "I am out of the office until Thursday.", at(17, 12),
        automated="out of office", out_of_office=True,
    )  # fmt: skip
    conversation = thread.fresh
    assert conversation.state == AWAITING_THEM
    assert conversation.nudge_due_at == at(20, 12)  # three business days from the auto-reply


@time_machine.travel(at(20, 17), tick=False)
def test_a_logged_call_is_a_two_way_exchange_that_resets_the_clocks(thread):
    thread.they("Could you send the renewal quote?", at(19, 10))
    interaction_log(
        org=thread.cast.org, account=thread.cast.account, author=thread.cast.sales,
        kind=Message.Kind.CALL, body="Walked them through the quote on the phone.",
        occurred_at=at(20, 9), conversation=thread.conversation,
    )  # fmt: skip
    conversation = thread.fresh
    assert conversation.state == SETTLED
    assert conversation.reply_due_at is None


@time_machine.travel(at(20, 17), tick=False)
def test_an_internal_note_is_nobodys_turn(thread):
    thread.they("Could you send the renewal quote?", at(19, 10))
    interaction_log(
        org=thread.cast.org, account=thread.cast.account, author=thread.cast.sales,
        kind=Message.Kind.NOTE, body="Ask finance about the discount first.",
        occurred_at=at(20, 9), conversation=thread.conversation,
    )  # fmt: skip
    assert thread.fresh.state == AWAITING_US


def test_a_settled_conversation_with_nothing_for_a_month_is_quiet(thread):
    with time_machine.travel(at(2, 12), tick=False):
        thread.they("Thanks!", at(2, 11))
        assert thread.fresh.state == SETTLED
    with time_machine.travel(at(2, 12) + (at(30, 12) - at(2, 12)) * 2, tick=False):
        thread.we("Internal newsletter", at(2, 11, 5), automated="List-Id")
        assert thread.fresh.state == QUIET


@time_machine.travel(at(20, 17), tick=False)
def test_a_question_followed_by_thanks_still_waits_for_the_answer(thread):
    thread.they("Could you send the quote for 40 seats?", at(20, 10))
    thread.they("Thanks!", at(20, 10, 1))
    conversation = thread.fresh
    assert conversation.state == AWAITING_US and conversation.state_since == at(20, 10)


@time_machine.travel(at(20, 17), tick=False)
def test_a_long_run_of_customer_messages_waits_from_the_first(thread):
    for n in range(12):
        thread.they(f"Another thing we need, number {n}.", at(19, 9, n))
    assert thread.fresh.state_since == at(19, 9, 0)


def test_automated_mail_wakes_a_quiet_conversation_and_leaves_its_turn_alone(thread):
    with time_machine.travel(at(2, 12), tick=False):
        thread.they("Thanks!", at(2, 11))
    later = at(2, 12) + (at(30, 12) - at(2, 12)) * 2
    with time_machine.travel(later, tick=False):
        followups_scan(org=thread.cast.org)
        assert thread.fresh.state == QUIET
        thread.they("Newsletter: what is new", later, automated="List-Id")
        conversation = thread.fresh
        assert (conversation.state, conversation.state_since) == (SETTLED, at(2, 11))


@time_machine.travel(at(20, 17), tick=False)
def test_a_batch_stores_the_states_a_full_derivation_would(thread):
    """Conversations that received only automated mail or notes are not derived again: what
    is stored must be what deriving every one of them from its messages gives."""
    cast = thread.cast
    waiting_us, waiting_them, quiet, fresh = (
        factories.ConversationFactory(
            organisation=cast.org, account=cast.account, subject=subject,
            started_at=at(2, 9), last_activity_at=at(2, 9),
        )
        for subject in ("Quote", "Call", "Old", "New")
    )  # fmt: skip

    def message(conversation, text, when, **fields):  # type: ignore[no-untyped-def]
        fields = {"direction": Message.Direction.INBOUND, "kind": Message.Kind.EMAIL, **fields}
        return Message.objects.for_org(cast.org).create(
            conversation=conversation, account=cast.account, occurred_at=when, body_text=text,
            **fields,
        )  # fmt: skip

    record_activity_bulk(
        org=cast.org,
        messages=[
            message(waiting_us, "Could you send the quote?", at(19, 10)),
            message(waiting_them, "Does Tuesday work?", at(18, 10), direction="outbound"),
            message(quiet, "Thanks, all sorted.", at(2, 10)),
        ],
    )
    record_activity_bulk(
        org=cast.org,
        messages=[
            message(waiting_us, "Newsletter", at(20, 9), automated_reason="List-Id"),
            message(waiting_them, "Receipt", at(20, 9), automated_reason="Auto-Submitted"),
            message(waiting_them, "Away", at(19, 9), automated_reason="ooo", is_out_of_office=True),
            message(quiet, "Ask finance first.", at(20, 9), kind="note", direction="internal"),
            message(fresh, "Bounce", at(20, 9), automated_reason="bounce"),
        ],
    )
    ids = [c.pk for c in (waiting_us, waiting_them, quiet, fresh)]

    def states() -> dict[int, tuple[object, ...]]:
        return {
            c.pk: (c.state, c.state_since, c.reply_due_at, c.nudge_due_at)
            for c in Conversation.objects.for_org(cast.org).filter(pk__in=ids)
        }

    stored = states()
    assert stored[waiting_us.pk][:2] == (AWAITING_US, at(19, 10))
    assert stored[waiting_them.pk][0] == AWAITING_THEM
    assert stored[quiet.pk][0] == SETTLED  # the note is recent activity
    assert stored[fresh.pk][0] == SETTLED
    assert conversation_states_refresh(org=cast.org, conversation_ids=ids) == 0
    assert states() == stored
