"""The follow-up scan opens what needs doing and resolves what no longer does, by itself."""

import datetime

import time_machine

from conversations.models import Commitment, Conversation
from conversations.services import commitment_add, commitment_set_state
from followups.models import FollowUp
from followups.scan import followups_scan
from followups.selectors import member_queue
from followups.services import followup_resolve, followup_snooze
from tests import factories
from tests.followups.conftest import at


def open_items(cast, reason=None):  # type: ignore[no-untyped-def]
    items = FollowUp.objects.for_org(cast.org).filter(resolved_at=None).exclude(pk=cast.followup.pk)
    return list(items.filter(reason=reason) if reason else items)


def scan(cast, when):  # type: ignore[no-untyped-def]
    with time_machine.travel(when, tick=False):
        return followups_scan(org=cast.org)


def test_a_customer_waiting_past_the_target_goes_to_the_conversation_owner(thread):
    cast = thread.cast
    with time_machine.travel(at(20, 16), tick=False):
        thread.they("Could you send the renewal quote?", at(20, 16))
    scan(cast, at(23, 15))  # Monday: under one business day, counting the weekend as none
    assert open_items(cast) == []
    scan(cast, at(23, 16, 30))
    [item] = open_items(cast)
    assert (item.reason, item.owner, item.conversation_id) == (
        FollowUp.Reason.AWAITING_US,
        cast.sales,
        thread.conversation.pk,
    )


def test_scanning_twice_changes_nothing(thread):
    cast = thread.cast
    with time_machine.travel(at(16, 10), tick=False):
        thread.they("Could you send the renewal quote?", at(16, 10))
    first = scan(cast, at(18, 10))
    second = scan(cast, at(18, 10))
    assert (first.opened, second.opened, second.resolved, second.refreshed) == (1, 0, 0, 0)
    assert len(open_items(cast)) == 1


def test_the_item_resolves_itself_when_we_reply(thread):
    cast = thread.cast
    with time_machine.travel(at(16, 10), tick=False):
        thread.they("Could you send the renewal quote?", at(16, 10))
    scan(cast, at(18, 10))
    with time_machine.travel(at(18, 11), tick=False):
        thread.we("Here it is, sorry for the wait.", at(18, 11))
    scan(cast, at(18, 12))
    assert open_items(cast) == []
    item = FollowUp.objects.for_org(cast.org).get(conversation=thread.conversation)
    assert item.resolution == FollowUp.Resolution.RECORD


def test_waiting_on_them_opens_after_three_business_days_and_closes_when_they_answer(thread):
    cast = thread.cast
    with time_machine.travel(at(19, 10), tick=False):
        thread.we("Could you confirm the seat count?", at(19, 10))
    scan(cast, at(24, 9))  # Thursday, Friday, Monday... not yet three working days
    assert open_items(cast) == []
    scan(cast, at(24, 10, 30))
    assert [i.reason for i in open_items(cast)] == [FollowUp.Reason.AWAITING_THEM]
    with time_machine.travel(at(24, 11), tick=False):
        thread.they("40 seats, and thanks for the nudge. Can we talk Friday?", at(24, 11))
    scan(cast, at(24, 12))
    assert open_items(cast, FollowUp.Reason.AWAITING_THEM) == []


def test_our_promise_is_in_the_queue_on_its_due_day_and_leaves_when_kept(thread):
    cast = thread.cast
    with time_machine.travel(at(16, 10), tick=False):
        promise = commitment_add(
            org=cast.org, conversation=thread.conversation, owed_by=Commitment.OwedBy.US,
            text="Send the revised pricing", due_on=datetime.date(2026, 11, 20),
        )  # fmt: skip
    scan(cast, at(19, 17))
    assert open_items(cast) == []
    scan(cast, at(20, 9, 30))
    [item] = open_items(cast)
    assert (item.reason, item.commitment_id) == (FollowUp.Reason.PROMISE_DUE, promise.pk)
    with time_machine.travel(at(20, 15), tick=False):
        commitment_set_state(org=cast.org, commitment=promise, state=Commitment.State.KEPT)
    scan(cast, at(20, 15, 1))
    assert open_items(cast) == []
    promise.refresh_from_db()
    assert not promise.kept_late


def test_their_promises_and_suggestions_never_fill_our_queue(thread):
    cast = thread.cast
    for owed_by, state in [(Commitment.OwedBy.THEM, "open"), (Commitment.OwedBy.US, "suggested")]:
        factories.CommitmentFactory(
            organisation=cast.org, conversation=thread.conversation, owed_by=owed_by,
            state=state, due_on=datetime.date(2026, 11, 17), due_at=at(17, 17), remind_at=at(17, 9),
        )  # fmt: skip
    scan(cast, at(20, 10))
    assert open_items(cast) == []


def test_an_account_gone_quiet_past_three_times_its_own_rhythm(thread):
    cast = thread.cast
    account = cast.account
    account.last_interaction_at, account.usual_gap_days = at(2, 10), 10.0
    account.save()
    scan(cast, at(30, 10))  # 28 days: past 14 but not past 3 x 10
    assert open_items(cast, FollowUp.Reason.GONE_QUIET) == []
    account.usual_gap_days = 2.0
    account.save()
    scan(cast, at(30, 10))
    [item] = open_items(cast, FollowUp.Reason.GONE_QUIET)
    assert item.account_id == account.pk and item.owner == account.owner


def test_no_reply_needed_is_kept_and_not_reopened_until_the_customer_writes_again(thread):
    cast = thread.cast
    with time_machine.travel(at(16, 10), tick=False):
        thread.they("FYI we moved offices, new address in the signature.", at(16, 10))
    scan(cast, at(18, 10))
    [item] = open_items(cast)
    with time_machine.travel(at(18, 10, 5), tick=False):
        followup_resolve(
            org=cast.org,
            followup=item,
            resolution=FollowUp.Resolution.NO_REPLY_NEEDED,
            by=cast.sales,
        )
    scan(cast, at(19, 10))
    assert open_items(cast) == []
    assert thread.fresh.state == "settled"
    item.refresh_from_db()
    assert item.resolution == FollowUp.Resolution.NO_REPLY_NEEDED
    with time_machine.travel(at(19, 11), tick=False):
        thread.they("Could you update our billing address too?", at(19, 11))
    scan(cast, at(23, 12))
    assert [i.reason for i in open_items(cast)] == [FollowUp.Reason.AWAITING_US]


def test_a_snoozed_item_leaves_the_queue_until_its_date(thread):
    cast = thread.cast
    with time_machine.travel(at(16, 10), tick=False):
        thread.they("Could you send the renewal quote?", at(16, 10))
    scan(cast, at(18, 10))
    [item] = open_items(cast)
    with time_machine.travel(at(18, 10), tick=False):
        followup_snooze(org=cast.org, followup=item, until=at(20, 9), by=cast.sales)
        assert item.pk not in [q.followup.pk for q in member_queue(org=cast.org, owner=cast.sales)]
    scan(cast, at(19, 10))  # still waiting, still snoozed: the same item stays open
    with time_machine.travel(at(20, 9, 1), tick=False):
        assert item.pk in [q.followup.pk for q in member_queue(org=cast.org, owner=cast.sales)]


def test_the_scan_of_one_organisation_never_touches_another(thread, b):
    cast = thread.cast
    with time_machine.travel(at(16, 10), tick=False):
        thread.they("Could you send the renewal quote?", at(16, 10))
    b_before = list(FollowUp.objects.for_org(b.org).values_list("pk", "resolved_at"))
    result = scan(cast, at(18, 10))
    assert result.opened == 1
    assert list(FollowUp.objects.for_org(b.org).values_list("pk", "resolved_at")) == b_before


def test_our_reply_settles_the_item_at_once_without_waiting_for_the_scan(thread):
    cast = thread.cast
    with time_machine.travel(at(16, 10), tick=False):
        thread.they("Could you send the renewal quote?", at(16, 10))
    scan(cast, at(18, 10))
    with time_machine.travel(at(18, 11), tick=False):
        thread.we("Here it is.", at(18, 11))
        assert open_items(cast) == []


def test_a_quiet_account_is_not_quiet_once_anyone_there_writes_again(thread):
    cast = thread.cast
    cast.account.last_interaction_at, cast.account.usual_gap_days = at(2, 10), 2.0
    cast.account.save()
    scan(cast, at(30, 10))
    [item] = open_items(cast, FollowUp.Reason.GONE_QUIET)
    other = factories.ConversationFactory(organisation=cast.org, account=cast.account)
    with time_machine.travel(at(30, 11), tick=False):
        thread.conversation = other  # any conversation of the account will do
        thread.they("Hello again, are you still doing the winter discount?", at(30, 11))
    item.refresh_from_db()
    assert item.resolution == FollowUp.Resolution.RECORD


def key_person(cast, influence, *, left=None):  # type: ignore[no-untyped-def]
    person = factories.ContactFactory(
        organisation=cast.org, account=cast.account, full_name="Dana Decides",
        buying_influence=influence, left_company_on=left,
    )  # fmt: skip
    return person


def test_a_key_person_gone_quiet_is_followed_up_on_their_latest_conversation(thread):
    cast = thread.cast
    dana = key_person(cast, "decision_maker")
    with time_machine.travel(at(2, 10), tick=False):
        message = thread.they("Sounds good, speak soon.", at(2, 10))
    message.participants.create(organisation=cast.org, contact=dana, role="from")
    with time_machine.travel(at(30, 9), tick=False):
        from contacts.services import contacts_rhythm_refresh

        contacts_rhythm_refresh(org=cast.org)
        # The account itself is not quiet: someone else there wrote yesterday.
        cast.account.last_interaction_at = at(29, 10)
        cast.account.save()
    scan(cast, at(30, 10))
    [item] = open_items(cast, FollowUp.Reason.GONE_QUIET)
    assert (item.contact, item.conversation_id) == (dana, thread.conversation.pk)


def test_people_who_left_or_have_no_buying_influence_are_not_chased(thread):
    cast = thread.cast
    for person in (key_person(cast, "user"), key_person(cast, "champion", left=at(20, 1).date())):
        person.last_exchange_at = at(2, 10)
        person.save()
    cast.account.last_interaction_at = at(29, 10)
    cast.account.save()
    scan(cast, at(30, 10))
    assert open_items(cast, FollowUp.Reason.GONE_QUIET) == []


def due_promise(thread):  # type: ignore[no-untyped-def]
    cast = thread.cast
    with time_machine.travel(at(16, 10), tick=False):
        promise = commitment_add(
            org=cast.org, conversation=thread.conversation, owed_by=Commitment.OwedBy.US,
            text="Send the revised pricing", due_on=datetime.date(2026, 11, 20),
        )  # fmt: skip
    scan(cast, at(20, 9, 30))
    [item] = open_items(cast)
    return promise, item


def test_not_a_promise_labels_both_and_closes_the_item(thread):
    promise, item = due_promise(thread)
    response = thread.cast.client().post(
        f"/o/{thread.cast.org.slug}/followups/{item.pk}/not_a_promise/"
    )
    assert response.status_code == 302
    item.refresh_from_db()
    promise.refresh_from_db()
    assert (item.resolution, item.resolved_by) == ("not_a_promise", thread.cast.sales)
    assert promise.state == Commitment.State.NOT_A_PROMISE


def test_kept_it_is_kept_as_the_members_answer_and_a_reopened_promise_comes_back(thread):
    cast = thread.cast
    promise, item = due_promise(thread)
    with time_machine.travel(at(20, 10), tick=False):
        followup_resolve(org=cast.org, followup=item, resolution="done", by=cast.sales)
    item.refresh_from_db()
    promise.refresh_from_db()
    assert (item.resolution, item.resolved_by, promise.state) == ("done", cast.sales, "kept")
    with time_machine.travel(at(20, 11), tick=False):
        commitment_set_state(org=cast.org, commitment=promise, state=Commitment.State.OPEN)
    scan(cast, at(20, 11, 5))
    assert [i.reason for i in open_items(cast)] == [FollowUp.Reason.PROMISE_DUE]


def test_an_item_nobody_owns_goes_to_the_first_admin(thread):
    cast = thread.cast
    Conversation.objects.for_org(cast.org).filter(pk=thread.conversation.pk).update(owner=None)
    cast.account.owner = None
    cast.account.save()
    with time_machine.travel(at(16, 10), tick=False):
        thread.they("Could you send the renewal quote?", at(16, 10))
    scan(cast, at(18, 10))
    [item] = open_items(cast)
    assert item.owner == cast.admin


def test_our_own_note_does_not_wake_a_quiet_account(thread):
    cast = thread.cast
    cast.account.last_interaction_at, cast.account.usual_gap_days = at(2, 10), 2.0
    cast.account.save()
    scan(cast, at(30, 10))
    [item] = open_items(cast, FollowUp.Reason.GONE_QUIET)
    with time_machine.travel(at(30, 11), tick=False):
        thread.say("internal", "They've gone quiet, chase next week.", at(30, 11), kind="note")
    scan(cast, at(30, 12))
    assert [i.pk for i in open_items(cast, FollowUp.Reason.GONE_QUIET)] == [item.pk]


def test_a_newsletter_does_not_move_the_quiet_item_to_its_thread(thread):
    cast = thread.cast
    cast.message.delete()  # the cast's own recent word with them
    with time_machine.travel(at(2, 10), tick=False):
        thread.they("Thanks, talk in the new year.", at(2, 10))
    cast.account.refresh_from_db()
    cast.account.usual_gap_days = 2.0
    cast.account.save()
    newsletter = factories.ConversationFactory(
        organisation=cast.org, account=cast.account, subject="Their monthly newsletter"
    )
    with time_machine.travel(at(25, 10), tick=False):
        thread.conversation = newsletter
        thread.they("November news", at(25, 10), automated="List-Id")
    scan(cast, at(30, 10))
    [item] = open_items(cast, FollowUp.Reason.GONE_QUIET)
    assert item.conversation.subject == "Renewal of the support plan"


def test_a_key_persons_item_stays_when_someone_else_there_writes(thread):
    cast = thread.cast
    dana = key_person(cast, "champion")
    with time_machine.travel(at(2, 10), tick=False):
        message = thread.they("Sounds good, speak soon.", at(2, 10))
    message.participants.create(organisation=cast.org, contact=dana, role="from")
    from contacts.services import contacts_rhythm_refresh

    with time_machine.travel(at(30, 9), tick=False):
        contacts_rhythm_refresh(org=cast.org)
    cast.account.last_interaction_at = at(29, 10)
    cast.account.save()
    scan(cast, at(30, 10))
    [item] = open_items(cast, FollowUp.Reason.GONE_QUIET)
    with time_machine.travel(at(30, 11), tick=False):
        thread.they("Hi, I'm Dana's colleague: a quick question about invoices?", at(30, 11))
    item.refresh_from_db()
    assert item.resolved_at is None and item.contact == dana


def test_a_key_person_silent_for_over_a_year_is_still_chased(thread):
    cast = thread.cast
    dana = key_person(cast, "decision_maker")
    message = thread.they("Sounds good.", at(2, 10) - datetime.timedelta(days=400))
    message.participants.create(organisation=cast.org, contact=dana, role="from")
    from contacts.services import contacts_rhythm_refresh

    with time_machine.travel(at(30, 9), tick=False):
        contacts_rhythm_refresh(org=cast.org)
    dana.refresh_from_db()
    assert dana.last_exchange_at == at(2, 10) - datetime.timedelta(days=400)


def test_two_scans_of_one_organisation_at_once_take_turns(thread):
    import threading

    from django.db import connections

    cast = thread.cast
    with time_machine.travel(at(16, 10), tick=False):
        thread.they("Could you send the renewal quote?", at(16, 10))
    errors = []

    def other_scan() -> None:
        try:
            from organisations.tenancy import org_context

            with org_context(cast.org):
                followups_scan(org=cast.org, now=at(18, 10))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connections.close_all()

    scan(cast, at(18, 10))
    worker = threading.Thread(target=other_scan)
    worker.start()
    worker.join(10)
    assert errors == [] and len(open_items(cast)) == 1
