"""What members do with follow-ups, and handing work over between members."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from accounts.models import Account
from conversations.models import Commitment, Conversation
from conversations.services import RecordError, commitment_set_state
from conversations.state import conversation_states_refresh
from followups.models import FollowUp
from organisations.models import Membership, Organisation, User


def followup_snooze(
    *, org: Organisation, followup: FollowUp, until: datetime.datetime, by: User
) -> FollowUp:
    """Hide an item from the queue until a moment; it comes back by itself then."""
    if until <= timezone.now():
        raise RecordError("Snooze until a moment in the future.")
    FollowUp.objects.for_org(org).filter(pk=followup.pk).update(snoozed_until=until)
    followup.snoozed_until = until
    return followup


@transaction.atomic
def followup_resolve(
    *, org: Organisation, followup: FollowUp, resolution: str, by: User
) -> FollowUp:
    """A member's answer to an item. It changes the record too, so the scan agrees with it:

    - "no reply needed" and "done" on a waiting item settle the conversation;
    - "done" on a promise marks it kept, "not a promise" keeps that label on the commitment.
    The same cause never reopens the item; a new customer turn or promise does.
    """
    allowed = {FollowUp.Resolution.DONE, FollowUp.Resolution.NO_REPLY_NEEDED}
    if followup.reason == FollowUp.Reason.PROMISE_DUE:
        allowed = {FollowUp.Resolution.DONE, FollowUp.Resolution.NOT_A_PROMISE}
    if resolution not in allowed:
        raise RecordError(f"“{resolution}” is not an answer to this follow-up.")
    if followup.resolved_at is not None:
        return followup
    now = timezone.now()
    # The member's answer first: changing the record below settles items "by the record".
    answered = (
        FollowUp.objects.for_org(org)
        .filter(pk=followup.pk, resolved_at=None)
        .update(resolved_at=now, resolution=resolution, resolved_by=by)
    )
    if answered:
        from webhooks.events import emit_followups  # webhooks build on follow-ups

        emit_followups(org, "followup.resolved", [followup.pk])
    if followup.reason in {FollowUp.Reason.AWAITING_US, FollowUp.Reason.AWAITING_THEM}:
        Conversation.objects.for_org(org).filter(pk=followup.conversation_id).update(
            no_reply_needed_at=now
        )
        conversation_states_refresh(org=org, conversation_ids=[followup.conversation_id])
    elif followup.reason == FollowUp.Reason.PROMISE_DUE and followup.commitment_id:
        commitment = Commitment.objects.for_org(org).get(pk=followup.commitment_id)
        if commitment.state == Commitment.State.OPEN:
            commitment_set_state(
                org=org,
                commitment=commitment,
                state=(
                    Commitment.State.KEPT
                    if resolution == FollowUp.Resolution.DONE
                    else Commitment.State.NOT_A_PROMISE
                ),
            )
    followup.resolved_at, followup.resolution = now, resolution
    return followup


def _member(org: Organisation, user: User | None) -> User | None:
    if user is not None and not Membership.objects.filter(organisation=org, user=user).exists():
        raise RecordError(f"{user.display_name} is not a member of {org.name}.")
    return user


@transaction.atomic
def conversation_reassign(
    *, org: Organisation, conversation: Conversation, owner: User | None
) -> Conversation:
    """Give a conversation to another member; its open follow-ups go with it."""
    conversation.owner = _member(org, owner)
    conversation.save(update_fields=["owner"])
    FollowUp.objects.for_org(org).filter(conversation=conversation, resolved_at=None).exclude(
        reason=FollowUp.Reason.GONE_QUIET  # the relationship owner's, not the thread's
    ).update(owner=owner)
    return conversation


@transaction.atomic
def member_handover(*, org: Organisation, from_user: User, to_user: User) -> dict[str, int]:
    """Everything a (leaving) member owns here goes to another: accounts, conversations and
    open follow-ups. Returns how many of each moved."""
    _member(org, to_user)
    if from_user.pk == to_user.pk:
        raise RecordError("Choose someone else to hand over to.")
    return {
        "accounts": Account.objects.for_org(org).filter(owner=from_user).update(owner=to_user),
        "conversations": Conversation.objects.for_org(org)
        .filter(owner=from_user)
        .update(owner=to_user),
        "followups": FollowUp.objects.for_org(org)
        .filter(owner=from_user, resolved_at=None)
        .update(owner=to_user),
    }
