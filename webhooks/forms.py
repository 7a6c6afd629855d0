from typing import Any, ClassVar

from django import forms

from organisations.models import Organisation
from webhooks import addresses
from webhooks.models import Event


class WebhookForm(forms.Form):
    url = forms.URLField(
        label="URL",
        max_length=2000,
        assume_scheme="https",
        widget=forms.URLInput(attrs={"placeholder": "https://example.com/threadline-hook"}),
        help_text="We POST each event here as JSON, signed (see the README for receivers).",
    )
    events = forms.MultipleChoiceField(
        choices=Event.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one event."},
    )

    def __init__(self, *args: Any, org: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.org = org

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        try:
            addresses.check(url, allow_private=self.org.webhooks_allow_private)
        except addresses.AddressRefused as refused:
            raise forms.ValidationError(str(refused)) from None
        return url


class PrivateAddressesForm(forms.ModelForm):
    class Meta:
        model = Organisation
        fields: ClassVar = ["webhooks_allow_private"]
