"""A manager finds the accounts at risk and reads what changed, in a real browser."""

from __future__ import annotations

from django.utils import timezone

from health.services import health_history_rebuild
from organisations.models import Role
from organisations.tenancy import org_context
from tests import factories
from tests.browser.conftest import log_in
from tests.health.archetypes import ARCHETYPES
from tests.health.loading import load


def test_a_manager_filters_to_at_risk_accounts_and_opens_what_changed(live_server, a, page):
    manager = factories.MemberFactory(organisation=a.org, role=Role.MANAGER).user
    now = timezone.now()
    with org_context(a.org):  # the browser's event loop runs: a connection of the test's own
        for name, label in (
            ("monologue", "Talking To Ourselves Ltd"),
            ("healthy multi-threaded", "Thriving Ltd"),
            ("broken promises", "Promises Ltd"),
        ):
            load(ARCHETYPES[name].build(now), org=a.org, owner=a.sales, name=label)
        health_history_rebuild(org=a.org, days=35, now=now)

    log_in(page, live_server, manager)
    page.click("nav.mainnav >> text=Health")
    rows = page.locator("#dashboard-rows tbody tr")
    rows.filter(has_text="Thriving Ltd").wait_for()

    page.select_option("select[name=band]", "at_risk")
    rows.filter(has_text="Thriving Ltd").wait_for(state="detached")
    assert "band=at_risk" in page.url
    assert rows.count() == 1
    row = rows.filter(has_text="Talking To Ourselves Ltd")
    assert "Monologue" in row.inner_text()

    row.locator("a", has_text="What changed").click()
    changes = page.locator("details#what-changed")
    changes.wait_for()
    assert changes.get_attribute("open") is not None
    text = changes.inner_text()
    assert "fell by" in text and "points" in text
    assert page.locator(".health-score .score").inner_text() == "49"
    assert "Capped at 49" in page.locator("#health").inner_text()
