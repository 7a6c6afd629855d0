"""Each account's own rhythm, which gone-quiet and waiting-on-them are measured against."""

import datetime

import time_machine

from accounts.services import account_rhythm_refresh
from conversations.models import Message
from tests.followups.conftest import at


@time_machine.travel(at(30, 12), tick=False)
def test_the_usual_gap_and_reply_time_are_medians_of_the_accounts_own_history(thread):
    start = at(2, 10)
    for week in range(4):
        asked = start + datetime.timedelta(days=7 * week)
        thread.we("Could you confirm the numbers?", asked)
        thread.they("Here they are.", asked + datetime.timedelta(days=2 if week != 3 else 3))
    thread.they("Unsubscribe", at(29, 9), automated="List-Id")  # noise never sets the rhythm
    # The cast's own message was made before the clock was set: put it on the 28th.
    Message.all_orgs.filter(pk=thread.cast.message.pk).update(occurred_at=at(28, 10))
    account_rhythm_refresh(org=thread.cast.org)
    thread.cast.account.refresh_from_db()
    # Touch days: 2,4, 9,11, 16,18, 23,26 and the cast's own message on the 28th
    # -> gaps 2,5,2,5,2,5,3,2 -> median 2.5
    assert thread.cast.account.usual_gap_days == 2.5
    assert thread.cast.account.usual_reply_days == 2


@time_machine.travel(at(30, 12), tick=False)
def test_refreshing_the_rhythm_twice_changes_nothing(thread):
    thread.we("Could you confirm the numbers?", at(2, 10))
    thread.they("Here they are.", at(4, 10))
    account_rhythm_refresh(org=thread.cast.org)
    assert account_rhythm_refresh(org=thread.cast.org) == 0
