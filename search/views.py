from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render

from search.forms import SearchForm
from search.selectors import (
    search_accounts,
    search_contacts,
    search_conversations,
    search_everything,
)
from threadline.http import OrgRequest
from threadline.params import whole_number


def search_page(request: OrgRequest) -> HttpResponse:
    """The search page: accounts, people and messages matching, messages filterable."""
    org = request.org
    form = SearchForm(request.GET or None, org=org)
    context: dict[str, object] = {"form": form}
    if form.is_valid() and form.cleaned_data["q"].strip():
        found = search_everything(
            org=org, q=form.cleaned_data["q"].strip(), filters=form.filters,
            page=whole_number(request.GET.get("page", "1")) or 1,
        )  # fmt: skip
        context |= {
            "q": found.q, "page": found.page, "accounts": found.accounts, "people": found.people,
        }  # fmt: skip
    if request.htmx and request.GET.get("page"):
        return render(request, "search/search.html#results", context)
    return render(request, "search/search.html", context, status=422 if form.errors else 200)


def quick_jump(request: OrgRequest) -> HttpResponse:
    """As you type in the header box: a few accounts, people and conversations to jump to."""
    org = request.org
    q = request.GET.get("q", "").strip()[:300]
    context: dict[str, object] = {"q": q}
    if q:
        context |= {
            "accounts": search_accounts(org=org, q=q)[:5],
            "people": search_contacts(org=org, q=q)[:5],
            "conversations": search_conversations(org=org, q=q),
        }
    return render(request, "search/_jump.html", context)
