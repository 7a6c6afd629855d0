from __future__ import annotations

import datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from contacts.models import Contact, ContactAddress
from organisations.models import Organisation


@transaction.atomic
def contact_save(
    *,
    org: Organisation,
    contact: Contact | None = None,
    emails: list[str],
    phone: str = "",
    **fields: Any,
) -> Contact:
    """Create or update a contact and replace their addresses."""
    if contact is None:
        contact = Contact.objects.for_org(org).create(**fields)
    else:
        for name, value in fields.items():
            setattr(contact, name, value)
        contact.save(update_fields=list(fields))
    ContactAddress.objects.for_org(org).filter(contact=contact).delete()
    wanted = [(ContactAddress.Kind.EMAIL, email) for email in emails]
    if phone:
        wanted.append((ContactAddress.Kind.PHONE, phone))
    for kind, value in wanted:
        # save() fills in the normalised form that incoming mail is matched on.
        ContactAddress(organisation=org, contact=contact, kind=kind, value=value).save()
    return contact


_RHYTHM = """
WITH touched AS (  -- every human turn each person took part in, in the last year
    SELECT p.contact_id, m.occurred_at
      FROM conversations_participant p
      JOIN conversations_message m ON m.organisation_id = p.organisation_id AND m.id = p.message_id
     WHERE p.organisation_id = %(org)s AND p.contact_id IS NOT NULL
       AND m.automated_reason = '' AND m.direction <> 'internal' AND m.occurred_at > %(since)s
),
days AS (
    SELECT DISTINCT contact_id, occurred_at::date AS day FROM touched
),
gaps AS (
    SELECT contact_id, day - lag(day) OVER (PARTITION BY contact_id ORDER BY day) AS gap
      FROM days
),
rhythm AS (
    SELECT k.id,
           -- their last exchange ever (a year of silence is when it matters most)
           (SELECT max(m.occurred_at)
              FROM conversations_participant p
              JOIN conversations_message m
                ON m.organisation_id = p.organisation_id AND m.id = p.message_id
             WHERE p.organisation_id = k.organisation_id AND p.contact_id = k.id
               AND m.automated_reason = '' AND m.direction <> 'internal') AS last_at,
           (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY g.gap)
              FROM gaps g WHERE g.contact_id = k.id AND g.gap IS NOT NULL) AS gap_days
      FROM contacts_contact k
     WHERE k.organisation_id = %(org)s
)
UPDATE contacts_contact AS k
   SET last_exchange_at = rhythm.last_at, usual_gap_days = rhythm.gap_days
  FROM rhythm
 WHERE k.organisation_id = %(org)s AND k.id = rhythm.id
   AND (k.last_exchange_at, k.usual_gap_days) IS DISTINCT FROM (rhythm.last_at, rhythm.gap_days)
"""


def contacts_rhythm_refresh(*, org: Organisation) -> int:
    """Each person's last exchange with us and usual gap, in one statement (key people going
    quiet are measured against their own rhythm)."""
    with connection.cursor() as cursor:
        cursor.execute(
            _RHYTHM, {"org": org.pk, "since": timezone.now() - datetime.timedelta(days=365)}
        )
        return cursor.rowcount
