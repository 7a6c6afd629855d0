from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from accounts.selectors import account_list
from accounts.views import TIMELINE_PAGE_SIZE, get_account
from conversations.forms import (
    CommitmentForm,
    LogInteractionForm,
    MergeConversationForm,
    MoveMessageForm,
)
from conversations.models import Commitment, Conversation, Message
from conversations.selectors import (
    account_timeline,
    conversation_merged_into,
    conversation_messages,
    messages_after,
    open_commitments,
    recent_messages,
    related_conversations,
)
from conversations.services import (
    RecordError,
    commitment_add,
    conversation_merge,
    conversation_split,
    message_move,
    message_move_to_new,
)
from conversations.services import commitment_set_state as set_state
from conversations.services import interaction_log as log_interaction
from threadline.http import OrgRequest
from threadline.params import whole_number


def get_conversation(request: OrgRequest, conversation_id: int) -> Conversation:
    conversations = Conversation.objects.for_org(request.org).select_related("account", "owner")
    return get_object_or_404(conversations, pk=conversation_id)


def org_home(request: OrgRequest):  # type: ignore[no-untyped-def]
    """Where members land: what needs them first, then their promises, accounts and the news."""
    from followups.forms import SnoozeForm
    from followups.selectors import member_queue

    org, user = request.org, request.user
    context = {
        "items": member_queue(org=org, owner=user),
        "owner": user,
        "is_mine": True,
        "snooze_form": SnoozeForm(org=org),
        "my_accounts": account_list(org=org, owner_id=user.pk)[:10],
        "our_promises": open_commitments(org=org, owner=user).filter(owed_by=Commitment.OwedBy.US)[
            :10
        ],
        "recent": recent_messages(org=org),
    }
    return render(request, "conversations/org_home.html", context)


def _log(request: OrgRequest, form: LogInteractionForm) -> bool:
    if not form.is_valid():
        return False
    data = form.cleaned_data
    try:
        log_interaction(
            org=request.org,
            account=form.account,
            author=request.user,
            conversation=form.conversation_choice,
            kind=data["kind"],
            initiated_by=data.get("initiated_by") or "outbound",
            subject=data.get("subject", ""),
            body=data["body"],
            occurred_at=data["occurred_at"],
            contacts=list(data["contacts"]),
            we_owe=data["we_owe"],
            we_owe_due=data["we_owe_due"],
            they_owe=data["they_owe"],
            they_owe_due=data["they_owe_due"],
        )
    except RecordError as error:
        form.add_error(None, str(error))
        return False
    return True


@require_http_methods(["GET", "POST"])
def interaction_log(request: OrgRequest, account_id: int):  # type: ignore[no-untyped-def]
    """Log a call, meeting or note on an account. With htmx, answers the form and the timeline."""
    account = get_account(request, account_id)
    form = LogInteractionForm(request.POST or None, org=request.org, account=account)
    if request.method == "POST" and _log(request, form):
        if not request.htmx:
            return redirect("account_detail", org_slug=request.org.slug, account_id=account.pk)
        page = Paginator(
            account_timeline(org=request.org, account=account), TIMELINE_PAGE_SIZE
        ).get_page(1)
        fresh_form = LogInteractionForm(org=request.org, account=account)
        return render(
            request,
            "conversations/_logged.html",
            {"account": account, "page": page, "log_form": fresh_form,
             "commitments": open_commitments(
                 org=request.org, account=account, with_suggestions=True
             )},
        )  # fmt: skip
    template = "conversations/_log_form.html" if request.htmx else "conversations/log_page.html"
    return render(
        request,
        template,
        {"account": account, "log_form": form, "action": request.path},
        status=422 if form.errors else 200,
    )


def _conversation_context(request: OrgRequest, conversation: Conversation) -> dict[str, object]:
    from followups.forms import ReassignForm
    from followups.models import FollowUp

    org = request.org
    return {
        "conversation": conversation,
        "followups": FollowUp.objects.for_org(org)
        .filter(conversation=conversation, resolved_at=None)
        .select_related("owner"),
        "commitment_form": CommitmentForm(),
        "reassign_form": ReassignForm(org=org, initial={"owner": conversation.owner_id}),
        "may_reassign": request.membership.can_manage or conversation.owner_id == request.user.pk,
        "account": conversation.account,
        "thread_messages": conversation_messages(org=org, conversation=conversation),
        "commitments": open_commitments(org=org, conversation=conversation, with_suggestions=True),
        "log_form": LogInteractionForm(
            org=org, account=conversation.account, conversation=conversation
        ),
    }


def conversation_detail(request: OrgRequest, conversation_id: int):  # type: ignore[no-untyped-def]
    try:
        conversation = get_conversation(request, conversation_id)
    except Http404:
        # A conversation merged into another one: its old links lead to where it went.
        into = conversation_merged_into(org=request.org, conversation_id=conversation_id)
        if into is None:
            raise
        return redirect("conversation_detail", org_slug=request.org.slug, conversation_id=into)
    context = _conversation_context(request, conversation)
    context["related"] = related_conversations(org=request.org, conversation=conversation)
    return render(request, "conversations/conversation_detail.html", context)


@require_http_methods(["GET", "POST"])
def conversation_log(request: OrgRequest, conversation_id: int):  # type: ignore[no-untyped-def]
    conversation = get_conversation(request, conversation_id)
    form = LogInteractionForm(
        request.POST or None,
        org=request.org,
        account=conversation.account,
        conversation=conversation,
    )
    if request.method == "POST" and _log(request, form):
        if not request.htmx:
            return redirect(
                "conversation_detail", org_slug=request.org.slug, conversation_id=conversation.pk
            )
        return render(
            request,
            "conversations/_conversation_logged.html",
            _conversation_context(request, conversation),
        )
    template = "conversations/_log_form.html" if request.htmx else "conversations/log_page.html"
    return render(
        request,
        template,
        {"account": conversation.account, "conversation": conversation, "log_form": form,
         "action": request.path},
        status=422 if form.errors else 200,
    )  # fmt: skip


@require_POST
def commitment_set_state(request: OrgRequest, commitment_id: int, state: str) -> HttpResponse:
    commitment = get_object_or_404(
        Commitment.objects.for_org(request.org).select_related("conversation"), pk=commitment_id
    )
    kept_by = None
    if request.POST.get("message"):
        # The message that keeps the promise: one of this conversation's, or a clear refusal.
        kept_by = (
            Message.objects.for_org(request.org)
            .filter(conversation_id=commitment.conversation_id, pk=request.POST["message"])
            .first()
            if whole_number(request.POST["message"]) is not None
            else None
        )
        if kept_by is None:
            return HttpResponse("Choose a message of this conversation.", status=422)
    try:
        set_state(org=request.org, commitment=commitment, state=state, kept_by_message=kept_by)
    except RecordError as error:
        return HttpResponse(str(error), status=422)
    if request.htmx:
        return render(request, "conversations/_commitment.html", {"commitment": commitment})
    return redirect(
        "conversation_detail", org_slug=request.org.slug, conversation_id=commitment.conversation_id
    )


@require_POST
def commitment_create(request: OrgRequest, conversation_id: int) -> HttpResponse:
    conversation = get_conversation(request, conversation_id)
    form = CommitmentForm(request.POST)
    if form.is_valid():
        commitment_add(
            org=request.org, conversation=conversation, by=request.user, **form.cleaned_data
        )
        if not request.htmx:
            return redirect(
                "conversation_detail", org_slug=request.org.slug, conversation_id=conversation.pk
            )
        form = CommitmentForm()
    context = {
        "conversation": conversation,
        "commitments": open_commitments(
            org=request.org, conversation=conversation, with_suggestions=True
        ),
        "commitment_form": form,
    }
    return render(
        request,
        "conversations/_conversation_commitments.html",
        context,
        status=422 if form.errors else 200,
    )


def get_message(request: OrgRequest, message_id: int) -> Message:
    messages_ = Message.objects.for_org(request.org).select_related(
        "conversation", "conversation__account"
    )
    return get_object_or_404(messages_, pk=message_id)


def _posted(request: OrgRequest) -> QueryDict | None:
    """The posted data, even when empty: an empty POST is a form to validate, not a GET."""
    return request.POST if request.method == "POST" else None


def _go_to(request: OrgRequest, conversation_id: int) -> HttpResponse:
    """After a change to where messages are, show a conversation page afresh."""
    url = reverse(
        "conversation_detail",
        kwargs={"org_slug": request.org.slug, "conversation_id": conversation_id},
    )
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


def _render_action(  # type: ignore[no-untyped-def]
    request: OrgRequest, template: str, partial: str, context: dict[str, object], failed: bool
):
    """An action's form: its own page, or (htmx) only the form, in place on the thread page."""
    name = f"{template}#{partial}" if request.htmx else template
    return render(request, name, context, status=422 if failed else 200)


@require_http_methods(["GET", "POST"])
def message_move_view(request: OrgRequest, message_id: int):  # type: ignore[no-untyped-def]
    """Move a message to another conversation (of any account) or to a new one."""
    message = get_message(request, message_id)
    form = MoveMessageForm(_posted(request), org=request.org, message=message)
    if request.method == "POST" and form.is_valid():
        target = form.cleaned_data["target"]
        try:
            if target is None:
                moved = message_move_to_new(org=request.org, message=message, by=request.user)
            else:
                moved = message_move(
                    org=request.org, message=message, to_conversation=target, by=request.user
                )
        except RecordError as error:
            form.add_error(None, str(error))
        else:
            where = moved.message.conversation
            messages.success(request, f"Moved “{message}” to “{where.subject}”.")
            stay = where.pk if moved.source_removed else message.conversation_id
            return _go_to(request, stay)
    context = {"message": message, "conversation": message.conversation, "form": form}
    return _render_action(
        request, "conversations/message_move.html", "move-form", context, bool(form.errors)
    )


@require_http_methods(["GET", "POST"])
def conversation_split_view(request: OrgRequest, message_id: int):  # type: ignore[no-untyped-def]
    """Split a conversation from this message on: it and every later one start a new one."""
    message = get_message(request, message_id)
    conversation = message.conversation
    error = ""
    if request.method == "POST":
        try:
            continued = conversation_split(
                org=request.org, conversation=conversation, from_message=message, by=request.user
            )
        except RecordError as failure:
            error = str(failure)
        else:
            messages.success(request, f"Split from “{conversation.subject}”.")
            return _go_to(request, continued.pk)
    later = messages_after(org=request.org, message=message).count()
    context = {"message": message, "conversation": conversation, "later": later, "error": error}
    return _render_action(
        request, "conversations/conversation_split.html", "split-form", context, bool(error)
    )


@require_http_methods(["GET", "POST"])
def conversation_merge_view(request: OrgRequest, conversation_id: int):  # type: ignore[no-untyped-def]
    """Merge another of the account's conversations into this one."""
    conversation = get_conversation(request, conversation_id)
    form = MergeConversationForm(_posted(request), org=request.org, conversation=conversation)
    if request.method == "POST" and form.is_valid():
        other = form.cleaned_data["other"]
        try:
            conversation_merge(org=request.org, into=conversation, other=other, by=request.user)
        except RecordError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"Merged “{other.subject}” into this conversation.")
            return _go_to(request, conversation.pk)
    context = {"conversation": conversation, "form": form}
    return _render_action(
        request, "conversations/conversation_merge.html", "merge-form", context, bool(form.errors)
    )
