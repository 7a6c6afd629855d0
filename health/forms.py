from __future__ import annotations

from typing import Any, ClassVar

from django import forms

from health import model as health_model
from health.models import HealthSettings


class HealthSettingsForm(forms.ModelForm):
    class Meta:
        model = HealthSettings
        fields: ClassVar = [
            *(f"weight_{key}" for key in health_model.COMPONENTS),
            "half_life_days",
            "waiting_cap_days",
            "overdue_cap_days",
            "min_exchanges",
        ]
        labels: ClassVar = {f"weight_{key}": label for key, label in health_model.LABELS.items()}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        weights = [data.get(f"weight_{key}") for key in health_model.COMPONENTS]
        if any(w is not None and w < 0 for w in weights):
            raise forms.ValidationError("Weights cannot be negative.")
        if all(w is not None for w in weights) and sum(w for w in weights if w) <= 0:
            raise forms.ValidationError("At least one weight must be above zero.")
        if (data.get("half_life_days") or 1) <= 0:
            self.add_error("half_life_days", "The half-life must be more than zero days.")
        return data
