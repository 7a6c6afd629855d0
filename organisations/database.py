"""The database role split that makes row-level security bite.

Tables are owned by the role in DATABASE_URL (which runs migrations). Every other connection
switches to DATABASE_APP_ROLE, which owns nothing and is not a superuser, so PostgreSQL applies
the row-level security policies to everything the web app and the workers do.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from psycopg import sql

# Set by the migrate command for its duration, so schema changes run as the owner.
_as_owner = False


def assume_app_role(sender: Any, connection: Any, **kwargs: Any) -> None:
    role = settings.DATABASE_APP_ROLE
    if _as_owner or not role:
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if cursor.fetchone() is None:
            # Running as the owner would switch row-level security off: refuse instead.
            raise ImproperlyConfigured(
                f"The database role {role!r} does not exist yet: run `manage.py migrate` "
                "(it creates it), or set DATABASE_APP_ROLE."
            )
        cursor.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(role)))


class owner_connection:  # noqa: N801 - used as a context manager, reads like one
    """Run the block as the owning role: close the app-role connection, reopen without it."""

    def __enter__(self) -> None:
        global _as_owner
        self.previous = _as_owner
        connection.close()
        _as_owner = True

    def __exit__(self, *exc: object) -> None:
        global _as_owner
        _as_owner = self.previous
        connection.close()


def ensure_app_role() -> None:
    """Create the app role (once) and let the owner switch to it."""
    role = settings.DATABASE_APP_ROLE
    if not role:
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if cursor.fetchone() is None:
            cursor.execute(
                sql.SQL("CREATE ROLE {} NOLOGIN NOSUPERUSER NOBYPASSRLS").format(
                    sql.Identifier(role)
                )
            )
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        if not cursor.fetchone()[0]:
            cursor.execute(sql.SQL("GRANT {} TO CURRENT_USER").format(sql.Identifier(role)))


def grant_app_role() -> None:
    role = settings.DATABASE_APP_ROLE
    if not role:
        return
    ident = sql.Identifier(role)
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(ident))
        cursor.execute(
            sql.SQL(
                # No TRUNCATE: row-level security does not apply to it.
                "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}"
            ).format(ident)
        )
        cursor.execute(
            sql.SQL("GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {}").format(
                ident
            )
        )
