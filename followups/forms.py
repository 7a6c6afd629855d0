from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.utils import timezone

from organisations.calendar import BusinessCalendar
from organisations.models import Organisation, User
from organisations.selectors import members_of_org


def member_choices(org: Organisation, *, with_inactive: bool = False) -> forms.ModelChoiceField:
    """Members to give work to; handing over *from* also offers deactivated (leaving) ones."""
    members = (
        User.objects.filter(memberships__organisation=org).order_by("full_name", "email")
        if with_inactive
        else members_of_org(org_id=org.pk)
    )
    return forms.ModelChoiceField(queryset=members, empty_label=None)


class SnoozeForm(forms.Form):
    until = forms.DateField(
        label="Snooze until", widget=forms.DateInput(attrs={"type": "date"}), required=True
    )

    def __init__(self, *args: Any, org: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.org = org

    def clean_until(self) -> datetime.datetime:
        day = self.cleaned_data["until"]
        calendar = BusinessCalendar.for_org(self.org)
        if day <= calendar.local_date(timezone.now()):
            raise forms.ValidationError("Choose a day after today.")
        # It comes back at the start of that working day, where the member will see it.
        return datetime.datetime.combine(day, calendar.starts, tzinfo=calendar.tz)


class ReassignForm(forms.Form):
    owner = forms.ModelChoiceField(queryset=User.objects.none(), label="Owner")

    def __init__(self, *args: Any, org: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"] = member_choices(org)
        self.fields["owner"].label = "Owner"


class HandoverForm(forms.Form):
    from_user = forms.ModelChoiceField(queryset=User.objects.none(), label="From")
    to_user = forms.ModelChoiceField(queryset=User.objects.none(), label="To")

    def __init__(self, *args: Any, org: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["from_user"] = member_choices(org, with_inactive=True)
        self.fields["from_user"].label = "Hand over everything owned by"
        self.fields["to_user"] = member_choices(org)
        self.fields["to_user"].label = "To"

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("from_user") and data.get("from_user") == data.get("to_user"):
            self.add_error("to_user", "Choose someone else to hand over to.")
        return data
