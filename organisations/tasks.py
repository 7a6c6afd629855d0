"""How a Celery task enters one organisation: by id, resolved like a request, in its context."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from organisations.models import Organisation
from organisations.tenancy import org_context

logger = logging.getLogger(__name__)


@contextmanager
def task_org(organisation_id: int) -> Iterator[Organisation | None]:
    """Yield the organisation (None if it has gone) with the database scoped to it."""
    org = Organisation.objects.filter(pk=organisation_id).first()
    if org is None:
        logger.warning("organisation %s no longer exists; nothing to do", organisation_id)
        yield None
        return
    with org_context(org):
        yield org


def organisation_ids() -> list[int]:
    """For beat fan-out jobs: every organisation, each then handled by its own task."""
    return list(Organisation.objects.order_by("pk").values_list("pk", flat=True))
