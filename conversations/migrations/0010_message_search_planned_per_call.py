"""Message search planned for each call, with only the filters in use, ranking each match once.

The SQL function of 0007 could not be inlined (SECURITY DEFINER), so its body was planned once
with every argument an unknown parameter: the planner kept all seven optional filters as
`(x IS NULL OR ...)` conditions on every row, computed ts_rank twice per match (once for the
result, once inside the sort's CASE) and counted the matches with a window over the whole rows,
search vector included, which spilled to disk past work_mem for broad `or` queries.

This PL/pgSQL version (same arguments, same rows) builds the statement with only the filters
given and runs it with EXECUTE ... USING, so each call gets a plan for its own query; the
ranking subquery returns (id, occurred_at, rank) only, so the window counting the matches holds
three narrow columns per match. The organisation comes in through a sub-select so the planner
costs the GIN index as for any organisation: given the constant, it sometimes estimated the
organisation's part of the (organisation_id, search_vector) index as dear and ANDed the whole
index with a btree scan of the organisation instead, several times slower.
"""

import importlib

from django.db import migrations

CREATE = r"""
CREATE OR REPLACE FUNCTION threadline_message_search(
    query tsquery,
    in_account bigint DEFAULT NULL,
    of_kind text DEFAULT NULL,
    in_direction text DEFAULT NULL,
    since timestamptz DEFAULT NULL,
    until timestamptz DEFAULT NULL,
    owned_by bigint DEFAULT NULL,
    with_contact bigint DEFAULT NULL,
    newest_first boolean DEFAULT false,
    page_size integer DEFAULT 20,
    skip integer DEFAULT 0
)
RETURNS TABLE (id bigint, rank real, total bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $fn$
DECLARE
    org bigint := NULLIF(pg_catalog.current_setting('threadline.organisation_id', true), '')::bigint;
    conditions text := '';
BEGIN
    -- Like the row-level security policy: no organisation, no rows.
    IF org IS NULL THEN
        RETURN;
    END IF;
    -- Only constant text is added to the statement; every value travels as a parameter.
    IF in_account IS NOT NULL THEN
        conditions := conditions || ' AND m.account_id = $3';
    END IF;
    IF of_kind IS NOT NULL THEN
        conditions := conditions || ' AND m.kind = $4';
    END IF;
    IF in_direction IS NOT NULL THEN
        conditions := conditions || ' AND m.direction = $5';
    END IF;
    IF since IS NOT NULL THEN
        conditions := conditions || ' AND m.occurred_at >= $6';
    END IF;
    IF until IS NOT NULL THEN
        conditions := conditions || ' AND m.occurred_at < $7';
    END IF;
    IF owned_by IS NOT NULL THEN
        conditions := conditions || ' AND EXISTS (
            SELECT 1 FROM public.conversations_conversation c
             WHERE c.organisation_id = $1 AND c.id = m.conversation_id AND c.owner_id = $8)';
    END IF;
    IF with_contact IS NOT NULL THEN
        conditions := conditions || ' AND (m.sender_contact_id = $9 OR EXISTS (
            SELECT 1 FROM public.conversations_participant p
             WHERE p.organisation_id = $1 AND p.message_id = m.id AND p.contact_id = $9))';
    END IF;
    RETURN QUERY EXECUTE format(
        $sql$
        SELECT s.id, s.rank, count(*) OVER () AS total
          FROM (SELECT m.id, m.occurred_at, ts_rank(m.search_vector, $2) AS rank
                  FROM public.conversations_message m
                 WHERE m.organisation_id = (SELECT $1) AND m.search_vector @@ $2 %s
                OFFSET 0) AS s  -- ranked once, in the scan, before the window sees the row
         ORDER BY %s
         LIMIT $10 OFFSET $11
        $sql$,
        conditions,
        CASE WHEN newest_first THEN 's.occurred_at DESC, s.id DESC'
             ELSE 's.rank DESC, s.occurred_at DESC, s.id DESC' END
    )
    USING org, query, in_account, of_kind, in_direction, since, until, owned_by, with_contact,
          page_size, skip;
END
$fn$;
"""

# Going back restores 0007's definition (same arguments, so it replaces this one in place).
_PREVIOUS = importlib.import_module("conversations.migrations.0007_message_search_function")


class Migration(migrations.Migration):
    dependencies = [("conversations", "0009_message_unindexed")]

    operations = [migrations.RunSQL(CREATE, _PREVIOUS.CREATE)]
