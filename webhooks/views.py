"""Admins' webhook pages, under /o/<slug>/settings/webhooks/ (404 for everyone else)."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods, require_POST

from organisations.models import Role
from threadline.http import OrgRequest, show_once_on_next_page, shown_once
from webhooks.forms import PrivateAddressesForm, WebhookForm
from webhooks.models import Webhook, WebhookDelivery
from webhooks.services import (
    delivery_redeliver,
    webhook_create,
    webhook_delete,
    webhook_send_test,
    webhook_set_active,
)


def _admin_only(request: OrgRequest) -> None:
    if request.membership.role != Role.ADMIN:
        raise Http404("Only admins can change the organisation's settings.")


def _webhook(request: OrgRequest, webhook_id: int) -> Webhook:
    _admin_only(request)
    return get_object_or_404(Webhook.objects.for_org(request.org), pk=webhook_id)


@require_http_methods(["GET", "POST"])
def webhook_list(request: OrgRequest) -> HttpResponse:
    """The organisation's webhooks, and whether they may call private addresses."""
    _admin_only(request)
    # Bound on every POST: an unticked checkbox posts nothing, and that must save "off".
    data = request.POST if request.method == "POST" else None
    policy = PrivateAddressesForm(data, instance=request.org)
    if request.method == "POST" and policy.is_valid():
        policy.save()
        messages.success(request, "Webhook settings saved.")
        return redirect("webhook_list", org_slug=request.org.slug)
    webhooks = Webhook.objects.for_org(request.org).annotate(
        failed=Count("deliveries", filter=Q(deliveries__status=WebhookDelivery.Status.FAILED)),
        pending=Count("deliveries", filter=Q(deliveries__status=WebhookDelivery.Status.PENDING)),
    )
    return render(
        request,
        "webhooks/webhook_list.html",
        {"webhooks": webhooks, "policy_form": policy},
        status=422 if policy.errors else 200,
    )


@require_http_methods(["GET", "POST"])
def webhook_create_view(request: OrgRequest) -> HttpResponse:
    _admin_only(request)
    form = WebhookForm(request.POST if request.method == "POST" else None, org=request.org)
    if request.method == "POST" and form.is_valid():
        created = webhook_create(
            org=request.org,
            url=form.cleaned_data["url"],
            events=form.cleaned_data["events"],
            by=request.user,
        )
        show_once_on_next_page(request, _secret_key(request, created.webhook.pk), created.secret)
        return redirect("webhook_created", org_slug=request.org.slug, webhook_id=created.webhook.pk)
    return render(
        request, "webhooks/webhook_form.html", {"form": form}, status=422 if form.errors else 200
    )


def _secret_key(request: OrgRequest, webhook_id: int) -> str:
    return f"webhook:{request.org.pk}:{webhook_id}"


def webhook_created(request: OrgRequest, webhook_id: int) -> HttpResponse:
    """The new webhook's signing secret, shown once: it is stored encrypted and never again."""
    webhook = _webhook(request, webhook_id)
    secret = shown_once(request, _secret_key(request, webhook.pk))
    if not secret:  # shown already (a refresh), or another admin's browser
        return redirect("webhook_detail", org_slug=request.org.slug, webhook_id=webhook.pk)
    response = render(
        request, "webhooks/webhook_created.html", {"webhook": webhook, "secret": secret}
    )
    add_never_cache_headers(response)  # nor kept by the browser's cache or "back"
    return response


def webhook_detail(request: OrgRequest, webhook_id: int) -> HttpResponse:
    """The webhook and its delivery log, newest first (the log alone for htmx refreshes)."""
    webhook = _webhook(request, webhook_id)
    deliveries = WebhookDelivery.objects.for_org(request.org).filter(webhook=webhook)
    page = Paginator(deliveries.order_by("-created_at", "-id"), 50).get_page(
        request.GET.get("page")
    )
    # The log refreshes itself only while something on it is still on its way.
    polling = any(d.status == WebhookDelivery.Status.PENDING for d in page)
    context = {"webhook": webhook, "page": page, "polling": polling}
    if request.htmx:
        return render(request, "webhooks/_deliveries.html", context)
    return render(request, "webhooks/webhook_detail.html", context)


@require_POST
def webhook_toggle(request: OrgRequest, webhook_id: int) -> HttpResponse:
    webhook = _webhook(request, webhook_id)
    webhook_set_active(org=request.org, webhook=webhook, active=not webhook.is_active)
    messages.success(request, "Webhook enabled." if webhook.is_active else "Webhook disabled.")
    return redirect("webhook_detail", org_slug=request.org.slug, webhook_id=webhook.pk)


@require_POST
def webhook_delete_view(request: OrgRequest, webhook_id: int) -> HttpResponse:
    webhook = _webhook(request, webhook_id)
    webhook_delete(org=request.org, webhook=webhook)
    messages.success(request, f"Webhook to {webhook.url} deleted.")
    return redirect("webhook_list", org_slug=request.org.slug)


@require_POST
def webhook_test(request: OrgRequest, webhook_id: int) -> HttpResponse:
    webhook = _webhook(request, webhook_id)
    webhook_send_test(org=request.org, webhook=webhook, by=request.user)
    messages.success(request, "Test event queued; its delivery shows below.")
    return redirect("webhook_detail", org_slug=request.org.slug, webhook_id=webhook.pk)


@require_POST
def delivery_redeliver_view(request: OrgRequest, delivery_id: int) -> HttpResponse:
    _admin_only(request)
    delivery = get_object_or_404(WebhookDelivery.objects.for_org(request.org), pk=delivery_id)
    delivery_redeliver(org=request.org, delivery=delivery)
    messages.success(request, "Sent again as a new delivery with the same event id.")
    return redirect("webhook_detail", org_slug=request.org.slug, webhook_id=delivery.webhook_id)
