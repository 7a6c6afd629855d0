"""Database-level tenancy, derived from the models so no table can be forgotten.

After every migrate, for every tenant model:
- row-level security is enabled with one policy: a row is visible and writable only when its
  organisation_id is the connection's `threadline.organisation_id`, or when the named escape
  hatch `threadline.all_orgs` is on (admin, system jobs);
- every foreign key to another tenant model also gets a composite foreign key on
  (organisation_id, column) -> (organisation_id, id), so no row can point at another
  organisation's rows, whatever the application does. It replaces Django's single-column
  foreign key on that column, and a table with a required composite key loses its own foreign
  key to the organisation: both checks are implied, and each costs every insert a lookup at
  commit (a third of a mail sync's commit).
All of this is idempotent and re-created after a migration that rebuilt a table or column.
"""

from __future__ import annotations

import hashlib

from django.db import connection, models
from django.db.backends.utils import CursorWrapper
from psycopg import sql

from organisations.tenancy import ALL_ORGS_SETTING, ORG_SETTING, TenantModel, tenant_models

POLICY_NAME = "tenant_isolation"

_POLICY_SQL = (
    "CREATE POLICY {policy} ON {table} USING ("
    f"current_setting('{ALL_ORGS_SETTING}', true) = 'on' "
    f"OR organisation_id = nullif(current_setting('{ORG_SETTING}', true), '')::bigint)"
)


def _name(prefix: str, *parts: str) -> str:
    digest = hashlib.sha1("|".join(parts).encode(), usedforsecurity=False).hexdigest()[:10]
    return f"{prefix}_{parts[0][:40]}_{digest}"


def _existing_tenant_models() -> list[type[TenantModel]]:
    # A partial migrate (`migrate app 0001`) may leave some tables still to be created.
    existing = set(connection.introspection.table_names())
    return [model for model in tenant_models() if model._meta.db_table in existing]


def apply_row_level_security() -> None:
    with connection.cursor() as cursor:
        for model in _existing_tenant_models():
            table = model._meta.db_table
            # Dropped and created again, so a changed policy reaches existing databases.
            names = {"policy": sql.Identifier(POLICY_NAME), "table": sql.Identifier(table)}
            cursor.execute(sql.SQL("DROP POLICY IF EXISTS {policy} ON {table}").format(**names))
            cursor.execute(sql.SQL(_POLICY_SQL).format(**names))
            cursor.execute(
                sql.SQL("ALTER TABLE {} ENABLE ROW LEVEL SECURITY").format(sql.Identifier(table))
            )


def same_org_foreign_keys() -> list[tuple[type[TenantModel], models.ForeignKey]]:
    pairs = []
    models_present = _existing_tenant_models()
    for model in models_present:
        for field in model._meta.concrete_fields:
            target = getattr(field, "related_model", None)
            if (
                isinstance(field, models.ForeignKey)
                and field.name != "organisation"
                and isinstance(target, type)
                and issubclass(target, TenantModel)
                and target in models_present
            ):
                pairs.append((model, field))
    return pairs


def apply_same_org_constraints() -> None:
    links = same_org_foreign_keys()
    with connection.cursor() as cursor:
        for target in {field.related_model for _, field in links}:
            table = target._meta.db_table
            name = _name("org_id_uniq", table)
            cursor.execute("SELECT 1 FROM pg_constraint WHERE conname = %s", [name])
            if cursor.fetchone() is None:
                cursor.execute(
                    sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} UNIQUE (organisation_id, id)").format(
                        sql.Identifier(table), sql.Identifier(name)
                    )
                )
        for model, field in links:
            table, column = model._meta.db_table, field.column
            target_table = field.related_model._meta.db_table
            name = _name("same_org", table, column)
            cursor.execute("SELECT 1 FROM pg_constraint WHERE conname = %s", [name])
            if cursor.fetchone() is None:
                # Django carries out on_delete itself, before the deferred check at commit.
                # MATCH SIMPLE: a null column (optional link) is not checked, as it should be.
                cursor.execute(
                    sql.SQL(
                        "ALTER TABLE {table} ADD CONSTRAINT {name} "
                        "FOREIGN KEY (organisation_id, {col}) "
                        "REFERENCES {target} (organisation_id, id) DEFERRABLE INITIALLY DEFERRED"
                    ).format(
                        table=sql.Identifier(table),
                        name=sql.Identifier(name),
                        col=sql.Identifier(column),
                        target=sql.Identifier(target_table),
                    )
                )
            _drop_foreign_keys(cursor, table, column)
        for model in {model for model, field in links if not field.null}:
            # Its required composite key reaches a row of the same organisation, whose own
            # organisation key proves the organisation exists.
            _drop_foreign_keys(cursor, model._meta.db_table, "organisation_id")


def _drop_foreign_keys(cursor: CursorWrapper, table: str, column: str) -> None:
    """Drops the foreign keys on exactly this one column (Django's own, whatever their name;
    Django's schema editor finds them by their column too, so later migrations still work)."""
    cursor.execute(
        """
        SELECT c.conname FROM pg_constraint c
          JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
         WHERE c.conrelid = %s::regclass AND c.contype = 'f'
           AND cardinality(c.conkey) = 1 AND a.attname = %s
        """,
        [table, column],
    )
    for (name,) in cursor.fetchall():
        cursor.execute(
            sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
                sql.Identifier(table), sql.Identifier(name)
            )
        )
