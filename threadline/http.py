"""Request types the views can rely on once TenantMiddleware has run."""

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

from organisations.models import Membership, Organisation, User


class OrgRequest(HttpRequest):
    """A request under /o/<org-slug>/ from a member: TenantMiddleware guarantees these."""

    user: User  # type: ignore[assignment]
    org: Organisation
    membership: Membership
    htmx: HtmxDetails


def show_once_on_next_page(request: HttpRequest, key: str, secret: str) -> None:
    """Post/redirect/get for a secret shown once (a new token, a webhook's signing secret):
    it waits in the session for the one page that follows, so a refresh creates nothing."""
    request.session[f"show_once:{key}"] = secret


def shown_once(request: HttpRequest, key: str) -> str:
    """The secret the previous request left for this page, dropped as it is read ("" if none)."""
    return request.session.pop(f"show_once:{key}", "")
