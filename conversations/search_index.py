"""Keeping messages findable: each message's search vector, in its organisation's language.

Subject weighs most (A), then what was actually said (B), attachment names (C) and the quoted
history least (D). Written in one statement per batch of new messages; rebuilt for a whole
organisation when its language changes.
"""

from __future__ import annotations

from collections.abc import Collection

from django.db import connection

from organisations.models import Organisation

_VECTOR = """
UPDATE conversations_message AS m
   SET search_vector =
         setweight(to_tsvector(%(config)s::regconfig, m.subject), 'A')
      || setweight(to_tsvector(%(config)s::regconfig, m.body_text), 'B')
      || setweight(to_tsvector('simple', COALESCE(files.names, '')), 'C')
      || setweight(to_tsvector(%(config)s::regconfig, m.quoted_text), 'D')
  FROM conversations_message AS target
  LEFT JOIN LATERAL (
        -- "pricing-2027.pdf" is found by "pricing" as well as by its whole name
        SELECT string_agg(a.filename || ' ' || regexp_replace(a.filename, '[._-]+', ' ', 'g'),
                          ' ') AS names
          FROM mail_attachment a
         WHERE a.organisation_id = target.organisation_id AND a.message_id = target.id
       ) AS files ON true
 WHERE m.organisation_id = %(org)s AND target.organisation_id = %(org)s
   AND m.id = target.id {only}
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
