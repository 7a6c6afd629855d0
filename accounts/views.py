from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from accounts.forms import AccountForm
from accounts.models import Account
from accounts.selectors import account_list as select_accounts
from accounts.selectors import account_people
from accounts.services import account_save
from conversations.forms import LogInteractionForm
from conversations.selectors import (
    account_timeline,
    account_waiting_conversations,
    open_commitments,
)
from health.selectors import account_health, health_summaries
from organisations.selectors import members_of_org
from threadline.http import OrgRequest
from threadline.params import whole_number

TIMELINE_PAGE_SIZE = 20


def get_account(request: OrgRequest, account_id: int) -> Account:
    """The one lookup for an account in a view: 404 alike for missing and other organisations'."""
    return get_object_or_404(
        Account.objects.for_org(request.org).select_related("owner"), pk=account_id
    )


def account_list(request: OrgRequest):  # type: ignore[no-untyped-def]
    search = request.GET.get("q", "").strip()
    owner = request.GET.get("owner", "")
    accounts = select_accounts(org=request.org, search=search, owner_id=whole_number(owner))
    page = Paginator(accounts, 50).get_page(request.GET.get("page"))
    summaries = health_summaries(org=request.org, account_ids=[a.pk for a in page])
    for account in page:
        account.health_summary = summaries.get(account.pk)  # type: ignore[attr-defined]
    context = {
        "page": page,
        "search": search,
        "owner": owner,
        "members": members_of_org(org_id=request.org.pk),
    }
    template = "accounts/account_list.html"
    return render(request, template + "#account-rows" if request.htmx else template, context)


@require_http_methods(["GET", "POST"])
def account_create(request: OrgRequest):  # type: ignore[no-untyped-def]
    form = AccountForm(request.POST or None, org=request.org, initial={"owner": request.user})
    if form.is_valid():
        data = form.cleaned_data
        account = account_save(
            org=request.org,
            domains=data.pop("domains"),
            **{name: data[name] for name in AccountForm.Meta.fields},
        )
        return redirect("account_detail", org_slug=request.org.slug, account_id=account.pk)
    return render(
        request, "accounts/account_form.html", {"form": form}, status=422 if form.errors else 200
    )


@require_http_methods(["GET", "POST"])
def account_edit(request: OrgRequest, account_id: int):  # type: ignore[no-untyped-def]
    account = get_account(request, account_id)
    form = AccountForm(request.POST or None, instance=account, org=request.org)
    if form.is_valid():
        data = form.cleaned_data
        account_save(
            org=request.org,
            account=account,
            domains=data.pop("domains"),
            **{name: data[name] for name in AccountForm.Meta.fields},
        )
        return redirect("account_detail", org_slug=request.org.slug, account_id=account.pk)
    return render(
        request,
        "accounts/account_form.html",
        {"form": form, "account": account},
        status=422 if form.errors else 200,
    )


def account_detail(request: OrgRequest, account_id: int):  # type: ignore[no-untyped-def]
    account = get_account(request, account_id)
    page = Paginator(
        account_timeline(org=request.org, account=account), TIMELINE_PAGE_SIZE
    ).get_page(request.GET.get("page"))
    context = {"account": account, "page": page}
    if request.htmx and request.GET.get("page"):
        return render(request, "accounts/account_detail.html#timeline-page", context)
    context |= {
        "people": account_people(org=request.org, account=account),
        "domains": account.domains.order_by("domain"),
        "commitments": open_commitments(org=request.org, account=account, with_suggestions=True),
        "waiting": account_waiting_conversations(org=request.org, account=account),
        "log_form": LogInteractionForm(org=request.org, account=account),
        "health": account_health(org=request.org, account=account),
        "open_changes": "changes" in request.GET,
    }
    return render(request, "accounts/account_detail.html", context)
