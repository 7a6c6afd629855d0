from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from django.db import connection, transaction

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
                       AND m.automated_reason = ''  -- automated mail is no interaction
                     WHERE acc.organisation_id = %s {only}
                     GROUP BY acc.id
                   ) AS latest
             WHERE a.organisation_id = %s AND a.id = latest.id
               AND a.last_interaction_at IS DISTINCT FROM latest.at
            """,  # noqa: S608 - only a fixed clause is interpolated
            [org.pk, *([] if account_ids is None else [list(account_ids)]), org.pk],
        )
        return cursor.rowcount
