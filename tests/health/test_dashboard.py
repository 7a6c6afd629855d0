"""The managers' health dashboard: largest drop first, filters, owner summaries, CSV."""

from __future__ import annotations

import csv
import datetime
import io
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from accounts.models import Account
from health import model
from health.models import HealthSnapshot
from organisations.models import Role
from tests import factories
from tests.conftest import CLIENT_QUERIES
from tests.health.archetypes import ARCHETYPES, NOW
from tests.health.loading import load

pytestmark = pytest.mark.django_db


def snapshots(org: Any, accounts: list[Account], scores: list[tuple[int | None, int | None]],
              flags: list[list[str]] | None = None) -> None:  # fmt: skip
    """Today's and 30-days-ago snapshots with these scores."""
    today = timezone.localdate()
    rows = []
    for n, (account, (now, before)) in enumerate(zip(accounts, scores, strict=True)):
        for day, score in ((today, now), (today - datetime.timedelta(days=30), before)):
            rows.append(
                HealthSnapshot(
                    organisation=org, account=account, day=day, score=score,
                    band=model.band_of(score, model.Settings()),
                    **dict.fromkeys(model.COMPONENTS, 0.5),
                    flags=(flags[n] if flags and day == today else []),
                    caps=[],
                    inputs={"responsiveness": {"waiting": 1}, "commitments": {"overdue": 2}},
                )
            )  # fmt: skip
    HealthSnapshot.all_orgs.bulk_create(rows)


def accounts_of(org: Any, owner: Any, names: list[str]) -> list[Account]:
    return Account.all_orgs.bulk_create(
        Account(organisation=org, owner=owner, name=name) for name in names
    )


@pytest.fixture
def manager(a: Any) -> Any:
    return factories.MemberFactory(organisation=a.org, role=Role.MANAGER).user


def test_the_dashboard_is_for_managers_and_admins_only(a: Any, manager: Any) -> None:
    url = f"/o/{a.org.slug}/health/"
    assert a.client().get(url).status_code == 404  # sales
    assert a.client(manager).get(url).status_code == 200
    assert a.client(a.admin).get(url).status_code == 200
    assert a.client().get(url + "export.csv").status_code == 404


def test_it_lists_the_largest_drop_first_with_flags(a: Any, b: Any, manager: Any) -> None:
    steady, fell, low, new = accounts_of(a.org, a.sales, ["Steady", "Fell", "Low", "New"])
    snapshots(
        a.org, [steady, fell, low, new], [(80, 81), (55, 85), (30, 32), (None, None)],
        flags=[[], ["gone_quiet", "single_threaded"], ["monologue"], []],
    )  # fmt: skip
    snapshots(b.org, accounts_of(b.org, b.sales, ["Bravo secret"]), [(10, 90)])
    html = a.client(manager).get(f"/o/{a.org.slug}/health/").content.decode()
    assert html.index(">Fell<") < html.index(">Low<") < html.index(">Steady<") < html.index(">New<")
    assert "-30" in html and "Gone quiet" in html and "Single-threaded" in html
    assert "Bravo secret" not in html


def test_filters_by_band_flag_and_owner(a: Any, manager: Any) -> None:
    mine = accounts_of(a.org, a.sales, ["Sales at risk", "Sales healthy"])
    theirs = accounts_of(a.org, a.admin, ["Admin at risk"])
    snapshots(a.org, [*mine, *theirs], [(40, 60), (90, 90), (45, 45)],
              flags=[["promise_overdue"], [], []])  # fmt: skip
    client = a.client(manager)
    url = f"/o/{a.org.slug}/health/"
    at_risk = client.get(url, {"band": "at_risk"}, HTTP_HX_REQUEST="true").content.decode()
    assert "Sales at risk" in at_risk and "Admin at risk" in at_risk
    assert "Sales healthy" not in at_risk and "<html" not in at_risk
    flagged = client.get(url, {"flag": "promise_overdue"}).content.decode()
    assert "Sales at risk" in flagged and "Admin at risk" not in flagged
    owned = client.get(url, {"owner": a.admin.pk, "band": "at_risk"}).content.decode()
    assert "Admin at risk" in owned and "Sales at risk" not in owned


def test_owner_summaries_count_bands_waiting_and_overdue_without_ranking(
    a: Any, manager: Any
) -> None:
    mine = accounts_of(a.org, a.sales, ["One", "Two", "Three"])
    snapshots(a.org, mine, [(40, 60), (90, 90), (60, 60)])
    html = a.client(manager).get(f"/o/{a.org.slug}/health/").content.decode()
    assert "1 healthy · 1 need attention · 1 at risk · 0 too little to judge" in html
    assert "3 customers waiting · 6 promises overdue" in html


def test_the_csv_export_has_every_filtered_row(a: Any, manager: Any) -> None:
    accounts = accounts_of(a.org, a.sales, ["Risky", "Fine"])
    snapshots(a.org, accounts, [(40, 70), (90, 90)], flags=[["gone_quiet"], []])
    response = a.client(manager).get(f"/o/{a.org.slug}/health/export.csv", {"band": "at_risk"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [
        (r["account"], r["score"], r["band"], r["change_30_days"], r["flags"]) for r in rows
    ] == [("Risky", "40", "At risk", "-30", "gone_quiet")]


def test_the_dashboard_for_5000_accounts_runs_a_bounded_number_of_queries(
    a: Any, manager: Any, django_assert_max_num_queries: Any
) -> None:
    owners = [a.sales, a.admin, manager]
    accounts = Account.all_orgs.bulk_create(
        Account(organisation=a.org, owner=owners[n % 3], name=f"Bulk {n:04d}") for n in range(5000)
    )
    snapshots(a.org, accounts, [(n % 101, (n * 7) % 101) for n in range(5000)])
    client = a.client(manager)
    client.get(f"/o/{a.org.slug}/health/")
    # Session, user, membership, navigation counts; then latest day, count, page, trends,
    # owner summaries and the owner filter's members: the same for 50 accounts or 5,000.
    with django_assert_max_num_queries(14 + CLIENT_QUERIES):
        response = client.get(f"/o/{a.org.slug}/health/", {"page": 3})
    html = response.content.decode()
    assert html.count("what-changed-link") == 50
    assert "Page 3 of 100" in html


def test_admins_change_the_weights_and_history_is_recomputed(
    a: Any, manager: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from celery import current_app

    from health.models import HealthSettings
    from health.services import health_history_rebuild

    with time_machine.travel(NOW, tick=False):
        account = load(ARCHETYPES["gone quiet"].build(), org=a.org, owner=a.sales, name="Q")
        health_history_rebuild(org=a.org, days=10, now=NOW)
        before = {s.day: s for s in HealthSnapshot.objects.for_org(a.org).filter(account=account)}
        url = f"/o/{a.org.slug}/health/settings/"
        assert a.client(manager).get(url).status_code == 404
        form = {f"weight_{key}": value for key, value in model.DEFAULT_WEIGHTS.items()} | {
            "weight_recency": "0.5", "half_life_days": "45", "waiting_cap_days": "3",
            "overdue_cap_days": "7", "min_exchanges": "4",
        }  # fmt: skip
        current_app.conf.task_always_eager = True
        try:
            # New weights: the stored days are scored again from their own inputs.
            with django_capture_on_commit_callbacks(execute=True):
                response = a.client(a.admin).post(url, form)
            assert response.status_code == 302
            after = {
                s.day: s for s in HealthSnapshot.objects.for_org(a.org).filter(account=account)
            }
            assert after.keys() == before.keys() and len(after) == 10
            for day, snapshot in after.items():
                assert snapshot.score is not None and before[day].score is not None
                assert snapshot.score < before[day].score  # silence weighs more now
                assert snapshot.components() == before[day].components()
                assert snapshot.inputs["settings"]["weights"]["recency"] == 0.5
            # A new half-life changes the measured numbers: the 90 days are measured again.
            with django_capture_on_commit_callbacks(execute=True):
                a.client(a.admin).post(url, form | {"half_life_days": "20"})
        finally:
            current_app.conf.task_always_eager = False
    saved = HealthSettings.objects.for_org(a.org).get()
    assert (saved.weight_recency, saved.half_life_days) == (0.5, 20)
    snapshots = HealthSnapshot.objects.for_org(a.org).filter(account=account)
    assert snapshots.count() == 90
    assert {s.inputs["settings"]["half_life_days"] for s in snapshots} == {20}


def test_settings_refuse_negative_or_all_zero_weights(a: Any) -> None:
    url = f"/o/{a.org.slug}/health/settings/"
    form = dict.fromkeys((f"weight_{key}" for key in model.COMPONENTS), "0") | {
        "half_life_days": "45", "waiting_cap_days": "3", "overdue_cap_days": "7",
        "min_exchanges": "4",
    }  # fmt: skip
    response = a.client(a.admin).post(url, form)
    assert response.status_code == 422
    assert "At least one weight must be above zero." in response.content.decode()
    response = a.client(a.admin).post(url, form | {"weight_recency": "-1"})
    assert "Weights cannot be negative." in response.content.decode()
