"""Keeping messages findable: each message's search vector, in its organisation's language.

Subject weighs most (A), then what was actually said (B), attachment names (C) and the quoted
history least (D). A few messages (a member's call, note or email) are indexed in the
statement that records them; a mailbox sync's batches after they commit, by a task, so
`to_tsvector` over long mail is off the sync's critical path. A sweep indexes whatever a lost
task left behind. Rebuilt for a whole organisation when its language changes.
"""

from __future__ import annotations

import datetime
from collections.abc import Collection

from django.db import connection

from conversations.models import Message
from organisations.models import Organisation

# Up to this many messages are indexed at once, in the recording transaction: a member may
# look for what they just logged, and one message costs about a millisecond. Larger batches
# (a mailbox sync) are indexed once they commit, a moment later.
INDEX_NOW_MAX = 20
# Messages a sweep indexes in one statement.
SWEEP_CHUNK = 2000

# The attachment names come from a subquery per message, not a join: the self-join an
# UPDATE needs to join laterally was planned as a nested loop over every row of the
# organisation whenever the statistics did not know the organisation yet (any new one, on a
# server that has not analysed since), which made indexing quadratic in its size.
_VECTOR = """
UPDATE conversations_message AS m
   SET search_vector =
         setweight(to_tsvector(%(config)s::regconfig, m.subject), 'A')
      || setweight(to_tsvector(%(config)s::regconfig, m.body_text), 'B')
      || setweight(to_tsvector(%(config)s::regconfig, COALESCE((
            -- "pricing-2027.pdf" is found by "pricing" as well as by its whole name; in the
            -- organisation's language, as the query is, or "tariffs" would not find "tariffs"
            SELECT string_agg(a.filename || ' ' || regexp_replace(a.filename, '[._-]+', ' ', 'g'),
                              ' ')
              FROM mail_attachment a
             WHERE a.organisation_id = m.organisation_id AND a.message_id = m.id
         ), '')), 'C')
      || setweight(to_tsvector(%(config)s::regconfig, m.quoted_text), 'D')
 WHERE m.organisation_id = %(org)s {only}
"""


def messages_index(*, org: Organisation, message_ids: Collection[int] | None = None) -> int:
    """Write the search vector of these messages (or of all the organisation's)."""
    if message_ids is not None and not message_ids:
        return 0
    only = "" if message_ids is None else "AND m.id = ANY(%(ids)s)"
    with connection.cursor() as cursor:
        cursor.execute(
            _VECTOR.format(only=only),
            {"org": org.pk, "config": org.search_language, "ids": list(message_ids or [])},
        )
        return cursor.rowcount


def messages_index_soon(*, org: Organisation, message_ids: Collection[int]) -> None:
    """Index newly recorded messages: a few now, a batch by a task once it commits.

    The task is idempotent and takes ids; if it is never run (the broker was down when the
    batch committed), `messages_index_missing` finds the messages by their missing vector."""
    ids = sorted(message_ids)
    if len(ids) <= INDEX_NOW_MAX:
        messages_index(org=org, message_ids=ids)
        return
    from search.tasks import index_messages  # search builds on conversations

    index_messages.delay_on_commit(org.pk, ids)


def messages_index_missing(
    *, org: Organisation, recorded_before: datetime.datetime | None = None
) -> int:
    """Index the organisation's messages that have no search vector yet (those recorded before
    `recorded_before`: later ones still have their task coming). Found through the partial
    index of such messages, so it costs one index probe when there are none."""
    unindexed = Message.objects.for_org(org).filter(search_vector__isnull=True)
    if recorded_before is not None:
        unindexed = unindexed.filter(created_at__lt=recorded_before)
    indexed, after = 0, 0
    while ids := list(
        unindexed.filter(pk__gt=after).order_by("pk").values_list("pk", flat=True)[:SWEEP_CHUNK]
    ):
        indexed += messages_index(org=org, message_ids=ids)
        after = ids[-1]
    return indexed
