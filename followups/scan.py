"""The follow-up scan: one set-based statement per organisation opens and resolves items.

Every reason is a plain indexed comparison against deadlines stored on the record in business
time (conversations/state.py, Commitment.set_deadlines), so the scan never loops over rows in
Python. Running it twice changes nothing the second time.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import psycopg
from django.db import connection, transaction
from django.utils import timezone

from conversations.state import QUIET_AFTER
from organisations.models import Organisation

# An account has gone quiet past 3x its own usual gap and at least this long.
GONE_QUIET_MIN = datetime.timedelta(days=14)
GONE_QUIET_FACTOR = 3

_WANTED = """
    (SELECT DISTINCT ON (cm.conversation_id)
            cm.conversation_id, c.account_id,
            -- the account owner only where the conversation has none: no join for every row
            COALESCE(c.owner_id, (SELECT a.owner_id FROM accounts_account a
                                   WHERE a.organisation_id = c.organisation_id
                                     AND a.id = c.account_id)) AS owner_id,
            'promise_due' AS reason, 1 AS priority, cm.remind_at AS trigger_at,
            cm.due_at AS due_at, cm.id AS commitment_id, NULL::bigint AS contact_id
       FROM conversations_commitment cm
       JOIN conversations_conversation c
         ON c.organisation_id = cm.organisation_id AND c.id = cm.conversation_id
      WHERE cm.organisation_id = %(org)s AND cm.state = 'open' AND cm.owed_by = 'us'
        AND cm.remind_at <= %(now)s
      ORDER BY cm.conversation_id, cm.due_at, cm.id)
    UNION ALL
    SELECT c.id, c.account_id,
           COALESCE(c.owner_id, (SELECT a.owner_id FROM accounts_account a
                                  WHERE a.organisation_id = c.organisation_id
                                    AND a.id = c.account_id)),
           'awaiting_us', 2,
           c.state_since, c.reply_due_at, NULL::bigint, NULL::bigint
      FROM conversations_conversation c
     WHERE c.organisation_id = %(org)s AND c.state = 'awaiting_us' AND c.reply_due_at <= %(now)s
    UNION ALL
    -- Gone quiet: the account, or a key person there, past 3x their own rhythm. One item per
    -- conversation: the account's own comes first when both point at the same thread.
    (SELECT DISTINCT ON (quiet.conversation_id) quiet.*
       FROM (
        SELECT c.id AS conversation_id, a.id AS account_id,
               COALESCE(a.owner_id, c.owner_id) AS owner_id, 'gone_quiet' AS reason,
               3 AS priority, a.last_interaction_at AS trigger_at,
               a.last_interaction_at + GREATEST(%(quiet_min)s, make_interval(
                   secs => %(quiet_factor)s * 86400 * COALESCE(a.usual_gap_days, 0))) AS due_at,
               NULL::bigint AS commitment_id, NULL::bigint AS contact_id
          FROM accounts_account a
          -- the conversation of the account's latest human turn (newsletters do not count),
          -- from the account timeline index
          CROSS JOIN LATERAL (
                SELECT lc.id, lc.owner_id
                  FROM conversations_message lm
                  JOIN conversations_conversation lc
                    ON lc.organisation_id = lm.organisation_id AND lc.id = lm.conversation_id
                 WHERE lm.organisation_id = a.organisation_id AND lm.account_id = a.id
                   AND lm.automated_reason = '' AND lm.direction <> 'internal'
                 ORDER BY lm.occurred_at DESC, lm.id DESC LIMIT 1) c
         WHERE a.organisation_id = %(org)s
           AND a.last_interaction_at + GREATEST(%(quiet_min)s, make_interval(
                   secs => %(quiet_factor)s * 86400 * COALESCE(a.usual_gap_days, 0)))
               <= %(now)s
        UNION ALL
        SELECT c.id, a.id, COALESCE(a.owner_id, c.owner_id), 'gone_quiet', 3,
               k.last_exchange_at,
               k.last_exchange_at + GREATEST(%(quiet_min)s, make_interval(
                   secs => %(quiet_factor)s * 86400 * COALESCE(k.usual_gap_days, 0))),
               NULL::bigint, k.id
          FROM contacts_contact k
          JOIN accounts_account a ON a.organisation_id = k.organisation_id AND a.id = k.account_id
          -- the latest conversation this person took part in
          CROSS JOIN LATERAL (
                SELECT lc.id, lc.owner_id
                  FROM conversations_participant p
                  JOIN conversations_message m
                    ON m.organisation_id = p.organisation_id AND m.id = p.message_id
                  JOIN conversations_conversation lc
                    ON lc.organisation_id = m.organisation_id AND lc.id = m.conversation_id
                 WHERE p.organisation_id = k.organisation_id AND p.contact_id = k.id
                   AND m.automated_reason = '' AND m.direction <> 'internal'
                 ORDER BY m.occurred_at DESC LIMIT 1) c
         WHERE k.organisation_id = %(org)s AND k.left_company_on IS NULL
           AND k.buying_influence IN ('decision_maker', 'champion')
           AND k.last_exchange_at + GREATEST(%(quiet_min)s, make_interval(
                   secs => %(quiet_factor)s * 86400 * COALESCE(k.usual_gap_days, 0)))
               <= %(now)s
       ) AS quiet
      ORDER BY quiet.conversation_id, quiet.contact_id NULLS FIRST)
    UNION ALL
    SELECT c.id, c.account_id,
           COALESCE(c.owner_id, (SELECT a.owner_id FROM accounts_account a
                                  WHERE a.organisation_id = c.organisation_id
                                    AND a.id = c.account_id)),
           'awaiting_them', 4,
           c.state_since, c.nudge_due_at, NULL::bigint, NULL::bigint
      FROM conversations_conversation c
     WHERE c.organisation_id = %(org)s AND c.state = 'awaiting_them' AND c.nudge_due_at <= %(now)s
"""

_SCAN = f"""
WITH wanted AS (
    SELECT w.conversation_id, w.account_id, w.reason, w.priority, w.trigger_at, w.due_at,
           w.commitment_id, w.contact_id,
           -- Nobody owns the thread or the account: the organisation's first admin does, so
           -- no item waits where nobody will see it.
           COALESCE(w.owner_id, (SELECT m.user_id FROM organisations_membership m
                                  WHERE m.organisation_id = %(org)s AND m.role = 'admin'
                                  ORDER BY m.id LIMIT 1)) AS owner_id
      FROM ({_WANTED}) AS w
),
resolved AS (
    UPDATE followups_followup f
       SET resolved_at = %(now)s, resolution = 'record'
     WHERE f.organisation_id = %(org)s AND f.resolved_at IS NULL
       -- NOT IN (never NULL here) plans as one hashed lookup whatever the table statistics
       -- say; NOT EXISTS against the CTE became a nested loop while they were stale.
       AND (f.conversation_id, f.reason) NOT IN (SELECT w.conversation_id, w.reason FROM wanted w)
    RETURNING f.id
),
refreshed AS (
    UPDATE followups_followup f
       SET owner_id = w.owner_id, trigger_at = w.trigger_at, due_at = w.due_at,
           commitment_id = w.commitment_id, contact_id = w.contact_id
      FROM wanted w
     WHERE f.organisation_id = %(org)s AND f.resolved_at IS NULL
       AND w.conversation_id = f.conversation_id AND w.reason = f.reason
       AND (f.owner_id, f.trigger_at, f.due_at, f.commitment_id, f.contact_id)
           IS DISTINCT FROM (w.owner_id, w.trigger_at, w.due_at, w.commitment_id, w.contact_id)
    RETURNING 1
),
opened AS (
    INSERT INTO followups_followup
           (organisation_id, conversation_id, account_id, owner_id, commitment_id, contact_id,
            reason, priority, trigger_at, due_at, opened_at, resolution)
    SELECT %(org)s, w.conversation_id, w.account_id, w.owner_id, w.commitment_id, w.contact_id,
           w.reason, w.priority, w.trigger_at, w.due_at, %(now)s, ''
      FROM wanted w
     -- not open already (a hashed lookup, as above)...
     WHERE (w.conversation_id, w.reason) NOT IN (
            SELECT f.conversation_id, f.reason FROM followups_followup f
             WHERE f.organisation_id = %(org)s AND f.resolved_at IS NULL)
       -- ...and not answered by a member for this very cause. A scalar subquery, so it stays
       -- one index probe per wanted row: row-level security hides the table's statistics from
       -- the planner, which then chose a nested loop over every item of the organisation.
       AND (SELECT count(*) FROM followups_followup f
             WHERE f.organisation_id = %(org)s AND f.conversation_id = w.conversation_id
               AND f.reason = w.reason AND f.trigger_at = w.trigger_at
               AND f.resolved_at IS NOT NULL AND f.resolution <> 'record') = 0
    RETURNING id
)
SELECT (SELECT count(*) FROM opened), (SELECT count(*) FROM resolved),
       (SELECT count(*) FROM refreshed),
       -- for the followup.opened / followup.resolved webhooks
       (SELECT array_agg(id) FROM opened), (SELECT array_agg(id) FROM resolved)
"""  # noqa: S608 - constant SQL, values are parameters


@dataclass(frozen=True)
class ScanResult:
    opened: int
    resolved: int
    refreshed: int
    gone_quiet: int


@transaction.atomic
def followups_scan(*, org: Organisation, now: datetime.datetime | None = None) -> ScanResult:
    """Open what needs doing, resolve what no longer does, in two statements."""
    now = now or timezone.now()
    with connection.cursor() as cursor:
        # One scan of an organisation at a time (a redelivered or piled-up beat task waits).
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('followups_scan'), %s)", [org.pk])
        # Settled conversations with nothing for a while are quiet; a new turn wakes them.
        cursor.execute(
            """
            UPDATE conversations_conversation SET state = 'quiet'
             WHERE organisation_id = %s AND state = 'settled' AND last_activity_at < %s
            RETURNING id, account_id, state_since
            """,
            [org.pk, now - QUIET_AFTER],
        )
        quiet = cursor.rowcount
        went_quiet = cursor.fetchall()
        # Each organisation's numbers differ enough that a generic plan is twice as slow.
        cursor.execute("SET LOCAL plan_cache_mode = force_custom_plan")
    connection.ensure_connection()
    # Prepared on the server, so this large statement is parsed once per worker connection.
    with psycopg.Cursor(connection.connection) as raw:  # server-side binding
        raw.execute(
            _SCAN,
            {
                "org": org.pk,
                "now": now,
                "quiet_min": GONE_QUIET_MIN,
                "quiet_factor": GONE_QUIET_FACTOR,
            },
            prepare=True,
        )
        counts = raw.fetchone()
        assert counts is not None  # noqa: S101 - the statement always returns one row
        opened, resolved, refreshed, opened_ids, resolved_ids = counts
    _webhooks(org, went_quiet, opened_ids or [], resolved_ids or [])
    return ScanResult(opened=opened, resolved=resolved, refreshed=refreshed, gone_quiet=quiet)


def _webhooks(
    org: Organisation, went_quiet: list[tuple], opened_ids: list[int], resolved_ids: list[int]
) -> None:
    from webhooks.events import emit_followups, emit_many, state_change_data

    if went_quiet:
        emit_many(
            org,
            "conversation.state_changed",
            (state_change_data(pk, account_id, "settled", "quiet", since)
             for pk, account_id, since in went_quiet),
        )  # fmt: skip
    emit_followups(org, "followup.opened", opened_ids)
    emit_followups(org, "followup.resolved", resolved_ids)


def followups_settle(*, org: Organisation, conversation_ids: list[int]) -> int:
    """Resolve at once the items of these conversations that the record no longer supports
    (we replied, they answered, the promise was kept), rather than at the next scan."""
    if not conversation_ids:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE followups_followup f
               SET resolved_at = %(now)s, resolution = 'record'
              FROM conversations_conversation c
             WHERE f.organisation_id = %(org)s AND f.resolved_at IS NULL
               AND f.conversation_id = ANY(%(ids)s)
               AND c.organisation_id = f.organisation_id AND c.id = f.conversation_id
               AND ((f.reason = 'awaiting_us' AND c.state <> 'awaiting_us')
                 OR (f.reason = 'awaiting_them' AND c.state <> 'awaiting_them')
                 OR (f.reason = 'promise_due' AND NOT EXISTS (
                        SELECT 1 FROM conversations_commitment cm
                         WHERE cm.organisation_id = f.organisation_id
                           AND cm.conversation_id = f.conversation_id
                           AND cm.state = 'open' AND cm.owed_by = 'us'
                           AND cm.remind_at <= %(now)s)))
            RETURNING f.id
            """,
            {"org": org.pk, "ids": conversation_ids, "now": timezone.now()},
        )
        resolved = [row[0] for row in cursor.fetchall()]
        # An account that was quiet is not any more once anyone there is in touch again.
        cursor.execute(
            """
            UPDATE followups_followup f
               SET resolved_at = %(now)s, resolution = 'record'
              FROM accounts_account a
             WHERE f.organisation_id = %(org)s AND f.resolved_at IS NULL
               AND f.reason = 'gone_quiet' AND f.contact_id IS NULL  -- people: at the scan
               AND a.organisation_id = f.organisation_id AND a.id = f.account_id
               AND a.last_interaction_at > f.trigger_at
               AND a.id IN (SELECT c.account_id FROM conversations_conversation c
                             WHERE c.organisation_id = %(org)s AND c.id = ANY(%(ids)s))
            RETURNING f.id
            """,
            {"org": org.pk, "ids": conversation_ids, "now": timezone.now()},
        )
        resolved += [row[0] for row in cursor.fetchall()]
    _webhooks(org, [], [], resolved)
    return len(resolved)
