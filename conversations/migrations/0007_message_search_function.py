"""Message search through a narrow SECURITY DEFINER function.

PostgreSQL evaluates row-level security before any condition whose function is not
LEAKPROOF, and the text-search match operator is not, so under RLS a GIN index on the search
vector can never be used: every search read the organisation's whole history. This function
runs as the table owner (which RLS does not apply to) and does the scoping itself, to the
organisation the session is set to, exactly like the policy: no organisation, no rows. It
filters, ranks, sorts and cuts the page itself, so only the page's rows leave it, each with
the total number of matches.
"""

from django.db import migrations

CREATE = """
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
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    WITH org AS (
        SELECT NULLIF(pg_catalog.current_setting('threadline.organisation_id', true), '')::bigint
               AS id
    )
    SELECT m.id, ts_rank(m.search_vector, query) AS rank, count(*) OVER () AS total
      FROM public.conversations_message m, org
     WHERE m.organisation_id = org.id
       AND m.search_vector @@ query
       AND (in_account IS NULL OR m.account_id = in_account)
       AND (of_kind IS NULL OR m.kind = of_kind)
       AND (in_direction IS NULL OR m.direction = in_direction)
       AND (since IS NULL OR m.occurred_at >= since)
       AND (until IS NULL OR m.occurred_at < until)
       AND (owned_by IS NULL OR EXISTS (
             SELECT 1 FROM public.conversations_conversation c
              WHERE c.organisation_id = org.id AND c.id = m.conversation_id
                AND c.owner_id = owned_by))
       AND (with_contact IS NULL OR m.sender_contact_id = with_contact OR EXISTS (
             SELECT 1 FROM public.conversations_participant p
              WHERE p.organisation_id = org.id AND p.message_id = m.id
                AND p.contact_id = with_contact))
     ORDER BY CASE WHEN newest_first THEN NULL ELSE ts_rank(m.search_vector, query) END
              DESC NULLS LAST,
              m.occurred_at DESC, m.id DESC
     LIMIT page_size OFFSET skip
$$;
"""


class Migration(migrations.Migration):
    dependencies = [("conversations", "0006_search")]

    operations = [
        migrations.RunSQL(
            CREATE,
            "DROP FUNCTION IF EXISTS threadline_message_search("
            "tsquery, bigint, text, text, timestamptz, timestamptz, bigint, bigint, boolean,"
            " integer, integer);",
        )
    ]
