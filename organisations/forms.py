import zoneinfo
from typing import Any, ClassVar

from django import forms
from django.contrib.auth.forms import AuthenticationForm

from organisations.models import Organisation


class LoginForm(AuthenticationForm):
    username = forms.EmailField(
        label="Email", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )


class BusinessHoursForm(forms.ModelForm):
    """How the organisation works: ages and targets are counted in these hours."""

    workdays = forms.MultipleChoiceField(
        choices=[
            ("1", "Mon"),
            ("2", "Tue"),
            ("3", "Wed"),
            ("4", "Thu"),
            ("5", "Fri"),
            ("6", "Sat"),
            ("7", "Sun"),
        ],  # fmt: skip
        widget=forms.CheckboxSelectMultiple,
        label="Working days",
    )

    class Meta:
        model = Organisation
        fields: ClassVar = [
            "time_zone", "workday_starts", "workday_ends", "workdays", "reply_target_days",
            "search_language",
        ]  # fmt: skip
        widgets: ClassVar = {
            "workday_starts": forms.TimeInput(attrs={"type": "time"}),
            "workday_ends": forms.TimeInput(attrs={"type": "time"}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial["workdays"] = list(self.instance.workdays)

    def clean_reply_target_days(self) -> Any:
        days = self.cleaned_data["reply_target_days"]
        if days is None or not 0.1 <= days <= 30:
            raise forms.ValidationError("Give a reply target between 0.1 and 30 business days.")
        return days

    def clean_time_zone(self) -> str:
        name = self.cleaned_data["time_zone"]
        if name not in zoneinfo.available_timezones():
            raise forms.ValidationError("Use a time zone name such as Europe/London.")
        return name

    def clean_workdays(self) -> str:
        return "".join(sorted(self.cleaned_data["workdays"]))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        starts, ends = data.get("workday_starts"), data.get("workday_ends")
        if starts and ends and ends <= starts:
            self.add_error("workday_ends", "The working day must end after it starts.")
        return data


class HolidayForm(forms.Form):
    date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    name = forms.CharField(max_length=100, required=False)
