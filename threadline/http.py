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
