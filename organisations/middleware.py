from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone

from organisations.models import Membership
from organisations.tenancy import all_orgs_context, org_context


class TenantMiddleware:
    """Resolves /o/<org-slug>/ to `request.org` and `request.membership`, or 404.

    Missing organisation and "not a member" give the same 404, so slugs cannot be probed.
    Views get the organisation as request.org, not as an org_slug argument.
    The rest of the request runs in that organisation's database context (row-level security).
    Staff using the site admin work across organisations through the named escape hatch.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.org = None  # type: ignore[attr-defined]
        request.membership = None  # type: ignore[attr-defined]
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: Any, kwargs: dict[str, Any]
    ) -> HttpResponse | None:
        slug = kwargs.pop("org_slug", None)
        if slug is not None:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            membership = (
                Membership.objects.select_related("organisation")
                .filter(organisation__slug=slug, user=request.user)
                .first()
            )
            if membership is None:
                raise Http404("No such organisation")
            request.org = membership.organisation  # type: ignore[attr-defined]
            request.membership = membership  # type: ignore[attr-defined]
            # Times show in the organisation's own time zone.
            with (
                org_context(membership.organisation),
                timezone.override(_zone(membership.organisation.time_zone)),
            ):
                return view(request, *args, **kwargs)
        if request.path.startswith("/admin/") and request.user.is_staff:
            with all_orgs_context():
                return view(request, *args, **kwargs)
        return None


def _zone(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")
