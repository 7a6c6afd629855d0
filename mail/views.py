from urllib.parse import quote

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from mail.forms import FileUnsortedForm, MailboxForm
from mail.imap import MailboxError
from mail.models import (
    INLINE_IMAGE_TYPES,
    Attachment,
    Mailbox,
    QuarantinedEmail,
    UnsortedEmail,
    bytes_are_image_of_type,
)
from mail.outbound import SendError
from mail.secrets import decrypt_secret
from mail.selectors import mailboxes_of, open_quarantine, unsorted_waiting
from mail.services import (
    connection_test,
    mailbox_save,
    quarantine_retry,
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
