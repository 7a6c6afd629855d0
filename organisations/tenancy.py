"""Tenancy: the fail-closed manager every tenant-owned model uses, and the database context.

`Model.objects.for_org(org)` is the only way to query a tenant model. `Model.objects.filter(...)`
raises, so a forgotten scope is a crash in tests rather than a leak in production. The plain
`all_orgs` manager is the default manager (related access, admin, migrations); only admin,
migrations and jobs that span organisations may name it.

Row-level security in PostgreSQL backs this up: tenant tables only show rows whose
organisation_id matches the `threadline.organisation_id` setting of the connection, which
`org_context` sets and always restores.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any

from django.db import DatabaseError, connection, models

if TYPE_CHECKING:
    from organisations.models import Organisation

ORG_SETTING = "threadline.organisation_id"
ALL_ORGS_SETTING = "threadline.all_orgs"


class UnscopedQueryError(RuntimeError):
    """A tenant model was queried without naming its organisation."""


class TenantQuerySet(models.QuerySet):
    _scoped_org_id: int | None = None

    def _clone(self) -> Any:
        clone = super()._clone()  # type: ignore[misc]
        clone._scoped_org_id = self._scoped_org_id
        return clone

    def create(self, **kwargs: Any) -> Any:
        # Rows created through a scoped queryset belong to that organisation, whatever was passed.
        if self._scoped_org_id is not None:
            given = kwargs.pop("organisation", None)
            given_id = kwargs.pop("organisation_id", None) or getattr(given, "pk", None)
            if given_id is not None and given_id != self._scoped_org_id:
                raise UnscopedQueryError("cannot create a row for another organisation")
            kwargs["organisation_id"] = self._scoped_org_id
        return super().create(**kwargs)

    def bulk_create(self, objs: Any, *args: Any, **kwargs: Any) -> Any:
        objs = list(objs)
        if self._scoped_org_id is not None:
            for obj in objs:
                if obj.organisation_id is None:
                    obj.organisation_id = self._scoped_org_id
                elif obj.organisation_id != self._scoped_org_id:
                    raise UnscopedQueryError("cannot create a row for another organisation")
        return super().bulk_create(objs, *args, **kwargs)


class TenantManager(models.Manager.from_queryset(TenantQuerySet)):  # type: ignore[misc]
    """Fail-closed manager: answers only through `.for_org(org)`."""

    def get_queryset(self) -> TenantQuerySet:
        raise UnscopedQueryError(
            f"{self.model.__name__}.objects must be scoped: use "
            f"{self.model.__name__}.objects.for_org(org) (or .all_orgs in admin and system jobs)"
        )

    def none(self) -> Any:
        # An empty queryset shows no organisation's rows, so it needs no scope (schemas use it).
        return TenantQuerySet(self.model, using=self._db).none()

    def for_org(self, org: Organisation | int) -> Any:
        org_id = org if isinstance(org, int) else org.pk
        if org_id is None:
            raise UnscopedQueryError("for_org() needs a saved organisation")
        queryset: TenantQuerySet = TenantQuerySet(self.model, using=self._db).filter(
            organisation_id=org_id
        )
        queryset._scoped_org_id = org_id
        return queryset


class TenantModel(models.Model):
    """Base of every tenant-owned model: a non-null organisation and the fail-closed manager."""

    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.CASCADE, related_name="+", db_index=False
    )

    # Declared first, so it is the default manager Django uses for related access and admin.
    all_orgs = models.Manager()
    objects = TenantManager()

    class Meta:
        abstract = True


def tenant_models() -> list[type[TenantModel]]:
    from django.apps import apps

    return [m for m in apps.get_models() if issubclass(m, TenantModel)]


def _read_settings(cursor: Any) -> tuple[str, str]:
    cursor.execute(
        "SELECT current_setting(%s, true), current_setting(%s, true)",
        [ORG_SETTING, ALL_ORGS_SETTING],
    )
    org_id, all_orgs = cursor.fetchone()
    return org_id or "", all_orgs or ""


def _apply(cursor: Any, org_id: str, all_orgs: str) -> None:
    cursor.execute(
        "SELECT set_config(%s, %s, false), set_config(%s, %s, false)",
        [ORG_SETTING, org_id, ALL_ORGS_SETTING, all_orgs],
    )


@contextmanager
def _database_context(org_id: str, all_orgs: str) -> Iterator[None]:
    """Set what the row-level security policies see, and always put the previous back."""
    with connection.cursor() as cursor:
        previous = _read_settings(cursor)
        _apply(cursor, org_id, all_orgs)
    try:
        yield
    finally:
        _restore(previous)


def org_context(org: Organisation | int) -> AbstractContextManager[None]:
    """Let the database show this organisation's rows (and only those) inside the block."""
    return _database_context(str(org if isinstance(org, int) else org.pk), "")


def no_org_context() -> AbstractContextManager[None]:
    """Neither an organisation nor the escape hatch: the database shows no tenant rows."""
    return _database_context("", "")


def all_orgs_context() -> AbstractContextManager[None]:
    """Escape hatch for admin and system jobs that span organisations."""
    return _database_context("", "on")


def _restore(previous: tuple[str, str]) -> None:
    if connection.connection is None:
        return  # closed: the session and its settings are gone
    try:
        with connection.cursor() as cursor:
            _apply(cursor, *previous)
    except DatabaseError:
        # Never hand a connection that may still carry this organisation to the next request.
        if not connection.in_atomic_block:
            connection.close()
        raise
