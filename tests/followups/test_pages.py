"""My follow-ups, the team view and the conversation page, as members use them."""

import datetime

import pytest
import time_machine
from django.utils import timezone

from conversations.models import Commitment, Conversation
from followups.models import FollowUp
from organisations.models import Role
from tests import factories
from tests.conftest import CLIENT_QUERIES


def item(cast, reason, *, owner=None, subject="Renewal", due_days_ago=1):  # type: ignore[no-untyped-def]
    conversation = factories.ConversationFactory(
        organisation=cast.org, account=cast.account, owner=owner or cast.sales, subject=subject
    )
    due = timezone.now() - datetime.timedelta(days=due_days_ago)
    return factories.FollowUpFactory(
        organisation=cast.org, conversation=conversation, owner=owner or cast.sales,
        reason=reason, priority=list(FollowUp.Reason.values).index(reason) + 1,
        trigger_at=due - datetime.timedelta(days=1), due_at=due,
    )  # fmt: skip


def test_my_queue_lists_my_items_most_pressing_first(a, b):
    quiet = item(a, FollowUp.Reason.GONE_QUIET, subject="Quiet one")
    waiting = item(a, FollowUp.Reason.AWAITING_US, subject="They asked about SSO")
    promise = item(a, FollowUp.Reason.PROMISE_DUE, subject="Pricing promised")
    item(a, FollowUp.Reason.AWAITING_US, owner=a.admin, subject="Someone else's")
    page = a.client().get(f"/o/{a.org.slug}/followups/").content.decode()
    order = [page.index(f'id="followup-{f.pk}"') for f in (promise, waiting, a.followup, quiet)]
    assert order == sorted(order)
    assert "Someone else" not in page
    assert b.conversation.subject not in page


def test_the_navigation_counts_my_open_items(a):
    item(a, FollowUp.Reason.AWAITING_US)
    page = a.client().get(f"/o/{a.org.slug}/accounts/").content.decode()
    assert '<span class="count" id="followup-count">2</span>' in page


def test_the_queue_takes_the_same_few_queries_however_long(a, django_assert_max_num_queries):
    for n in range(25):
        item(a, FollowUp.Reason.AWAITING_US, subject=f"Thread {n}")
    client = a.client()
    # Session, user, membership, context; items, last turns, holidays, nav count, switcher.
    with django_assert_max_num_queries(11 + CLIENT_QUERIES):
        response = client.get(f"/o/{a.org.slug}/followups/")
    assert response.content.decode().count('class="followup ') == 26


def test_snoozing_hides_an_item_until_the_day_it_comes_back(a):
    followup = item(a, FollowUp.Reason.AWAITING_US, subject="Snooze me")
    tomorrow = timezone.localdate() + datetime.timedelta(days=2)
    response = a.client().post(
        f"/o/{a.org.slug}/followups/{followup.pk}/snooze/", {"until": tomorrow.isoformat()},
        HTTP_HX_REQUEST="true",
    )  # fmt: skip
    assert response.status_code == 200
    assert "Snooze me" not in response.content.decode()
    with time_machine.travel(timezone.now() + datetime.timedelta(days=3)):
        assert "Snooze me" in a.client().get(f"/o/{a.org.slug}/followups/").content.decode()


def test_snoozing_into_the_past_says_what_is_wrong_and_changes_nothing(a):
    response = a.client().post(
        f"/o/{a.org.slug}/followups/{a.followup.pk}/snooze/", {"until": "2001-01-01"},
        HTTP_HX_REQUEST="true",
    )  # fmt: skip
    assert response.status_code == 422
    assert "Choose a day after today" in response.content.decode()
    a.followup.refresh_from_db()
    assert a.followup.snoozed_until is None


def test_no_reply_needed_takes_it_off_the_queue_and_is_kept_as_a_label(a):
    response = a.client().post(f"/o/{a.org.slug}/followups/{a.followup.pk}/no_reply_needed/")
    assert response.status_code == 302
    a.followup.refresh_from_db()
    assert a.followup.resolution == "no_reply_needed" and a.followup.resolved_by == a.sales


def test_not_a_promise_is_only_an_answer_to_a_promise(a):
    response = a.client().post(f"/o/{a.org.slug}/followups/{a.followup.pk}/not_a_promise/")
    assert response.status_code == 422
    a.followup.refresh_from_db()
    assert a.followup.resolved_at is None


def test_done_on_a_due_promise_marks_the_promise_kept(a):
    followup = item(a, FollowUp.Reason.PROMISE_DUE)
    followup.commitment = factories.CommitmentFactory(
        organisation=a.org, conversation=followup.conversation
    )
    followup.save()
    a.client().post(f"/o/{a.org.slug}/followups/{followup.pk}/done/")
    followup.commitment.refresh_from_db()
    assert followup.commitment.state == Commitment.State.KEPT


def test_a_member_cannot_see_or_touch_a_colleagues_queue_but_a_manager_can(a):
    theirs = item(a, FollowUp.Reason.AWAITING_US, owner=a.admin, subject="Admin's thread")
    assert a.client().get(f"/o/{a.org.slug}/followups/?member={a.admin.pk}").status_code == 404
    assert a.client().post(f"/o/{a.org.slug}/followups/{theirs.pk}/done/").status_code == 404
    page = a.client(a.admin).get(f"/o/{a.org.slug}/followups/?member={a.sales.pk}")
    assert page.status_code == 200 and a.conversation.subject in page.content.decode()


def test_a_manager_hands_a_leaving_members_work_over_in_one_go(a):
    newcomer = factories.MemberFactory(organisation=a.org, role=Role.SALES).user
    response = a.client(a.admin).post(
        f"/o/{a.org.slug}/team/", {"from_user": a.sales.pk, "to_user": newcomer.pk}
    )
    assert response.status_code == 302
    a.account.refresh_from_db()
    a.followup.refresh_from_db()
    assert a.account.owner == newcomer and a.followup.owner == newcomer
    assert not Conversation.objects.for_org(a.org).filter(owner=a.sales).exists()


@pytest.mark.parametrize("path", ["team/", "followups/?member=1"])
def test_team_pages_are_for_managers_only(a, path):
    assert a.client().get(f"/o/{a.org.slug}/{path}").status_code == 404


def test_the_team_page_shows_counts_per_member(a):
    item(a, FollowUp.Reason.PROMISE_DUE)
    page = a.client(a.admin).get(f"/o/{a.org.slug}/team/").content.decode()
    assert a.sales.display_name in page and "Open queue (2)" in page


def test_the_conversation_owner_can_reassign_it_and_its_items_follow(a):
    Conversation.objects.for_org(a.org).filter(pk=a.conversation.pk).update(owner=a.sales)
    response = a.client().post(
        f"/o/{a.org.slug}/conversations/{a.conversation.pk}/owner/", {"owner": a.admin.pk}
    )
    assert response.status_code == 302
    a.followup.refresh_from_db()
    assert a.followup.owner == a.admin


def test_a_member_cannot_reassign_a_colleagues_conversation(a):
    Conversation.objects.for_org(a.org).filter(pk=a.conversation.pk).update(owner=a.admin)
    response = a.client().post(
        f"/o/{a.org.slug}/conversations/{a.conversation.pk}/owner/", {"owner": a.sales.pk}
    )
    assert response.status_code == 404


def test_reassigning_to_someone_outside_the_organisation_is_refused(a, b):
    response = a.client(a.admin).post(
        f"/o/{a.org.slug}/conversations/{a.conversation.pk}/owner/", {"owner": b.sales.pk}
    )
    assert response.status_code == 422
    a.conversation.refresh_from_db()
    assert a.conversation.owner != b.sales


def test_a_promise_added_on_the_conversation_page_appears_in_its_promises(a):
    response = a.client().post(
        f"/o/{a.org.slug}/conversations/{a.conversation.pk}/commitments/",
        {"owed_by": "us", "text": "Send the SSO guide", "due_on": "2030-01-04"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert "Send the SSO guide" in response.content.decode()
    promise = Commitment.objects.for_org(a.org).get(text="Send the SSO guide")
    assert promise.due_at is not None and promise.remind_at < promise.due_at


def test_a_promise_without_words_is_refused_in_place(a):
    response = a.client().post(
        f"/o/{a.org.slug}/conversations/{a.conversation.pk}/commitments/",
        {"owed_by": "us", "text": ""}, HTTP_HX_REQUEST="true",
    )  # fmt: skip
    assert response.status_code == 422
    assert "This field is required" in response.content.decode()


def test_a_promise_is_marked_kept_by_the_message_that_keeps_it(a):
    reply = factories.MessageFactory(
        organisation=a.org, conversation=a.conversation, account=a.account, direction="outbound"
    )
    a.client().post(f"/o/{a.org.slug}/commitments/{a.commitment.pk}/kept/", {"message": reply.pk})
    a.commitment.refresh_from_db()
    assert a.commitment.kept_by_message == reply and a.commitment.kept_at == reply.occurred_at


def test_a_suggested_promise_is_confirmed_or_rejected_in_one_click(a):
    suggestion = factories.CommitmentFactory(
        organisation=a.org, conversation=a.conversation, state=Commitment.State.SUGGESTED
    )
    page = a.client().get(f"/o/{a.org.slug}/conversations/{a.conversation.pk}/").content.decode()
    assert "suggested" in page
    a.client().post(f"/o/{a.org.slug}/commitments/{suggestion.pk}/not_a_promise/")
    suggestion.refresh_from_db()
    assert suggestion.state == Commitment.State.NOT_A_PROMISE


def test_the_conversation_page_shows_whose_turn_it_is_and_its_follow_ups(a):
    Conversation.objects.for_org(a.org).filter(pk=a.conversation.pk).update(
        state="awaiting_us", state_since=timezone.now(), reply_due_at=timezone.now()
    )
    page = a.client().get(f"/o/{a.org.slug}/conversations/{a.conversation.pk}/").content.decode()
    assert "Awaiting us" in page and "Customer waiting on us" in page


def test_the_account_page_shows_who_is_waiting_on_whom(a):
    Conversation.objects.for_org(a.org).filter(pk=a.conversation.pk).update(
        state="awaiting_us", state_since=timezone.now()
    )
    page = a.client().get(f"/o/{a.org.slug}/accounts/{a.account.pk}/").content.decode()
    waiting = page[page.index('id="waiting"') :]
    assert "Awaiting us" in waiting and a.conversation.subject in waiting
    assert "customer waiting on us" in waiting


def test_members_land_on_what_needs_them(a):
    page = a.client().get(f"/o/{a.org.slug}/").content.decode()
    assert "What needs you" in page and f'id="followup-{a.followup.pk}"' in page


def test_merging_keeps_members_answers_and_snoozes(a):
    from conversations.services import conversation_merge

    other = factories.ConversationFactory(organisation=a.org, account=a.account, owner=a.sales)
    snoozed = factories.FollowUpFactory(
        organisation=a.org, conversation=other, owner=a.sales,
        reason=FollowUp.Reason.AWAITING_THEM, priority=4,
        snoozed_until=timezone.now() + datetime.timedelta(days=3),
    )  # fmt: skip
    factories.MessageFactory(organisation=a.org, conversation=other, account=a.account)
    conversation_merge(org=a.org, into=a.conversation, other=other, by=a.sales)  # type: ignore[arg-type]
    snoozed.refresh_from_db()
    assert snoozed.conversation_id == a.conversation.pk and snoozed.snoozed_until is not None
