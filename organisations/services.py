from __future__ import annotations

import datetime

from organisations.models import Holiday, Organisation


def holiday_add(*, org: Organisation, date: datetime.date, name: str = "") -> Holiday:
    """A day off: no business time counts on it (adding the same day again renames it)."""
    holiday, _ = Holiday.objects.for_org(org).update_or_create(
        date=date, defaults={"name": name.strip()}
    )
    return holiday
