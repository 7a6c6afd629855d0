"""Every failure under /api/ answers in the one error body, even those no API view handled."""

from __future__ import annotations

from accounts.api import AccountViewSet
from api.errors import server_error
from tests.api.conftest import error_of


def test_a_crash_in_a_view_answers_500_in_the_error_body(api, monkeypatch, caplog):
    def crash(*args, **kwargs):
        raise RuntimeError("the disk is on fire")

    monkeypatch.setattr(AccountViewSet, "list", crash)
    api.client.raise_request_exception = False
    response = api.get("accounts/")
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    error = error_of(response)
    assert error["code"] == "server_error"
    assert "fire" not in error["message"]  # what went wrong is logged, not told
    assert "the disk is on fire" in caplog.text


def test_a_crash_outside_the_api_keeps_its_html_page(rf):
    response = server_error(rf.get("/o/acme/accounts/"))
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")
