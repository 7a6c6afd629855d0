"""What members and managers see of health on the account page and the accounts list."""

from __future__ import annotations

from typing import Any

import pytest
import time_machine

from health.services import health_history_rebuild
from tests.conftest import CLIENT_QUERIES
from tests.health.archetypes import ARCHETYPES, NOW
from tests.health.loading import load

pytestmark = pytest.mark.django_db


@pytest.fixture
def traveller() -> Any:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def test_the_account_page_explains_the_score(a: Any, traveller: Any) -> None:
    account = load(ARCHETYPES["monologue"].build(), org=a.org, owner=a.sales, name="Quiet Co")
    health_history_rebuild(org=a.org, days=40, now=NOW)
    html = a.client().get(f"/o/{a.org.slug}/accounts/{account.pk}/").content.decode()
    assert '<strong class="score">49</strong>' in html and "At risk" in html
    assert "Capped at 49: A monologue: we sent 5 messages in 60 days and they sent none." in html
    assert html.count('class="evidence"') == 7
    assert "We answered 8 of 8 customer turns within a business day." in html
    assert '<svg class="sparkline"' in html
    assert "What changed in 30 days" in html
    assert "Breadth fell by" in html or "Recency fell by" in html


def test_what_changed_names_a_new_cap_first(a: Any, traveller: Any) -> None:
    account = load(ARCHETYPES["broken promises"].build(), org=a.org, owner=a.sales, name="Late")
    health_history_rebuild(org=a.org, days=31, now=NOW)
    html = a.client().get(f"/o/{a.org.slug}/accounts/{account.pk}/?changes=1").content.decode()
    changes = html[html.index("What changed in 30 days") :]
    assert changes.index("Now capped at 69.") < changes.index("Commitments kept fell by")
    assert "Our promise &#x27;Pricing for Ops&#x27; is 18 days overdue." in changes
    assert '<details class="what-changed" id="what-changed" open>' in html


def test_the_people_map_shows_who_talks_to_whom(a: Any, traveller: Any) -> None:
    account = load(
        ARCHETYPES["single-threaded champion who leaves"].build(), org=a.org, owner=a.sales,
        name="Leavers Ltd",
    )  # fmt: skip
    health_history_rebuild(org=a.org, days=1, now=NOW)
    html = a.client().get(f"/o/{a.org.slug}/accounts/{account.pk}/").content.decode()
    people = html[html.index("Their people") :]
    champion = people[people.index("Leavers Ltd person 0") :].split("</tr>")[0]
    assert "Champion" in champion and "left 8 Apr 2026" in champion
    assert "ago" in champion and "never" not in champion
    assert a.sales.display_name in champion
    decision_maker = people[people.index("Leavers Ltd person 1") :].split("</tr>")[0]
    assert "Decision maker" in decision_maker and "never" in decision_maker


def test_an_account_with_too_little_conversation_shows_no_number(a: Any, traveller: Any) -> None:
    account = load(
        ARCHETYPES["too little conversation"].build(), org=a.org, owner=a.sales, name="New Co"
    )
    health_history_rebuild(org=a.org, days=1, now=NOW)
    html = a.client().get(f"/o/{a.org.slug}/accounts/{account.pk}/").content.decode()
    assert "Not enough conversation to judge" in html
    assert 'class="score"' not in html


def test_the_accounts_list_shows_health_for_everyone_in_bounded_queries(
    a: Any, traveller: Any, django_assert_max_num_queries: Any
) -> None:
    for name in ("healthy multi-threaded", "monologue", "broken promises"):
        load(ARCHETYPES[name].build(), org=a.org, owner=a.sales, name=name.title())
    health_history_rebuild(org=a.org, days=10, now=NOW)
    client = a.client()
    client.get(f"/o/{a.org.slug}/accounts/")
    with django_assert_max_num_queries(13 + CLIENT_QUERIES):
        html = client.get(f"/o/{a.org.slug}/accounts/").content.decode()
    assert "Healthy" in html and "At risk" in html and "Needs attention" in html
    assert html.count('<svg class="sparkline"') == 3
