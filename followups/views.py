from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from conversations.services import RecordError
from conversations.views import get_conversation
from followups.forms import HandoverForm, ReassignForm, SnoozeForm
from followups.models import FollowUp
from followups.selectors import member_queue, team_counts
from followups.services import (
    conversation_reassign,
    followup_resolve,
    followup_snooze,
    member_handover,
)
from organisations.models import User
from threadline.http import OrgRequest
from threadline.params import whole_number


def _require_manager(request: OrgRequest) -> None:
    if not request.membership.can_manage:
        raise Http404("Only managers and admins can do that here.")


def _queue_owner(request: OrgRequest) -> User:
    """Your own queue; managers may look at any member's (?member=<user id>)."""
    member_id = request.GET.get("member") or request.POST.get("member")
    if not member_id or str(member_id) == str(request.user.pk):
        return request.user
    _require_manager(request)
    members = User.objects.filter(memberships__organisation=request.org)
    return get_object_or_404(members, pk=whole_number(str(member_id)) or 0)


def _render_queue(
    request: OrgRequest, owner: User, status: int = 200, error: str = ""
) -> HttpResponse:
    context = {
        "error": error,
        "owner": owner,
        "items": member_queue(org=request.org, owner=owner),
        "snooze_form": SnoozeForm(org=request.org),
        "is_mine": owner.pk == request.user.pk,
    }
    template = "followups/queue.html#queue" if request.htmx else "followups/queue.html"
    return render(request, template, context, status=status)


def followup_queue(request: OrgRequest) -> HttpResponse:
    return _render_queue(request, _queue_owner(request))


def _get_followup(request: OrgRequest, followup_id: int) -> FollowUp:
    """Your own items; managers may act on anyone's. 404 alike for missing and forbidden."""
    followups = FollowUp.objects.for_org(request.org).filter(resolved_at=None)
    if not request.membership.can_manage:
        followups = followups.filter(owner=request.user)
    return get_object_or_404(followups, pk=followup_id)


def _after_action(request: OrgRequest, followup: FollowUp) -> HttpResponse:
    if request.htmx:
        owner = followup.owner or request.user
        return _render_queue(request, owner)
    return redirect("followup_queue", org_slug=request.org.slug)


@require_POST
def followup_snooze_view(request: OrgRequest, followup_id: int) -> HttpResponse:
    followup = _get_followup(request, followup_id)
    form = SnoozeForm(request.POST, org=request.org)
    if not form.is_valid():
        error = "; ".join(str(e) for errors in form.errors.values() for e in errors)
        return _render_queue(request, followup.owner or request.user, status=422, error=error)
    followup_snooze(
        org=request.org, followup=followup, until=form.cleaned_data["until"], by=request.user
    )
    return _after_action(request, followup)


@require_POST
def followup_resolve_view(request: OrgRequest, followup_id: int, resolution: str) -> HttpResponse:
    followup = _get_followup(request, followup_id)
    try:
        followup_resolve(org=request.org, followup=followup, resolution=resolution, by=request.user)
    except RecordError as error:
        return _render_queue(request, followup.owner or request.user, status=422, error=str(error))
    return _after_action(request, followup)


@require_POST
def conversation_reassign_view(request: OrgRequest, conversation_id: int) -> HttpResponse:
    conversation = get_conversation(request, conversation_id)
    if conversation.owner_id != request.user.pk:
        _require_manager(request)
    form = ReassignForm(request.POST, org=request.org)
    if not form.is_valid():
        return HttpResponse("; ".join(str(e) for e in form.errors.get("owner", [])), status=422)
    conversation_reassign(
        org=request.org, conversation=conversation, owner=form.cleaned_data["owner"]
    )
    messages.success(
        request, f"{conversation.subject} is now {form.cleaned_data['owner'].display_name}’s."
    )
    return redirect(
        "conversation_detail", org_slug=request.org.slug, conversation_id=conversation.pk
    )


@require_http_methods(["GET", "POST"])
def team(request: OrgRequest) -> HttpResponse:
    """Managers: everyone's open items at a glance, and handing a member's work over."""
    _require_manager(request)
    form = HandoverForm(request.POST or None, org=request.org)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            moved = member_handover(
                org=request.org, from_user=data["from_user"], to_user=data["to_user"]
            )
        except RecordError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                f"Handed over to {data['to_user'].display_name}: {moved['accounts']} accounts, "
                f"{moved['conversations']} conversations, {moved['followups']} follow-ups.",
            )
            return redirect("team", org_slug=request.org.slug)
    counts = team_counts(org=request.org)
    members = User.objects.filter(memberships__organisation=request.org).order_by(
        "full_name", "email"
    )
    rows = [
        (member, counts.get(member.pk, {}), sum(counts.get(member.pk, {}).values()))
        for member in members
    ]
    return render(
        request,
        "followups/team.html",
        {"rows": rows, "unowned": counts.get(None, {}), "form": form, "reasons": FollowUp.Reason},
        status=422 if form.errors else 200,
    )
