from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from organisations.selectors import memberships_of_user


def tenancy(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    return {
        "org": getattr(request, "org", None),
        "membership": getattr(request, "membership", None),
        # Evaluated only by pages that draw the organisation switcher.
        "my_memberships": SimpleLazyObject(
            lambda: list(memberships_of_user(user=user)) if user and user.is_authenticated else []
        ),
    }
