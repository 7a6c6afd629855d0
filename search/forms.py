from __future__ import annotations

from typing import Any

from django import forms

from accounts.models import Account
from contacts.models import Contact
from conversations.models import Message
from organisations.models import Organisation, User
from organisations.selectors import members_of_org
from search.selectors import MessageFilters


class SearchForm(forms.Form):
    q = forms.CharField(label="Search", max_length=300, required=False)
    # Set from an account's or a person's page ("search their history"), so no page lists
    # every account or person of the organisation in a select.
    account: forms.ModelChoiceField = forms.ModelChoiceField(
        queryset=None, required=False, widget=forms.HiddenInput
    )
    person: forms.ModelChoiceField = forms.ModelChoiceField(
        queryset=None, required=False, widget=forms.HiddenInput
    )
    kind = forms.ChoiceField(choices=[("", "Any kind"), *Message.Kind.choices], required=False)
    direction = forms.ChoiceField(
        choices=[("", "Either way"), *Message.Direction.choices], required=False
    )
    since = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    owner = forms.ModelChoiceField(queryset=User.objects.none(), required=False)
    order = forms.ChoiceField(
        choices=[("best", "Best match"), ("newest", "Newest")], required=False
    )

    def __init__(self, *args: Any, org: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Every choice is the organisation's own: another's ids are "not one of the choices".
        self.fields["account"].queryset = Account.objects.for_org(org).order_by("name")  # type: ignore[attr-defined]
        self.fields["person"].queryset = Contact.objects.for_org(org).order_by("full_name")  # type: ignore[attr-defined]
        self.fields["owner"].queryset = members_of_org(org_id=org.pk)  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and until < since:
            self.add_error("until", "The end of the range is before its start.")
        return data

    @property
    def filters(self) -> MessageFilters:
        data = self.cleaned_data
        return MessageFilters(
            account_id=data["account"].pk if data.get("account") else None,
            contact_id=data["person"].pk if data.get("person") else None,
            kind=data.get("kind") or "",
            direction=data.get("direction") or "",
            since=data.get("since"),
            until=data.get("until"),
            owner_id=data["owner"].pk if data.get("owner") else None,
            newest_first=data.get("order") == "newest",
        )
