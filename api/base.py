"""What every endpoint under /api/v1/o/<slug>/ shares: the organisation, roles, paging, expand.

The organisation comes from the path, like the web UI's /o/<slug>/, but only after DRF has
authenticated the request (a token or the browser's session): the member's membership in that
organisation is looked up, and the rest of the request runs in its database context, so
row-level security applies to the API exactly as to the pages. A token is good for the one
organisation it was made in; any other slug is a 404, like a slug the member does not belong to.
"""

from __future__ import annotations

import datetime
from typing import Any, ClassVar, cast

import django_filters
from django.core.exceptions import ValidationError
from django.db import models
from django_filters.fields import IsoDateTimeField
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import exceptions, serializers
from rest_framework.filters import OrderingFilter
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.viewsets import GenericViewSet

from api.models import ApiToken
from organisations.models import Membership, Organisation, User
from organisations.tenancy import org_context
from threadline.params import whole_number


class NotFound(exceptions.NotFound):
    default_detail = "Not found."


def _membership_for(request: Request, slug: str) -> Membership:
    if isinstance(request.auth, ApiToken):
        membership = request.auth.membership
        if membership.organisation.slug != slug:
            raise NotFound("No such organisation.")
        return membership
    found = (
        Membership.objects.select_related("organisation", "user")
        .filter(organisation__slug=slug, user=cast(User, request.user))
        .first()
    )
    if found is None:
        raise NotFound("No such organisation.")
    return found


class UtcDateTimeField(IsoDateTimeField):
    """A moment in a query, in UTC: offsets beyond what PostgreSQL takes are refused, not 500s."""

    def to_python(self, value: Any) -> Any:
        moment = super().to_python(value)
        if moment is None:
            return None
        try:
            return moment.astimezone(datetime.UTC)
        except (OverflowError, ValueError):
            raise ValidationError("This moment is out of range.", code="invalid") from None


class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcDateTimeField


class Cursor(CursorPagination):
    """Stable pages however many rows arrive meanwhile: `next` and `previous` are opaque links."""

    page_size = 50
    page_size_query_param = "limit"
    max_page_size = 200

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        size = whole_number(raw)
        if size is None or not 1 <= size <= self.max_page_size:
            raise exceptions.ValidationError(
                {"limit": [f"A number of rows from 1 to {self.max_page_size}."]}
            )
        return size

    # Rows that share the ordering's value are counted past (`o` in the cursor). DRF stops
    # counting at 1,000, so past that many alike (a day's health snapshots, one per account)
    # pages repeated themselves for ever. Counting costs at most a pass over those rows.
    offset_cutoff = 1_000_000

    def get_ordering(self, request: Request, queryset: Any, view: Any) -> tuple[str, ...]:
        if any(hasattr(backend, "get_ordering") for backend in view.filter_backends):
            ordering = super().get_ordering(request, queryset, view)
        else:
            ordering = tuple(view.ordering)
        # Rows alike in the ordering come in one fixed order (by id), so counting past them
        # on the next page skips exactly the rows already shown.
        if ordering[0].lstrip("-") not in {"id", "pk"}:
            ordering = (*ordering, "-id" if ordering[0].startswith("-") else "id")
        return ordering


class OrgViewSet(GenericViewSet):
    """A viewset of one organisation's rows. Subclasses say `model` and scope `rows()`."""

    model: ClassVar[type[models.Model]]
    pagination_class = Cursor
    lookup_value_regex = "[0-9]+"
    filter_backends = (DjangoFilterBackend, OrderingFilter)
    ordering_fields: ClassVar[tuple[str, ...]] = ()
    ordering: ClassVar[tuple[str, ...]] = ("-id",)
    # Names a client may pass in ?expand=, each a relation the serializer can include.
    expandable: ClassVar[frozenset[str]] = frozenset()

    org: Organisation
    membership: Membership

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # authentication, permission, throttling
        self.membership = _membership_for(request, kwargs["org_slug"])
        self.org = self.membership.organisation
        # Left by TenantMiddleware once the response is made, like a page's context.
        request._request._tenancy_contexts.enter_context(org_context(self.org))  # type: ignore[attr-defined]

    @property
    def member(self) -> User:
        """Who is asking: the member the token or session belongs to."""
        return self.membership.user

    @property
    def is_manager(self) -> bool:
        return self.membership.can_manage

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):  # the schema is made without a request
            return self.model.objects.none()  # type: ignore[attr-defined]
        return self.rows()

    def rows(self) -> Any:
        return self.model.objects.for_org(self.org)  # type: ignore[attr-defined]

    def filter_queryset(self, queryset: Any) -> Any:
        # Filters and ordering shape lists; a row asked for by id is found whatever they say.
        if self.detail:
            return queryset
        return super().filter_queryset(queryset)

    @property
    def expand(self) -> frozenset[str]:
        if not hasattr(self, "_expand"):
            raw = self.request.query_params.get("expand", "") if self.request else ""
            asked = frozenset(part.strip() for part in raw.split(",") if part.strip())
            unknown = asked - self.expandable
            if unknown:
                allowed = ", ".join(sorted(self.expandable)) or "nothing"
                raise exceptions.ValidationError(
                    {"expand": [f"Cannot expand {', '.join(sorted(unknown))}; allowed: {allowed}."]}
                )
            self._expand = asked
        return self._expand

    def get_serializer_context(self) -> dict[str, Any]:
        context = dict(super().get_serializer_context())
        if not getattr(self, "swagger_fake_view", False) and hasattr(self, "org"):
            context["org"] = self.org
            context["membership"] = self.membership
            context["expand"] = self.expand
        return context


class ExpandableField(serializers.Field):
    """A nested read that is null unless the client asked for it in ?expand=<name>."""

    def __init__(self, serializer: serializers.BaseSerializer, **kwargs: Any) -> None:
        self.inner = serializer
        kwargs.setdefault("read_only", True)
        kwargs.setdefault("source", "*")
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def bind(self, field_name: str, parent: serializers.BaseSerializer) -> None:
        super().bind(field_name, parent)
        self.inner.bind(field_name, parent)

    def get_attribute(self, instance: Any) -> Any:
        if self.field_name not in self.context.get("expand", ()):
            return None
        return getattr(instance, str(self.field_name)).all()

    def to_representation(self, value: Any) -> Any:
        return self.inner.to_representation(value)


class MemberSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(source="display_name", read_only=True)
    email = serializers.EmailField(read_only=True)


class MemberField(serializers.PrimaryKeyRelatedField):
    """A member of the request's organisation, by user id: anyone else is "not found"."""

    def get_queryset(self) -> Any:
        from organisations.selectors import members_of_org

        org = self.context.get("org")
        return members_of_org(org_id=org.pk) if org else User.objects.none()


class OrgRelatedField(serializers.PrimaryKeyRelatedField):
    """A row of the request's organisation by id; another organisation's id does not exist."""

    def __init__(self, model: type[models.Model], **kwargs: Any) -> None:
        self.related_model = model
        kwargs.setdefault("queryset", model.objects.none())  # type: ignore[attr-defined]
        super().__init__(**kwargs)

    def get_queryset(self) -> Any:
        org = self.context.get("org")
        if org is None:
            return self.related_model.objects.none()  # type: ignore[attr-defined]
        return self.related_model.objects.for_org(org)  # type: ignore[attr-defined]
