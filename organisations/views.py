from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from organisations.forms import BusinessHoursForm, HolidayForm
from organisations.models import Holiday, Role
from organisations.selectors import memberships_of_user
from organisations.services import holiday_add
from search.tasks import reindex_messages
from threadline.http import OrgRequest


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Where a user lands after login: their only organisation, or the choice of them."""
    memberships = list(memberships_of_user(user=request.user))  # type: ignore[arg-type]
    if len(memberships) == 1:
        return redirect("org_home", org_slug=memberships[0].organisation.slug)
    return render(request, "organisations/choose.html", {"memberships": memberships})


@require_http_methods(["GET", "POST"])
def organisation_settings(request: OrgRequest) -> HttpResponse:
    """Admins: business hours, reply target and holidays."""
    if request.membership.role != Role.ADMIN:
        raise Http404("Only admins can change the organisation's settings.")
    org = request.org
    hours = BusinessHoursForm(request.POST or None, instance=org, prefix="hours")
    holiday = HolidayForm(request.POST or None, prefix="holiday")
    if request.method == "POST":
        if "hours-time_zone" in request.POST and hours.is_valid():
            language_changed = "search_language" in hours.changed_data
            hours.save()
            if language_changed:  # every message is indexed again in the new language
                reindex_messages.delay_on_commit(org.pk)
            messages.success(request, "Business hours saved; they apply to turns from now on.")
            return redirect("organisation_settings", org_slug=org.slug)
        if "holiday-date" in request.POST and holiday.is_valid():
            holiday_add(org=org, **holiday.cleaned_data)
            return redirect("organisation_settings", org_slug=org.slug)
    invalid = request.method == "POST"
    return render(
        request,
        "organisations/settings.html",
        {
            "hours_form": hours if "hours-time_zone" in request.POST else
            BusinessHoursForm(instance=org, prefix="hours"),
            "holiday_form": holiday if "holiday-date" in request.POST else
            HolidayForm(prefix="holiday"),
            "holidays": Holiday.objects.for_org(org).order_by("date"),
        },
        status=422 if invalid else 200,
    )  # fmt: skip


@require_POST
def holiday_delete(request: OrgRequest, holiday_id: int) -> HttpResponse:
    if request.membership.role != Role.ADMIN:
        raise Http404("Only admins can change the organisation's settings.")
    get_object_or_404(Holiday.objects.for_org(request.org), pk=holiday_id).delete()
    return redirect("organisation_settings", org_slug=request.org.slug)
