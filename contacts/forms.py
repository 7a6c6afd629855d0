from __future__ import annotations

from typing import Any

from django import forms
from django.core.validators import validate_email

from accounts.models import Account
from contacts.models import Contact, ContactAddress, normalise_address
from organisations.models import Organisation


class ContactForm(forms.ModelForm):
    email = forms.CharField(
        required=False, help_text="Email addresses, comma separated; mail from them is filed here."
    )
    phone = forms.CharField(required=False, max_length=60)

    class Meta:
        model = Contact
        fields = (
            "full_name",
            "account",
            "title",
            "level",
            "buying_influence",
            "notes",
            "left_company_on",
        )
        widgets = {
            "notes": forms.Textarea(attrs={"rows": 3}),
            "left_company_on": forms.DateInput(attrs={"type": "date"}),
        }

    def __init__(self, *args: Any, org: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.org = org
        self.fields["account"].queryset = Account.objects.for_org(org).order_by("name")  # type: ignore[attr-defined]
        if self.instance.pk and not self.is_bound:
            addresses = list(self.instance.addresses.all())
            self.initial["email"] = ", ".join(
                a.value for a in addresses if a.kind == ContactAddress.Kind.EMAIL
            )
            self.initial["phone"] = next(
                (a.value for a in addresses if a.kind == ContactAddress.Kind.PHONE), ""
            )

    def clean_email(self) -> list[str]:
        raw = (self.cleaned_data.get("email") or "").split(",")
        return contact_emails_clean(self.org, raw, self.instance)

    def clean_phone(self) -> str:
        return contact_phone_clean(self.org, self.cleaned_data.get("phone") or "", self.instance)


# The rules for addresses, shared by the form and the API.


def contact_emails_clean(org: Organisation, items: list[str], contact: Contact | None) -> list[str]:
    emails: dict[str, str] = {}  # normalised -> as typed; the first spelling wins
    for email in (item.strip() for item in items):
        if not email:
            continue
        if len(email) > 254:
            raise forms.ValidationError(f"“{email[:40]}…” is longer than an address can be.")
        try:
            validate_email(email)
        except forms.ValidationError:
            raise forms.ValidationError(f"“{email}” is not an email address.") from None
        emails.setdefault(normalise_address(ContactAddress.Kind.EMAIL, email), email)
    _ensure_not_taken(org, ContactAddress.Kind.EMAIL, list(emails), contact)
    return list(emails.values())


def contact_phone_clean(org: Organisation, phone: str, contact: Contact | None) -> str:
    phone = phone.strip()
    if not phone:
        return phone
    normalised = normalise_address(ContactAddress.Kind.PHONE, phone)
    if len(normalised.lstrip("+")) < 5:
        raise forms.ValidationError("Enter a phone number with at least five digits.")
    _ensure_not_taken(org, ContactAddress.Kind.PHONE, [normalised], contact)
    return phone


def _ensure_not_taken(
    org: Organisation, kind: str, normalised: list[str], contact: Contact | None
) -> None:
    taken = ContactAddress.objects.for_org(org).filter(kind=kind, normalised__in=normalised)
    if contact is not None and contact.pk:
        taken = taken.exclude(contact=contact)
    clash = taken.select_related("contact").first()
    if clash:
        raise forms.ValidationError(f"{clash.value} already belongs to {clash.contact}.")
