"""The message search index, per organisation where the server can.

With btree_gin (PostgreSQL's contrib, present on most servers) the GIN index is on
(organisation_id, search_vector), so a search reads only its organisation's part of the index;
without it (the embedded server used by `make run` and `make test` ships no contrib modules)
it is on search_vector alone and the organisation is checked row by row.
"""

from django.db import migrations

CREATE = """
DO $$
BEGIN
    BEGIN
        CREATE EXTENSION IF NOT EXISTS btree_gin;
    EXCEPTION WHEN OTHERS THEN
        RAISE NOTICE 'btree_gin is not available: searching without it';
    END;
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'btree_gin') THEN
        CREATE INDEX IF NOT EXISTS message_org_search
            ON conversations_message USING gin (organisation_id, search_vector);
    ELSE
        CREATE INDEX IF NOT EXISTS message_org_search
            ON conversations_message USING gin (search_vector);
    END IF;
END $$;
"""


class Migration(migrations.Migration):
    dependencies = [("conversations", "0007_message_search_function")]

    operations = [
        migrations.RemoveIndex(model_name="message", name="message_search"),
        migrations.RunSQL(CREATE, "DROP INDEX IF EXISTS message_org_search;"),
    ]
