"""Search over the API: the same matching, filters and highlights as the search page."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from api.base import OrgViewSet
from conversations.models import Message
from search.forms import SearchForm
from search.selectors import MAX_OFFSET, PAGE_SIZE, search_everything
from threadline.params import whole_number

# The last page the search can skip to (its offset is a PostgreSQL integer).
MAX_PAGE = MAX_OFFSET // PAGE_SIZE + 1


class MessageHitSerializer(serializers.ModelSerializer):
    subject_highlighted = serializers.CharField(
        source="subject_html", help_text="The subject, HTML-escaped, with matches in <mark>."
    )
    snippet_highlighted = serializers.CharField(
        source="body_html_snippet", help_text="Passages of the text, escaped, matches in <mark>."
    )

    class Meta:
        model = Message
        fields = (
            "id", "conversation", "account", "kind", "direction", "occurred_at", "subject",
            "subject_highlighted", "snippet_highlighted",
        )  # fmt: skip


class NamedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="__str__")


class SearchResultSerializer(serializers.Serializer):
    query = serializers.CharField()
    page = serializers.IntegerField()
    total = serializers.IntegerField(help_text="Messages matching in all.")
    next_page = serializers.IntegerField(allow_null=True)
    messages = MessageHitSerializer(many=True)
    accounts = NamedSerializer(many=True, help_text="Accounts by name or domain.")
    contacts = NamedSerializer(many=True, help_text="People by name or address.")


_PARAMETERS = [
    OpenApiParameter(
        "q", str, required=True, description='Web-search syntax: "a phrase", -word, or.'
    ),
    OpenApiParameter("account", int),
    OpenApiParameter("person", int, description="A contact's id."),
    OpenApiParameter("kind", str, enum=Message.Kind.values),
    OpenApiParameter("direction", str, enum=Message.Direction.values),
    OpenApiParameter("since", str, description="A date, YYYY-MM-DD."),
    OpenApiParameter("until", str, description="A date, YYYY-MM-DD."),
    OpenApiParameter("owner", int, description="The conversation owner's user id."),
    OpenApiParameter("order", str, enum=["best", "newest"]),
    OpenApiParameter("page", int),
]  # fmt: skip


class SearchViewSet(OrgViewSet):
    model = Message
    # One numbered page of hits, like the search page.
    pagination_class = None  # type: ignore[assignment]
    filter_backends = ()  # type: ignore[assignment]

    @extend_schema(parameters=_PARAMETERS, responses={200: SearchResultSerializer})
    def search(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Messages matching the query, best match (or newest) first, with highlights."""
        form = SearchForm(request.query_params, org=self.org)
        if not form.is_valid():
            # The form's messages, as strings like every other error body's fields.
            raise serializers.ValidationError(
                {
                    "non_field_errors" if name == "__all__" else name: [str(m) for m in messages]
                    for name, messages in form.errors.items()
                }
            )
        q = form.cleaned_data["q"].strip()
        if not q:
            raise serializers.ValidationError({"q": ["Say what to look for."]})
        number = whole_number(request.query_params.get("page", "1"))
        if number is None or not 1 <= number <= MAX_PAGE:
            raise serializers.ValidationError({"page": [f"A page number from 1 to {MAX_PAGE}."]})
        found = search_everything(org=self.org, q=q, filters=form.filters, page=number)
        page = found.page
        result = {
            "query": q,
            "page": page.number,
            "total": page.total,
            "next_page": page.next_page_number if page.has_next else None,
            "messages": page.hits,
            "accounts": found.accounts,
            "contacts": found.people,
        }
        return Response(SearchResultSerializer(result).data)
