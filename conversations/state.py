"""Whose turn it is in a conversation, derived from its record alone.

- *awaiting us*: the customer's last human turn is unanswered (and is not just "thanks");
- *awaiting them*: our last turn asked or proposed something;
- *settled*: the last turn needs no reply (thanks, closing words, information, a call or
  meeting, which is a two-way exchange), or a member said no reply is needed;
- *quiet*: settled and nothing has happened for QUIET_AFTER.

Automated mail (auto-replies, lists, bounces) and internal notes are nobody's turn. An
out-of-office reply pauses the waiting-on-them clock: it starts again from that reply.
Deadlines are stored in business time so the follow-up scan is a plain comparison.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.utils import timezone

from conversations.detection import TurnIntent, turn_intent
from conversations.models import Conversation, Message
from organisations.calendar import BusinessCalendar
from organisations.models import Organisation

QUIET_AFTER = datetime.timedelta(days=30)
# Waiting on them: at least this many business days, or twice their usual reply time.
NUDGE_AFTER_DAYS = 3.0
# Enough of the tail of a conversation to see the last turn of each side.
_TAIL = 30


@dataclass(frozen=True)
class Turn:
    direction: str
    kind: str
    occurred_at: datetime.datetime
    text: str

    @property
    def two_way(self) -> bool:
        return self.kind in {Message.Kind.CALL, Message.Kind.MEETING}


@dataclass(frozen=True)
class Derived:
    state: str
    since: datetime.datetime | None = None
    reply_due_at: datetime.datetime | None = None
    nudge_due_at: datetime.datetime | None = None


def derive_state(
    tail: list[Turn],
    *,
    calendar: BusinessCalendar,
    reply_target_days: float,
    usual_reply_days: float | None,
    out_of_office_at: datetime.datetime | None,
    no_reply_needed_at: datetime.datetime | None,
    last_activity_at: datetime.datetime,
    now: datetime.datetime,
) -> Derived:
    """The state from the newest human turns first. Pure: every input is an argument."""
    settled = Derived(
        Conversation.State.QUIET
        if now - last_activity_at > QUIET_AFTER
        else Conversation.State.SETTLED,
        since=tail[0].occurred_at if tail else None,
    )
    if not tail or tail[0].two_way:
        return settled
    last = tail[0]
    run = []
    for turn in tail:
        if turn.direction != last.direction or turn.two_way:
            break
        run.append(turn)
    if last.direction == Message.Direction.INBOUND:
        if no_reply_needed_at is not None:  # what the member answered is not waiting any more
            run = [turn for turn in run if turn.occurred_at > no_reply_needed_at]
        # "Could you send the quote?" then "Thanks!" still waits for the quote: settled only
        # when every unanswered message is thanks or closing words. The oldest one that needs
        # us is what we owe an answer to: read from the oldest, and stop there.
        oldest_waiting = next(
            (turn for turn in reversed(run) if turn_intent(turn.text) != TurnIntent.SETTLES),
            None,
        )
        if oldest_waiting is None:
            return settled
        since = oldest_waiting.occurred_at
        return Derived(
            Conversation.State.AWAITING_US,
            since=since,
            reply_due_at=calendar.add(since, reply_target_days),
        )
    if no_reply_needed_at is not None and no_reply_needed_at >= last.occurred_at:
        return settled
    if not any(turn_intent(turn.text) == TurnIntent.ASKS for turn in run):
        return settled
    since = last.occurred_at  # a nudge of ours starts the wait again
    clock_from = max(since, out_of_office_at) if out_of_office_at else since
    # Three business days, or twice their usual reply time (measured in calendar days).
    nudge = calendar.add(clock_from, NUDGE_AFTER_DAYS)
    if usual_reply_days:
        nudge = max(nudge, clock_from + datetime.timedelta(days=2 * usual_reply_days))
    return Derived(Conversation.State.AWAITING_THEM, since=since, nudge_due_at=nudge)


def _settled_or_quiet(
    org: Organisation, conversation_ids: list[int]
) -> list[tuple[int, int, str, Derived]]:
    """Settled or quiet by last activity (as `derive_state` says), for conversations whose
    turns did not change: a settled conversation stays settled with the same turn; one waiting
    on either side still waits. The rest of the state is left as it was.

    Returns the conversations that changed: (id, account id, old state, new state)."""
    if not conversation_ids:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE conversations_conversation AS c
               SET state = CASE WHEN c.last_activity_at < %(quiet_before)s
                                THEN %(quiet)s ELSE %(settled)s END
              FROM unnest(%(orgs)s::bigint[], %(ids)s::bigint[]) AS v(org, id)
             WHERE c.organisation_id = v.org AND c.id = v.id
               AND c.state IN (%(quiet)s, %(settled)s)
               AND c.state <> CASE WHEN c.last_activity_at < %(quiet_before)s
                                   THEN %(quiet)s ELSE %(settled)s END
            RETURNING c.id, c.account_id, c.state, c.state_since
            """,
            {
                "quiet_before": timezone.now() - QUIET_AFTER,
                "quiet": Conversation.State.QUIET,
                "settled": Conversation.State.SETTLED,
                "orgs": [org.pk] * len(conversation_ids),
                "ids": conversation_ids,
            },
        )
        flipped = {Conversation.State.QUIET: Conversation.State.SETTLED}
        flipped |= {new: old for old, new in flipped.items()}
        return [
            (pk, account_id, flipped[state], Derived(state, since=since))
            for pk, account_id, state, since in cursor.fetchall()
        ]


def is_turn(message: Message) -> bool:
    """Whether a message is something `derive_state` reads: a person's turn (the tail), or an
    out-of-office reply (it restarts the waiting-on-them clock)."""
    return message.is_out_of_office or (
        not message.automated_reason
        and message.direction != Message.Direction.INTERNAL
        and message.kind != Message.Kind.NOTE
    )


def conversation_states_refresh(
    *,
    org: Organisation,
    conversation_ids: Iterable[int],
    added: Iterable[Message] | None = None,
) -> int:
    """Derive and store the state of these conversations: three reads and one write.

    `added`, when given, are the messages just recorded in them. A conversation that received
    no turn among them (only automated mail or notes) reads the same tail as before, so its
    state only moves between settled and quiet with its last activity: that is one statement
    for all of them, without reading their messages.

    Returns how many conversations changed state.
    """
    ids = sorted(set(conversation_ids))
    if not ids:
        return 0
    if added is not None:
        turned = {message.conversation_id for message in added if is_turn(message)}
        untouched = [pk for pk in ids if pk not in turned]
        ids = [pk for pk in ids if pk in turned]
        flipped = _settled_or_quiet(org, untouched)
        _states_changed(org, flipped)
        return len(flipped) + (
            conversation_states_refresh(org=org, conversation_ids=ids) if ids else 0
        )
    calendar = BusinessCalendar.for_org(org)
    tails: dict[int, list[Turn]] = {}
    out_of_office: dict[int, datetime.datetime] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT conversation_id, direction, kind, occurred_at, body_text FROM (
                SELECT m.conversation_id, m.direction, m.kind, m.occurred_at, m.body_text,
                       row_number() OVER (PARTITION BY m.conversation_id
                                          ORDER BY m.occurred_at DESC, m.id DESC) AS n
                  FROM conversations_message m
                 WHERE m.organisation_id = %s AND m.conversation_id = ANY(%s)
                   AND m.automated_reason = '' AND m.direction <> 'internal'
                   AND m.kind <> 'note'
            ) AS tail
            WHERE n <= %s ORDER BY conversation_id, n
            """,
            [org.pk, ids, _TAIL],
        )
        for conversation_id, direction, kind, occurred_at, text in cursor.fetchall():
            tails.setdefault(conversation_id, []).append(Turn(direction, kind, occurred_at, text))
        cursor.execute(
            """
            SELECT conversation_id, max(occurred_at) FROM conversations_message
             WHERE organisation_id = %s AND conversation_id = ANY(%s) AND is_out_of_office
             GROUP BY conversation_id
            """,
            [org.pk, ids],
        )
        out_of_office = dict(cursor.fetchall())
    now = timezone.now()
    rows: list[Any] = []
    changed: list[tuple[int, int, str, Derived]] = []  # for conversation.state_changed
    current = Conversation.objects.for_org(org).filter(pk__in=ids)
    for pk, no_reply_needed_at, last_activity_at, usual_reply_days, account_id, old in (
        current.values_list(
            "pk", "no_reply_needed_at", "last_activity_at", "account__usual_reply_days",
            "account_id", "state",
        )
    ):  # fmt: skip
        derived = derive_state(
            tails.get(pk, []),
            calendar=calendar,
            reply_target_days=float(org.reply_target_days),
            usual_reply_days=usual_reply_days,
            out_of_office_at=out_of_office.get(pk),
            no_reply_needed_at=no_reply_needed_at,
            last_activity_at=last_activity_at,
            now=now,
        )
        rows += [
            org.pk,
            pk,
            derived.state,
            derived.since,
            derived.reply_due_at,
            derived.nudge_due_at,
        ]
        if derived.state != old:
            changed.append((pk, account_id, old, derived))
    if not rows:
        return 0
    _states_changed(org, changed)
    # The organisation is a column of the list, not a constant, so each conversation is found
    # by key (see record_activity_bulk: the planner cannot estimate row-level security).
    values = ", ".join(
        ["(%s::bigint, %s::bigint, %s, %s::timestamptz, %s::timestamptz, %s::timestamptz)"]
        * (len(rows) // 6)
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE conversations_conversation AS c
               SET state = v.state, state_since = v.since,
                   reply_due_at = v.reply_due_at, nudge_due_at = v.nudge_due_at
              FROM (VALUES {values}) AS v(org, id, state, since, reply_due_at, nudge_due_at)
             WHERE c.organisation_id = v.org AND c.id = v.id
               AND (c.state, c.state_since, c.reply_due_at, c.nudge_due_at)
                   IS DISTINCT FROM (v.state, v.since, v.reply_due_at, v.nudge_due_at)
            """,  # noqa: S608 - only placeholders are interpolated
            rows,
        )
        return cursor.rowcount


def _states_changed(org: Organisation, changed: list[tuple[int, int, str, Derived]]) -> None:
    from webhooks.events import emit_many, state_change_data  # webhooks build on conversations

    if changed:
        emit_many(
            org,
            "conversation.state_changed",
            (state_change_data(pk, account, old, new.state, new.since)
             for pk, account, old, new in changed),
        )  # fmt: skip
