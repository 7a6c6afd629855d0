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
        emails = [e.strip() for e in (self.cleaned_data.get("email") or "").split(",") if e.strip()]
        for email in emails:
            try:
                validate_email(email)
            except forms.ValidationError:
                raise forms.ValidationError(f"“{email}” is not an email address.") from None
        unique = {normalise_address(ContactAddress.Kind.EMAIL, e): e for e in reversed(emails)}
        emails = [e for e in emails if e in unique.values()]
        normalised = list(unique)
        taken = ContactAddress.objects.for_org(self.org).filter(
            kind=ContactAddress.Kind.EMAIL, normalised__in=normalised
        )
        if self.instance.pk:
            taken = taken.exclude(contact=self.instance)
        clash = taken.select_related("contact").first()
        if clash:
            raise forms.ValidationError(f"{clash.value} already belongs to {clash.contact}.")
        return emails

    def clean_phone(self) -> str:
        phone = (self.cleaned_data.get("phone") or "").strip()
        if phone and len(normalise_address(ContactAddress.Kind.PHONE, phone).lstrip("+")) < 5:
            raise forms.ValidationError("Enter a phone number with at least five digits.")
        return phone
