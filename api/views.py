"""The personal API tokens page: each member's own tokens for this organisation."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods, require_POST

from api.forms import ApiTokenForm
from api.models import ApiToken
from api.services import api_token_create, api_token_revoke
from threadline.http import OrgRequest, show_once_on_next_page, shown_once


@require_http_methods(["GET", "POST"])
def api_tokens(request: OrgRequest) -> HttpResponse:
    form = ApiTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        _token, secret = api_token_create(
            membership=request.membership,
            name=form.cleaned_data["name"],
            expires_at=form.expires_at,
        )
        show_once_on_next_page(request, f"api_token:{request.org.pk}", secret)
        return redirect("api_tokens", org_slug=request.org.slug)
    secret = shown_once(request, f"api_token:{request.org.pk}")
    tokens = ApiToken.objects.filter(membership=request.membership).order_by("-created_at")
    response = render(
        request,
        "api/tokens.html",
        {"form": form, "tokens": tokens, "secret": secret},
        status=422 if form.errors else 200,
    )
    if secret:
        add_never_cache_headers(response)  # nor kept by the browser's cache or "back"
    return response


@require_POST
def api_token_revoke_view(request: OrgRequest, token_id: int) -> HttpResponse:
    # Only your own tokens: another member's (or organisation's) is a 404 like any other.
    token = get_object_or_404(ApiToken, pk=token_id, membership=request.membership)
    api_token_revoke(token=token)
    return redirect("api_tokens", org_slug=request.org.slug)
