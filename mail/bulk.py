"""Rows in bulk through COPY: how a batch of mail is written without the ORM's per-row cost.

`bulk_create` spends about a third of a millisecond of Python per email building SQL for the
message, its participants and its raw copy; COPY hands PostgreSQL the values as they are. Row-
level security refuses COPY into tenant tables, so rows are copied into a temporary staging
table of the same columns (one per connection, emptied by each move and at every commit) and
moved from there with one INSERT, which the policies check.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection, models
from psycopg import sql

from organisations.models import Organisation
from organisations.tenancy import TenantModel, UnscopedQueryError

# Fields whose Python value is what PostgreSQL stores: passed to COPY untouched.
_PLAIN = frozenset(
    {"AutoField", "BigAutoField", "ForeignKey", "OneToOneField", "CharField", "TextField",
     "EmailField", "DateTimeField", "BooleanField", "IntegerField", "BigIntegerField",
     "PositiveIntegerField", "PositiveSmallIntegerField", "SmallIntegerField", "BinaryField",
     "UUIDField", "DateField"}
)  # fmt: skip


def select_any(
    *,
    org: Organisation,
    model: type[TenantModel],
    columns: Sequence[str],
    key: str,
    values: Iterable[Any],
) -> list[tuple[Any, ...]]:
    """`columns` of `org`'s rows of `model` whose `key` is one of `values`. One array parameter
    instead of the ORM's IN list: for the hundreds of ids of a batch, building that list costs
    more than the query (~13 µs an id)."""
    values = list(values)
    if not values:
        return []
    with connection.cursor() as cursor:
        pg = cursor.cursor.connection
        cursor.execute(
            sql.SQL("SELECT {} FROM {} WHERE organisation_id = %s AND {} = ANY(%s)")
            .format(
                sql.SQL(", ").join([sql.Identifier(column) for column in columns]),
                sql.Identifier(model._meta.db_table),
                sql.Identifier(key),
            )
            .as_string(pg),
            [org.pk, values],
        )
        return cursor.fetchall()


def allocate_ids(model: type[models.Model], count: int) -> list[int]:
    """`count` new primary keys for `model`, from its sequence, in one query."""
    if count == 0:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [model._meta.db_table, model._meta.pk.column, count],  # type: ignore[union-attr]
        )
        return [row[0] for row in cursor.fetchall()]


def copy_rows(
    *,
    org: Organisation,
    model: type[TenantModel],
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    on_conflict: str = "",
    returning: Sequence[str] = (),
) -> list[tuple[Any, ...]]:
    """INSERT `rows` (values for `columns`, which start with "organisation_id") into `model`'s
    table through COPY. Returns the `returning` columns of the rows written; `on_conflict` is
    an ON CONFLICT clause, written by the caller. Columns left out get their defaults."""
    if not connection.in_atomic_block:
        raise RuntimeError("copy_rows() runs inside a transaction (its staging table does)")
    if columns[0] != "organisation_id":
        raise ValueError("the first column is organisation_id")
    table, staging = model._meta.db_table, f"copy_{model._meta.db_table}"
    names = sql.SQL(", ").join([sql.Identifier(column) for column in columns])
    with connection.cursor() as cursor:
        pg = cursor.cursor.connection
        types = _staging_tables(pg).get(staging)
        if types is None or not set(columns) <= types.keys():
            # First use on this connection, or the table gained a column since (a migration
            # while the connection lived): make the staging table (again) from the table.
            cursor.execute(
                sql.SQL(
                    "DROP TABLE IF EXISTS pg_temp.{staging}; "
                    "CREATE TEMPORARY TABLE {staging} ON COMMIT DELETE ROWS AS "
                    "SELECT * FROM {table} WITH NO DATA"
                )
                .format(staging=sql.Identifier(staging), table=sql.Identifier(table))
                .as_string(pg)
            )
            cursor.execute(
                sql.SQL("SELECT * FROM {} LIMIT 0").format(sql.Identifier(staging)).as_string(pg)
            )
            types = {column.name: column.type_code for column in cursor.description}
            made = types
            # Only once the transaction that made it commits does it outlive a rollback.
            connection.on_commit(lambda: _staging_tables(pg).__setitem__(staging, made))
        copied = 0
        copy_sql = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
            sql.Identifier(staging), names
        )
        with cursor.cursor.copy(copy_sql) as copy:
            copy.set_types([types[column] for column in columns])
            for row in rows:
                if row[0] != org.pk:
                    raise UnscopedQueryError("cannot create a row for another organisation")
                copy.write_row(row)
                copied += 1
        if not copied:
            return []
        cursor.execute(
            sql.SQL(
                "WITH staged AS (DELETE FROM {staging} RETURNING {names}) "
                "INSERT INTO {table} ({names}) SELECT {names} FROM staged {conflict} {ret}"
            )
            .format(
                staging=sql.Identifier(staging),
                table=sql.Identifier(table),
                names=names,
                conflict=sql.SQL(on_conflict),
                ret=sql.SQL("RETURNING {}").format(
                    sql.SQL(", ").join([sql.Identifier(table, c) for c in returning])
                )
                if returning
                else sql.SQL(""),
            )
            .as_string(pg)
        )
        return cursor.fetchall() if returning else []


def copy_insert(*, org: Organisation, objs: Sequence[TenantModel]) -> None:
    """INSERT model instances (all of one model, all of `org`) through COPY. Primary keys are
    taken from the table's sequence first, so the objects have them, as after bulk_create."""
    if not objs:
        return
    model = type(objs[0])
    for obj in objs:
        if obj.organisation_id is None:  # type: ignore[attr-defined]
            obj.organisation_id = org.pk  # type: ignore[attr-defined]
    if objs[0].pk is None:
        for obj, pk in zip(objs, allocate_ids(model, len(objs)), strict=True):
            obj.pk = pk
    # Generated columns, and nullable ones the application never writes (a message's search
    # vector, made by its own statement after the batch), are left to the database.
    fields = [
        f
        for f in model._meta.concrete_fields
        if not getattr(f, "generated", False) and (f.editable or not f.null)
    ]
    fields.sort(key=lambda f: f.attname != "organisation_id")
    relations = [f for f in fields if isinstance(f, models.ForeignKey)]
    plain = [f.get_internal_type() in _PLAIN for f in fields]

    def rows() -> Iterable[list[Any]]:
        for obj in objs:
            for field in relations:
                # A related object saved after it was assigned: take its key now.
                if getattr(obj, field.attname) is None:
                    related = field.get_cached_value(obj, default=None)
                    if related is not None:
                        setattr(obj, field.attname, related.pk)
            yield [
                getattr(obj, f.attname)
                if is_plain
                else f.get_db_prep_save(getattr(obj, f.attname), connection)
                for f, is_plain in zip(fields, plain, strict=True)
            ]

    copy_rows(org=org, model=model, columns=[str(f.column) for f in fields], rows=rows())
    for obj in objs:
        obj._state.adding, obj._state.db = False, connection.alias


_made: weakref.WeakKeyDictionary[Any, dict[str, dict[str, int]]] = weakref.WeakKeyDictionary()


def _staging_tables(pg: Any) -> dict[str, dict[str, int]]:
    """The staging tables this database connection has made (they last as long as it), with
    the type of each column, which binary COPY needs."""
    return _made.setdefault(pg, {})
