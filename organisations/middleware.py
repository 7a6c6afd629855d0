from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from contextlib import ExitStack
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
        # Entered in process_view; left only once the response (templates included) is made.
        request._tenancy_contexts = ExitStack()  # type: ignore[attr-defined]
        try:
            return self.get_response(request)
        finally:
            request._tenancy_contexts.close()  # type: ignore[attr-defined]

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: Any, kwargs: dict[str, Any]
    ) -> HttpResponse | None:
        contexts: ExitStack = request._tenancy_contexts  # type: ignore[attr-defined]
        if request.path_info.startswith("/api/"):
            # The API resolves the organisation itself, once DRF has authenticated the token
            # or session (api.base.OrgViewSet.initial), and enters the same context then.
            return None
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
            contexts.enter_context(org_context(membership.organisation))
            # Times show in the organisation's own time zone.
            contexts.enter_context(timezone.override(_zone(membership.organisation.time_zone)))
        elif _is_admin(request) and request.user.is_staff:
            contexts.enter_context(all_orgs_context())
        return None


def _is_admin(request: HttpRequest) -> bool:
    match = request.resolver_match
    return match is not None and match.namespace == "admin"


def _zone(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")
