from __future__ import annotations

import re
from typing import Any

from django import forms

from accounts.models import FREE_MAIL_DOMAINS, Account, AccountDomain
from organisations.models import Organisation
from organisations.selectors import members_of_org

_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


class AccountForm(forms.ModelForm):
    domains = forms.CharField(
        required=False,
        help_text="Email domains of this company, comma separated (acme.com, acme.co.uk). "
        "Mail from these domains is filed under this account.",
    )

    class Meta:
        model = Account
        fields = ("name", "website", "owner", "description")
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, org: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.org = org
        self.fields["owner"].queryset = members_of_org(org_id=org.pk)  # type: ignore[attr-defined]
        self.fields["owner"].empty_label = "Nobody yet"  # type: ignore[attr-defined]
        if self.instance.pk and not self.is_bound:
            self.initial["domains"] = ", ".join(
                self.instance.domains.order_by("domain").values_list("domain", flat=True)
            )

    def clean_name(self) -> str:
        return account_name_clean(self.org, self.cleaned_data["name"], self.instance)

    def clean_domains(self) -> list[str]:
        raw = self.cleaned_data.get("domains") or ""
        return account_domains_clean(self.org, re.split(r"[,\s]+", raw), self.instance)


# The rules for names and domains, shared by the form and the API.


def account_name_clean(org: Organisation, name: str, account: Account | None) -> str:
    name = name.strip()
    clash = Account.objects.for_org(org).filter(name__iexact=name)
    if account is not None and account.pk:
        clash = clash.exclude(pk=account.pk)
    if clash.exists():
        raise forms.ValidationError("There is already an account with this name.")
    return name


def account_domains_clean(
    org: Organisation, items: list[str], account: Account | None
) -> list[str]:
    domains = []
    for item in items:
        domain = item.strip().lower().removeprefix("@").rstrip(".")
        if not domain:
            continue
        if not _DOMAIN.match(domain):
            raise forms.ValidationError(f"“{item}” is not a domain name like acme.com.")
        if domain in FREE_MAIL_DOMAINS:
            raise forms.ValidationError(
                f"{domain} is a free-mail domain shared by many people; "
                "add those people's addresses to their contacts instead."
            )
        domains.append(domain)
    taken = AccountDomain.objects.for_org(org).filter(domain__in=domains)
    if account is not None and account.pk:
        taken = taken.exclude(account=account)
    clash = taken.select_related("account").first()
    if clash:
        raise forms.ValidationError(f"{clash.domain} already belongs to {clash.account.name}.")
    return sorted(set(domains))
