from __future__ import annotations

import csv
from collections.abc import Iterator

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from health import model
from health.forms import HealthSettingsForm
from health.models import HealthSettings
from health.selectors import (
    DashboardFilters,
    dashboard_rows,
    health_summaries,
    latest_day,
    owner_summaries,
)
from health.services import health_settings_save
from organisations.models import Role
from organisations.selectors import members_of_org
from threadline.http import OrgRequest
from threadline.params import whole_number

PAGE_SIZE = 50


def _require_manager(request: OrgRequest) -> None:
    if not request.membership.can_manage:
        raise Http404("Only managers and admins can see the health dashboard.")


def _filters(request: OrgRequest) -> DashboardFilters:
    owner = request.GET.get("owner", "")
    band = request.GET.get("band", "")
    flag = request.GET.get("flag", "")
    return DashboardFilters(
        owner_id=whole_number(owner),
        band=band if band in model.BAND_LABELS else "",
        flag=flag if flag in model.FLAG_LABELS else "",
    )


def health_dashboard(request: OrgRequest) -> HttpResponse:
    """Managers: every account's health, largest drop first, with flags and owner summaries."""
    _require_manager(request)
    filters = _filters(request)
    day = latest_day(org=request.org)
    context: dict = {
        "filters": filters,
        "members": members_of_org(org_id=request.org.pk),
        "bands": model.BAND_LABELS,
        "flags": model.FLAG_LABELS,
        "day": day,
        "query": request.GET.urlencode(),
    }
    if day is not None:
        rows = dashboard_rows(org=request.org, day=day, filters=filters)
        page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
        summaries = health_summaries(
            org=request.org, account_ids=[row.account_id for row in page], today=day
        )
        for row in page:
            row.summary = summaries.get(row.account_id)  # type: ignore[attr-defined]
            row.flag_labels = [model.FLAG_LABELS[f] for f in row.flags]  # type: ignore[attr-defined]
        context |= {"page": page, "owners": owner_summaries(org=request.org, day=day)}
    template = "health/dashboard.html"
    return render(request, template + "#dashboard-rows" if request.htmx else template, context)


class _Echo:
    def write(self, value: str) -> str:
        return value


def health_export(request: OrgRequest) -> StreamingHttpResponse | HttpResponse:
    """The dashboard's rows (same filters) as CSV, streamed."""
    _require_manager(request)
    day = latest_day(org=request.org)
    filters = _filters(request)
    writer = csv.writer(_Echo())
    header = ["account", "owner", "day", "score", "band", "change_30_days", "flags",
              *model.COMPONENTS]  # fmt: skip

    def lines() -> Iterator[str]:
        yield writer.writerow(header)
        if day is None:
            return
        for row in dashboard_rows(org=request.org, day=day, filters=filters).iterator(500):
            owner = row.account.owner
            yield writer.writerow(
                [
                    row.account.name, owner.display_name if owner else "", row.day,
                    "" if row.score is None else row.score, model.BAND_LABELS[row.band],
                    "" if row.change is None else row.change,  # type: ignore[attr-defined]
                    " ".join(row.flags),
                    *(f"{getattr(row, key):.3f}" for key in model.COMPONENTS),
                ]
            )  # fmt: skip

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="health-{request.org.slug}.csv"'
    return response


@require_http_methods(["GET", "POST"])
def health_settings(request: OrgRequest) -> HttpResponse:
    """Admins: weights, half-life and thresholds. Saving rebuilds the last 90 days."""
    if request.membership.role != Role.ADMIN:
        raise Http404("Only admins can change the organisation's settings.")
    current = HealthSettings.objects.for_org(request.org).first() or HealthSettings()
    form = HealthSettingsForm(request.POST or None, instance=current)
    if form.is_valid():
        health_settings_save(
            org=request.org, **{name: form.cleaned_data[name] for name in form.Meta.fields}
        )
        messages.success(request, "Health settings saved; the last 90 days are being recomputed.")
        return redirect("health_settings", org_slug=request.org.slug)
    return render(
        request, "health/settings.html", {"form": form}, status=422 if form.errors else 200
    )
