from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils import timezone

from accounts.models import Account
from health import model
from organisations.tenancy import TenantModel


class HealthSettings(TenantModel):
    """An organisation's health settings; without a row the documented defaults apply.

    Changing them recomputes the stored history (health.services.health_settings_save) so
    trends stay comparable.
    """

    weight_mutuality = models.FloatField(default=model.DEFAULT_WEIGHTS["mutuality"])
    weight_interactivity = models.FloatField(default=model.DEFAULT_WEIGHTS["interactivity"])
    weight_continuity = models.FloatField(default=model.DEFAULT_WEIGHTS["continuity"])
    weight_breadth = models.FloatField(default=model.DEFAULT_WEIGHTS["breadth"])
    weight_responsiveness = models.FloatField(default=model.DEFAULT_WEIGHTS["responsiveness"])
    weight_commitments = models.FloatField(default=model.DEFAULT_WEIGHTS["commitments"])
    weight_recency = models.FloatField(default=model.DEFAULT_WEIGHTS["recency"])
    half_life_days = models.FloatField(
        default=45.0, help_text="An event this many days ago counts half as much as one today."
    )
    waiting_cap_days = models.FloatField(
        default=3.0, help_text="Business days a customer may wait before health is capped at 69."
    )
    overdue_cap_days = models.FloatField(
        default=7.0, help_text="Days a promise of ours may be overdue before health is capped."
    )
    min_exchanges = models.PositiveSmallIntegerField(
        default=4, help_text="Two-way exchanges in 180 days needed to judge at all."
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["organisation"], name="health_settings_one_per_org"),
        ]

    def __str__(self) -> str:
        return f"Health settings of organisation {self.organisation_id}"

    def as_model(self, *, reply_target_days: float) -> model.Settings:
        return model.Settings(
            weights={key: getattr(self, f"weight_{key}") for key in model.COMPONENTS},
            half_life_days=self.half_life_days,
            reply_target_days=reply_target_days,
            waiting_cap_days=self.waiting_cap_days,
            overdue_cap_days=self.overdue_cap_days,
            min_exchanges=self.min_exchanges,
        )


class HealthSnapshot(TenantModel):
    """An account's health on one day: the score, each component and the inputs behind them.

    One per account per day (recomputing upserts). `inputs` holds the measured numbers and the
    settings used, so the score and every sentence can be recomputed from the row alone.
    """

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="health_snapshots")
    day = models.DateField()
    score = models.PositiveSmallIntegerField(null=True, blank=True)  # None: not enough to judge
    band = models.CharField(max_length=10)
    mutuality = models.FloatField()
    interactivity = models.FloatField()
    continuity = models.FloatField()
    breadth = models.FloatField()
    responsiveness = models.FloatField()
    commitments = models.FloatField()
    recency = models.FloatField()
    flags = models.JSONField(default=list)
    caps = models.JSONField(default=list)
    inputs = models.JSONField()
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["organisation", "account", "day"], name="health_snapshot_one_per_day"
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["organisation", "day", "band"], name="health_snapshot_org_day"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} on {self.day}: {self.score}"

    @property
    def band_label(self) -> str:
        return model.BAND_LABELS.get(self.band, self.band)

    def components(self) -> dict[str, float]:
        return {key: getattr(self, key) for key in model.COMPONENTS}
