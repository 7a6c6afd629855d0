from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from organisations.selectors import memberships_of_user


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Where a user lands after login: their only organisation, or the choice of them."""
    memberships = list(memberships_of_user(user=request.user))  # type: ignore[arg-type]
    if len(memberships) == 1:
        return redirect("org_home", org_slug=memberships[0].organisation.slug)
    return render(request, "organisations/choose.html", {"memberships": memberships})
