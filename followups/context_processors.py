from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from followups.selectors import queue_count


def followup_count(request: HttpRequest) -> dict[str, Any]:
    """The member's open follow-ups, for the navigation: counted only where a page shows it."""
    org, user = getattr(request, "org", None), getattr(request, "user", None)
    if org is None or user is None or not user.is_authenticated:
        return {}
    return {"my_followup_count": SimpleLazyObject(lambda: queue_count(org=org, owner=user))}
