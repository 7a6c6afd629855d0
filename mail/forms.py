from __future__ import annotations

from typing import Any

from django import forms

from accounts.models import Account
from mail.models import Mailbox
from organisations.models import Organisation, User


class MailboxForm(forms.ModelForm):
    password = forms.CharField(
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        required=False,
        help_text="Stored encrypted and never shown again. Leave empty to keep the current one.",
    )
    extra_folders = forms.CharField(
        required=False,
        help_text="INBOX and Sent are always synced; name any other folders, comma separated.",
    )
    smtp_password = forms.CharField(
        label="SMTP password",
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        required=False,
        help_text="Only if it differs from the IMAP password. Stored encrypted, never shown.",
    )

    field_order = (
        "email_address", "host", "port", "security", "username", "password", "extra_folders",
        "history_days", "smtp_host", "smtp_port", "smtp_security", "smtp_username",
        "smtp_password",
    )  # fmt: skip

    class Meta:
        model = Mailbox
        fields = (
            "email_address", "host", "port", "security", "username", "history_days",
            "smtp_host", "smtp_port", "smtp_security", "smtp_username",
        )  # fmt: skip
        labels = {
            "smtp_host": "SMTP host",
            "smtp_port": "SMTP port",
            "smtp_security": "SMTP security",
            "smtp_username": "SMTP username",
        }
        help_texts = {"history_days": "How far back to import on first connect."}

    def __init__(self, *args: Any, org: Organisation, owner: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.org, self.owner = org, owner
        if self.instance.pk and not self.is_bound:
            self.initial["extra_folders"] = ", ".join(self.instance.extra_folders)
        # Sending settings are optional: without an SMTP host the organisation's server is used.
        self.fields["smtp_port"].required = self.fields["smtp_security"].required = False
        if not self.instance.pk:
            self.fields["password"].required = True
            self.fields["password"].help_text = "Stored encrypted and never shown again."

    def clean_email_address(self) -> str:
        address = self.cleaned_data["email_address"].strip().lower()
        taken = Mailbox.objects.for_org(self.org).filter(
            owner=self.owner, email_address__iexact=address
        )
        if self.instance.pk:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError("You have connected this mailbox already.")
        return address

    def clean_extra_folders(self) -> list[str]:
        raw = self.cleaned_data.get("extra_folders") or ""
        names = [name.strip() for name in raw.split(",") if name.strip()]
        return [n for n in dict.fromkeys(names) if n.upper() != "INBOX"]

    def clean_history_days(self) -> int:
        days = self.cleaned_data["history_days"]
        if days > 3650:
            raise forms.ValidationError("Ten years (3650 days) at most.")
        return days

    def clean_port(self) -> int:
        port = self.cleaned_data["port"]
        if not 1 <= port <= 65535:
            raise forms.ValidationError("A port is a number from 1 to 65535.")
        return port

    def clean_smtp_port(self) -> int:
        port = self.cleaned_data["smtp_port"]
        if port is None:
            return Mailbox._meta.get_field("smtp_port").get_default()  # type: ignore[no-any-return]
        if not 1 <= port <= 65535:
            raise forms.ValidationError("A port is a number from 1 to 65535.")
        return port

    def clean_smtp_security(self) -> str:
        return (
            self.cleaned_data.get("smtp_security")
            or Mailbox._meta.get_field("smtp_security").get_default()
        )


class FileUnsortedForm(forms.Form):
    account: forms.ModelChoiceField = forms.ModelChoiceField(
        queryset=None,  # type: ignore[arg-type]  # scoped to the organisation in __init__
        empty_label="Choose an account…",
    )

    def __init__(self, *args: Any, org: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = Account.objects.for_org(org).order_by("name")  # type: ignore[attr-defined]


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        if not data:
            return []
        files = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(item, initial) for item in files]


MAX_RECIPIENTS = 50


def _addresses(raw: str) -> list[str]:
    """'Ann <ann@x.example>, bob@y.example' -> ['ann@x.example', 'bob@y.example']."""
    from email.utils import getaddresses

    from django.core.validators import validate_email

    found = []
    for name, address in getaddresses([raw.replace(";", ",")]):
        address = address.strip()
        if not address and not name.strip():
            continue
        try:
            validate_email(address)
        except forms.ValidationError:
            raise forms.ValidationError(f"“{address or name}” is not an email address.") from None
        found.append(address)
    if len(found) > MAX_RECIPIENTS:
        raise forms.ValidationError(f"{MAX_RECIPIENTS} addresses at most.")
    return list(dict.fromkeys(found))


class ComposeForm(forms.Form):
    """An email written on a conversation page; addresses are typed or picked from its people."""

    to = forms.CharField(
        max_length=5000, help_text="Comma separated; pick people of the account below."
    )
    cc = forms.CharField(max_length=5000, required=False, label="Cc")
    subject = forms.CharField(max_length=300)
    body = forms.CharField(label="Message", widget=forms.Textarea(attrs={"rows": 8}))
    attachments = MultipleFileField(required=False)
    we_owe = forms.CharField(
        max_length=500, required=False, label="We promise",
        help_text="Optional: a promise this email makes, kept as a commitment.",
    )  # fmt: skip
    we_owe_due = forms.DateField(
        required=False, label="By", widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean_to(self) -> list[str]:
        found = _addresses(self.cleaned_data["to"])
        if not found:
            raise forms.ValidationError("Say who the email is to.")
        return found

    def clean_cc(self) -> list[str]:
        return _addresses(self.cleaned_data.get("cc") or "")

    def clean_attachments(self) -> list[Any]:
        from mail.services import AttachmentLimitError, attachments_check

        files = self.cleaned_data.get("attachments") or []
        try:
            attachments_check([f.size or 0 for f in files])
        except AttachmentLimitError as error:
            raise forms.ValidationError(str(error)) from error
        return files

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("we_owe_due") and not (data.get("we_owe") or "").strip():
            self.add_error("we_owe", "Say what we promise by then.")
        return data
