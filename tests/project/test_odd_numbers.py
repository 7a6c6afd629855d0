"""Pages read numbers from query strings without a server error, whatever is typed there."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("odd", ["²", "9" * 5000, "-1", "1.5"])
def test_odd_numbers_in_page_addresses_are_ignored_not_server_errors(a, odd):
    client = a.client(a.admin)
    slug = a.org.slug
    assert client.get(f"/o/{slug}/search/", {"q": "pricing", "page": odd}).status_code == 200
    assert client.get(f"/o/{slug}/accounts/", {"owner": odd}).status_code == 200
    assert client.get(f"/o/{slug}/health/", {"owner": odd}).status_code == 200
    assert client.get(f"/o/{slug}/followups/", {"member": odd}).status_code == 404
