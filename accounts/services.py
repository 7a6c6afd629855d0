from __future__ import annotations

import datetime
from collections.abc import Collection, Iterable
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Account, AccountDomain
from organisations.models import Organisation


@transaction.atomic
def account_save(
    *, org: Organisation, account: Account | None = None, domains: Iterable[str], **fields: Any
) -> Account:
    """Create or update an account and replace its email domains."""
    if account is None:
        account = Account.objects.for_org(org).create(**fields)
    else:
        for name, value in fields.items():
            setattr(account, name, value)
        # Only what the form changed: last_interaction_at moves under us as people log things.
        account.save(update_fields=list(fields))
    wanted = set(domains)
    AccountDomain.objects.for_org(org).filter(account=account).exclude(domain__in=wanted).delete()
    existing = set(
        AccountDomain.objects.for_org(org).filter(account=account).values_list("domain", flat=True)
    )
    AccountDomain.objects.for_org(org).bulk_create(
        AccountDomain(organisation=org, account=account, domain=domain)
        for domain in sorted(wanted - existing)
    )
    return account


_RHYTHM = """
WITH human AS (
    SELECT m.account_id, m.conversation_id, m.direction, m.occurred_at,
           lag(m.direction) OVER w AS previous_direction,
           lag(m.occurred_at) OVER w AS previous_at
      FROM conversations_message m
     WHERE m.organisation_id = %(org)s AND m.automated_reason = ''
       AND m.direction <> 'internal' AND m.occurred_at > %(since)s
    WINDOW w AS (PARTITION BY m.conversation_id ORDER BY m.occurred_at, m.id)
),
replies AS (  -- how long they took to answer a turn of ours
    SELECT account_id,
           percentile_cont(0.5) WITHIN GROUP (
               ORDER BY extract(epoch FROM occurred_at - previous_at) / 86400) AS days
      FROM human
     WHERE direction = 'inbound' AND previous_direction = 'outbound'
     GROUP BY account_id
),
days AS (
    SELECT DISTINCT account_id, occurred_at::date AS day FROM human
),
gaps AS (  -- days between days we were in touch
    SELECT account_id, day - lag(day) OVER (PARTITION BY account_id ORDER BY day) AS gap
      FROM days
),
rhythm AS (
    SELECT a.id,
           (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY g.gap)
              FROM gaps g WHERE g.account_id = a.id AND g.gap IS NOT NULL) AS gap_days,
           r.days AS reply_days
      FROM accounts_account a LEFT JOIN replies r ON r.account_id = a.id
     WHERE a.organisation_id = %(org)s
)
UPDATE accounts_account AS a
   SET usual_gap_days = rhythm.gap_days, usual_reply_days = rhythm.reply_days
  FROM rhythm
 WHERE a.organisation_id = %(org)s AND a.id = rhythm.id
   AND (a.usual_gap_days, a.usual_reply_days)
       IS DISTINCT FROM (rhythm.gap_days, rhythm.reply_days)
"""


def account_rhythm_refresh(*, org: Organisation) -> int:
    """Each account's own rhythm over the last year, in one statement: the median gap between
    days we were in touch, and how long they usually take to answer us. Gone-quiet and
    waiting-on-them follow-ups are measured against these rather than one number for all."""
    with connection.cursor() as cursor:
        cursor.execute(
            _RHYTHM, {"org": org.pk, "since": timezone.now() - datetime.timedelta(days=365)}
        )
        return cursor.rowcount


def account_activity_refresh(
    *, org: Organisation, account_ids: Collection[int] | None = None
) -> int:
    """Set accounts' last_interaction_at from their latest message, in one statement.

    Every account of the organisation, or only these (after messages moved between accounts).
    """
    only = "" if account_ids is None else "AND acc.id = ANY(%s)"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE accounts_account AS a
               SET last_interaction_at = latest.at
              FROM (
                    SELECT acc.id, max(m.occurred_at) AS at
                      FROM accounts_account acc
                      LEFT JOIN conversations_message m
                        ON m.organisation_id = acc.organisation_id AND m.account_id = acc.id
                       -- automated mail and our own notes are no contact with them
                       AND m.automated_reason = '' AND m.direction <> 'internal'
                     WHERE acc.organisation_id = %s {only}
                     GROUP BY acc.id
                   ) AS latest
             WHERE a.organisation_id = %s AND a.id = latest.id
               AND a.last_interaction_at IS DISTINCT FROM latest.at
            """,  # noqa: S608 - only a fixed clause is interpolated
            [org.pk, *([] if account_ids is None else [list(account_ids)]), org.pk],
        )
        return cursor.rowcount
