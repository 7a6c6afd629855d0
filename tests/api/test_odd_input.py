"""Odd numbers in a query string are the client's mistake (400 in the one error body), not 500s."""

from __future__ import annotations

import pytest

from search.api import MAX_PAGE
from tests.api.conftest import Api, error_of
from tests.api.test_resources import token_for

# "²" is a digit to str.isdigit() but not to int(); int() refuses more than 4,300 digits; a
# page far past the end must not overflow the search function's integer offset.
ODD = ["²", "٣x", "9" * 5000, "-1", "0"]


@pytest.mark.parametrize("value", ODD)
def test_an_odd_page_size_is_refused(api, value):
    api.client.raise_request_exception = False
    response = api.get("accounts/", {"limit": value})
    assert response.status_code == 400
    assert error_of(response)["fields"] == {"limit": ["A number of rows from 1 to 200."]}


@pytest.mark.parametrize("value", [*ODD, "9" * 30])
def test_an_odd_search_page_is_refused(api, value):
    api.client.raise_request_exception = False
    response = api.get("search/", {"q": "pricing", "page": value})
    assert response.status_code == 400
    assert list(error_of(response)["fields"]) == ["page"]


def test_search_pages_go_as_far_as_the_search_can(api):
    last = api.get("search/", {"q": "pricing", "page": str(MAX_PAGE)})
    assert last.status_code == 200
    assert last.json()["messages"] == []
    beyond = api.get("search/", {"q": "pricing", "page": str(MAX_PAGE + 1)})
    assert error_of(beyond)["fields"] == {"page": [f"A page number from 1 to {MAX_PAGE}."]}


@pytest.mark.parametrize("value", ["²", "9" * 5000, "-3", "me"])
def test_a_managers_odd_owner_filter_is_refused(a, value):
    manager: Api = token_for(a, a.admin)
    manager.client.raise_request_exception = False
    response = manager.get("followups/", {"owner": value})
    assert response.status_code == 400
    assert error_of(response)["fields"] == {"owner": ["A user id, or all."]}
