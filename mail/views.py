from datetime import date
from typing import Any
from urllib.parse import quote

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from conversations.models import Conversation, Message
from conversations.services import RecordError
from mail.forms import ComposeForm, FileUnsortedForm, MailboxForm
from mail.imap import MailboxError
from mail.models import (
    INLINE_IMAGE_TYPES,
    Attachment,
    DraftAttachment,
    EmailDraft,
    Mailbox,
    QuarantinedEmail,
    UnsortedEmail,
    bytes_are_image_of_type,
)
from mail.outbound import SendError
from mail.parsing import _MIME_TYPE, AttachmentPart, safe_filename
from mail.secrets import decrypt_secret
from mail.selectors import mailboxes_of, open_quarantine, unsorted_waiting
from mail.services import (
    AttachmentLimitError,
    connection_test,
    draft_attach,
    draft_attachments,
    draft_save,
    email_send,
    email_start,
    mailbox_save,
    outbound_retry,
    quarantine_retry,
    reply_target,
    sending_mailbox,
    smtp_connection_test,
    unsorted_dismiss,
    unsorted_file,
)
from mail.tasks import sync_mailbox
from threadline.http import OrgRequest


def get_own_mailbox(request: OrgRequest, mailbox_id: int) -> Mailbox:
    """Each member manages their own mailboxes; another member's is a 404 like any other."""
    return get_object_or_404(
        Mailbox.objects.for_org(request.org).filter(owner=request.user), pk=mailbox_id
    )


def mailbox_list(request: OrgRequest):  # type: ignore[no-untyped-def]
    return render(
        request,
        "mail/mailbox_list.html",
        {
            "mailboxes": mailboxes_of(org=request.org, owner=request.user),
            "unsorted_count": unsorted_waiting(org=request.org).count(),
        },
    )


def _save_or_test(request: OrgRequest, form: MailboxForm, mailbox: Mailbox | None):  # type: ignore[no-untyped-def]
    if not form.is_valid():
        return None
    data = form.cleaned_data
    password = data.pop("password")
    smtp_password = data.pop("smtp_password")
    if "test_smtp" in request.POST:
        try:
            result = smtp_connection_test(
                mailbox=mailbox, host=data["smtp_host"], port=data["smtp_port"],
                security=data["smtp_security"],
                username=data["smtp_username"] or data["username"],
                password=smtp_password or password,
            )  # fmt: skip
        except SendError as error:
            form.add_error(None, f"Could not send through SMTP: {error}.")
            return None
        form.test_result = result  # type: ignore[attr-defined]
        return None
    if "test" in request.POST:
        if not password and mailbox is not None:
            try:
                password = decrypt_secret(mailbox.secret)
            except ValueError as error:
                form.add_error("password", str(error))
                return None
        try:
            result = connection_test(
                host=data["host"], port=data["port"], security=data["security"],
                username=data["username"], password=password,
            )  # fmt: skip
        except MailboxError as error:
            form.add_error(None, f"Could not connect: {error}.")
            return None
        form.test_result = result  # type: ignore[attr-defined]
        return None
    saved = mailbox_save(
        org=request.org, owner=request.user, mailbox=mailbox, password=password,
        smtp_password=smtp_password, **data,
    )  # fmt: skip
    transaction.on_commit(lambda: sync_mailbox.delay(request.org.pk, saved.pk))
    messages.success(request, f"{saved.email_address} saved; the first sync has started.")
    return redirect("mailbox_list", org_slug=request.org.slug)


@require_http_methods(["GET", "POST"])
def mailbox_create(request: OrgRequest):  # type: ignore[no-untyped-def]
    form = MailboxForm(
        request.POST or None,
        org=request.org,
        owner=request.user,
        initial={"email_address": request.user.email, "username": request.user.email},
    )
    response = _save_or_test(request, form, None) if request.method == "POST" else None
    return response or render(
        request, "mail/mailbox_form.html", {"form": form}, status=422 if form.errors else 200
    )


@require_http_methods(["GET", "POST"])
def mailbox_edit(request: OrgRequest, mailbox_id: int):  # type: ignore[no-untyped-def]
    mailbox = get_own_mailbox(request, mailbox_id)
    form = MailboxForm(request.POST or None, instance=mailbox, org=request.org, owner=request.user)
    response = _save_or_test(request, form, mailbox) if request.method == "POST" else None
    context = {
        "form": form,
        "mailbox": mailbox,
        "quarantine": open_quarantine(org=request.org, mailbox=mailbox)[:50],
    }
    return response or render(
        request, "mail/mailbox_form.html", context, status=422 if form.errors else 200
    )


@require_POST
def mailbox_sync_now(request: OrgRequest, mailbox_id: int):  # type: ignore[no-untyped-def]
    mailbox = get_own_mailbox(request, mailbox_id)
    transaction.on_commit(lambda: sync_mailbox.delay(request.org.pk, mailbox.pk))
    messages.success(request, f"Syncing {mailbox.email_address} now.")
    return redirect("mailbox_list", org_slug=request.org.slug)


@require_POST
def quarantine_retry_view(request: OrgRequest, quarantined_id: int):  # type: ignore[no-untyped-def]
    quarantined = get_object_or_404(
        QuarantinedEmail.objects.for_org(request.org).filter(mailbox__owner=request.user),
        pk=quarantined_id,
    )
    result = quarantine_retry(org=request.org, quarantined=quarantined)
    if result.outcome == "quarantined":
        messages.error(request, f"Still cannot take it in: {result.reason}")
    else:
        messages.success(request, "Taken in.")
    return redirect("mailbox_edit", org_slug=request.org.slug, mailbox_id=quarantined.mailbox_id)


def unsorted_list(request: OrgRequest):  # type: ignore[no-untyped-def]
    return render(
        request,
        "mail/unsorted_list.html",
        {
            "waiting": unsorted_waiting(org=request.org)[:100],
            "file_form": FileUnsortedForm(org=request.org),
        },
    )


@require_POST
def unsorted_decide(request: OrgRequest, unsorted_id: int, decision: str):  # type: ignore[no-untyped-def]
    unsorted = get_object_or_404(
        UnsortedEmail.objects.for_org(request.org).filter(state=UnsortedEmail.State.WAITING),
        pk=unsorted_id,
    )
    if decision == "dismiss":
        unsorted_dismiss(org=request.org, unsorted=unsorted, by=request.user)
        messages.success(request, f"Dismissed “{unsorted.subject}”.")
        return redirect("unsorted_list", org_slug=request.org.slug)
    form = FileUnsortedForm(request.POST, org=request.org)
    if decision != "file" or not form.is_valid():
        messages.error(request, "Choose an account to file it under.")
        return redirect("unsorted_list", org_slug=request.org.slug)
    try:
        message = unsorted_file(
            org=request.org,
            unsorted=unsorted,
            account=form.cleaned_data["account"],
            by=request.user,
        )
    except ValueError as error:
        messages.error(request, str(error))
        return redirect("unsorted_list", org_slug=request.org.slug)
    messages.success(request, f"Filed under {message.account}.")
    return redirect(
        "conversation_detail", org_slug=request.org.slug, conversation_id=message.conversation_id
    )


def attachment_download(request: OrgRequest, attachment_id: int) -> HttpResponse:
    """An email's attachment, only ever as a download: whatever the sender called it, an HTML
    or SVG file never renders on our origin. `?inline=1` shows a PNG, JPEG, GIF or WebP in
    place (the inline images of a formatted email), and nothing else."""
    attachment = get_object_or_404(Attachment.objects.for_org(request.org), pk=attachment_id)
    if request.method not in {"GET", "HEAD"}:
        return HttpResponseNotAllowed(["GET", "HEAD"])
    if attachment.content is None:
        raise Http404("too large to keep; it is in the original email")
    content = bytes(attachment.content)
    is_image = attachment.content_type in INLINE_IMAGE_TYPES and bytes_are_image_of_type(
        content, attachment.content_type
    )
    inline = is_image and request.GET.get("inline") == "1"
    response = HttpResponse(
        content, content_type=attachment.content_type if is_image else "application/octet-stream"
    )
    response["Content-Disposition"] = content_disposition(
        "inline" if inline else "attachment", attachment.filename
    )
    response["Content-Length"] = str(len(content))
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    response["Cache-Control"] = "private, max-age=3600"
    return response


def content_disposition(kind: str, filename: str) -> str:
    """RFC 6266: an ASCII fallback for old clients, then the UTF-8 name (RFC 5987)."""
    fallback = "".join(c if " " <= c <= "~" and c not in '"\\%' else "_" for c in filename)
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


# --- Email out: the composer on a conversation page ----------------------------------------


def _composer_context(
    request: OrgRequest, conversation: Conversation, form: ComposeForm | None = None
) -> dict[str, object]:
    """The composer, loaded by htmx after the page: what it needs costs the page nothing."""
    from contacts.models import ContactAddress
    from conversations.models import Participant
    from mail.threading import normalise_subject

    org = request.org
    reply_to = reply_target(org=org, conversation=conversation)
    draft = _draft(request, conversation)
    people = list(
        ContactAddress.objects.for_org(org)
        .filter(contact__account_id=conversation.account_id, kind=ContactAddress.Kind.EMAIL)
        .select_related("contact")
        .order_by("contact__full_name", "pk")
    )
    if form is None:
        if draft is not None:
            initial: dict[str, object] = {
                "to": draft.to, "cc": draft.cc, "subject": draft.subject, "body": draft.body,
                "we_owe": draft.we_owe, "we_owe_due": draft.we_owe_due,
            }  # fmt: skip
        else:
            to: list[str] = []
            if reply_to is not None:
                # Answer the customer: whoever wrote it, or whom we wrote to.
                roles = (
                    [Participant.Role.FROM]
                    if reply_to.direction == Message.Direction.INBOUND
                    else [Participant.Role.TO]
                )
                to = list(
                    Participant.objects.for_org(org)
                    .filter(message=reply_to, role__in=roles, member=None)
                    .exclude(address="")
                    .order_by("pk")
                    .values_list("address", flat=True)
                )
            base = (reply_to.subject if reply_to else "") or conversation.subject
            replying = reply_to is not None and normalise_subject(base) != base.strip().lower()
            initial = {
                "to": ", ".join(to),
                "subject": base if replying or reply_to is None else f"Re: {base}",
            }
        form = ComposeForm(initial=initial)
    mailbox = sending_mailbox(org=org, member=request.user)
    return {
        "conversation": conversation,
        "compose_form": form,
        "reply_to": reply_to,
        "people": people,
        "sending_as": mailbox.email_address if mailbox else request.user.email,
        "sending_via": (mailbox.smtp_host if mailbox and mailbox.smtp_host else ""),
        "draft_files": draft_attachments(org=org, draft=draft),
    }


def _draft(request: OrgRequest, conversation: Conversation) -> EmailDraft | None:
    return (
        EmailDraft.objects.for_org(request.org)
        .filter(conversation=conversation, author=request.user)
        .first()
    )


def _conversation(request: OrgRequest, conversation_id: int) -> Conversation:
    return get_object_or_404(
        Conversation.objects.for_org(request.org).select_related("account"), pk=conversation_id
    )


def email_compose(request: OrgRequest, conversation_id: int) -> HttpResponse:
    conversation = _conversation(request, conversation_id)
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    template = "mail/_composer.html" if request.htmx else "mail/compose_page.html"
    return render(request, template, _composer_context(request, conversation))


@require_POST
def email_draft_save(request: OrgRequest, conversation_id: int) -> HttpResponse:
    """Autosave (htmx, on change): keeps what is typed, valid or not."""
    conversation = _conversation(request, conversation_id)
    post = request.POST
    due = post.get("we_owe_due") or ""
    try:
        due_on = date.fromisoformat(due) if due else None
    except ValueError:
        due_on = None
    draft = draft_save(
        org=request.org, conversation=conversation, author=request.user,
        to=post.get("to", "")[:5000], cc=post.get("cc", "")[:5000],
        subject=post.get("subject", "")[:300], body=post.get("body", "")[:100_000],
        we_owe=post.get("we_owe", "")[:500], we_owe_due=due_on,
    )  # fmt: skip
    return HttpResponse(f"Draft saved {timezone.localtime(draft.updated_at):%H:%M:%S}.")


def _keep_uploads(request: OrgRequest, conversation: Conversation, form: ComposeForm) -> None:
    """A send refused for another reason keeps the files it carried with the draft, so they
    need not be chosen again."""
    files = request.FILES.getlist("attachments")
    if not files or "attachments" in form.errors:
        return
    parts = _uploads(files)
    try:
        draft_attach(org=request.org, conversation=conversation, author=request.user, parts=parts)
    except AttachmentLimitError as error:
        form.add_error("attachments", str(error))


@require_POST
def email_draft_attach(request: OrgRequest, conversation_id: int) -> HttpResponse:
    """Files chosen in the composer are kept with the draft at once (htmx, on change)."""
    conversation = _conversation(request, conversation_id)
    error, status = "", 200
    files = request.FILES.getlist("attachments")
    if files:
        try:
            draft_attach(
                org=request.org, conversation=conversation, author=request.user,
                parts=_uploads(files),
            )  # fmt: skip
        except AttachmentLimitError as limit:
            error, status = str(limit), 422
    return _draft_files(request, conversation, error=error, status=status)


@require_POST
def email_draft_detach(request: OrgRequest, conversation_id: int, file_id: int) -> HttpResponse:
    conversation = _conversation(request, conversation_id)
    DraftAttachment.objects.for_org(request.org).filter(
        pk=file_id, draft__conversation=conversation, draft__author=request.user
    ).delete()
    return _draft_files(request, conversation)


def _draft_files(
    request: OrgRequest, conversation: Conversation, *, error: str = "", status: int = 200
) -> HttpResponse:
    files = draft_attachments(org=request.org, draft=_draft(request, conversation))
    context = {"conversation": conversation, "draft_files": files, "draft_files_error": error}
    return render(request, "mail/_draft_files.html", context, status=status)


def _content_type(declared: str | None) -> str:
    """The browser's type for an upload when it is a plain type/subtype, else bytes."""
    declared = (declared or "").strip().lower()
    return declared if _MIME_TYPE.fullmatch(declared) else "application/octet-stream"


@require_POST
def email_send_view(request: OrgRequest, conversation_id: int) -> HttpResponse:
    conversation = _conversation(request, conversation_id)
    form = ComposeForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        kept = draft_attachments(
            org=request.org, draft=_draft(request, conversation), with_content=True
        )
        parts = [*(file.as_part() for file in kept), *_uploads(data["attachments"])]
        try:
            email_send(
                org=request.org, conversation=conversation, author=request.user,
                to=data["to"], cc=data["cc"], subject=data["subject"], text=data["body"],
                attachments=parts,
                reply_to=reply_target(org=request.org, conversation=conversation),
                mark_done="mark_done" in request.POST,
                we_owe=data["we_owe"], we_owe_due=data["we_owe_due"],
            )  # fmt: skip
        except AttachmentLimitError as error:
            form.add_error("attachments", str(error))
        except RecordError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"Sending “{data['subject']}”.")
            url = reverse(
                "conversation_detail",
                kwargs={"org_slug": request.org.slug, "conversation_id": conversation.pk},
            )
            return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    _keep_uploads(request, conversation, form)
    context = _composer_context(request, conversation, form)
    template = "mail/_composer.html" if request.htmx else "mail/compose_page.html"
    return render(request, template, context, status=422)


@require_POST
def email_retry(request: OrgRequest, message_id: int) -> HttpResponse:
    message = get_object_or_404(Message.objects.for_org(request.org), pk=message_id)
    if outbound_retry(org=request.org, message=message):
        messages.success(request, "Sending it again.")
    else:
        messages.error(request, "That email is not waiting for a retry.")
    url = reverse(
        "conversation_detail",
        kwargs={"org_slug": request.org.slug, "conversation_id": message.conversation_id},
    )
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


def _uploads(files: list[Any]) -> list[AttachmentPart]:
    return [
        AttachmentPart(
            filename=safe_filename(upload.name or "", _content_type(upload.content_type)),
            content_type=_content_type(upload.content_type),
            size=upload.size or 0, content_id="", inline=False, payload=upload.read(),
        )
        for upload in files
    ]  # fmt: skip


@require_http_methods(["GET", "POST"])
def email_new(request: OrgRequest, account_id: int) -> HttpResponse:
    """A new email to anyone at an account: it starts a conversation when it is sent."""
    from accounts.views import get_account
    from contacts.models import ContactAddress

    account = get_account(request, account_id)
    people = list(
        ContactAddress.objects.for_org(request.org)
        .filter(contact__account=account, kind=ContactAddress.Kind.EMAIL)
        .select_related("contact")
        .order_by("contact__full_name", "pk")
    )
    if request.method == "POST":
        form = ComposeForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                conversation = email_start(
                    org=request.org, account=account, author=request.user, to=data["to"],
                    cc=data["cc"], subject=data["subject"], text=data["body"],
                    attachments=_uploads(data["attachments"]), we_owe=data["we_owe"],
                    we_owe_due=data["we_owe_due"],
                )  # fmt: skip
            except RecordError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, f"Sending “{data['subject']}”.")
                return redirect(
                    "conversation_detail", org_slug=request.org.slug,
                    conversation_id=conversation.pk,
                )  # fmt: skip
    else:
        wanted = request.GET.get("contact", "")
        to = [a.value for a in people if str(a.contact_id) == wanted][:1]
        form = ComposeForm(initial={"to": ", ".join(to)})
    return render(
        request,
        "mail/new_email.html",
        {"account": account, "form": form, "people": people},
        status=422 if form.errors else 200,
    )
