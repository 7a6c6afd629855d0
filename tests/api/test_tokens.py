"""Personal API tokens: made and revoked by the member, stored hashed, one organisation each."""

from __future__ import annotations

import datetime

from django.utils import timezone

from api.models import ApiToken
from api.services import api_token_create
from organisations.models import Membership
from tests import factories
from tests.api.conftest import Api, error_of


def test_a_token_reads_its_organisation_as_its_member(api, a):
    response = api.get("accounts/")
    assert response.status_code == 200
    assert [row["name"] for row in response.json()["results"]] == [a.account.name]


def test_no_token_or_a_wrong_one_is_401_with_the_reason(a):
    anonymous = Api(a)
    anonymous.headers = {}
    response = anonymous.get("accounts/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    wrong = Api(a, secret="tl_not-a-token")
    assert "unknown, revoked or expired" in error_of(wrong.get("accounts/"))["message"]


def test_a_token_is_stored_only_as_a_digest_and_its_use_is_recorded(a):
    row = ApiToken.objects.get(pk=a.token.pk)
    assert a.token_secret not in (row.digest, row.hint)
    assert row.hint == a.token_secret[:10]
    assert row.last_used_at is None
    Api(a).get("accounts/")
    row.refresh_from_db()
    assert row.last_used_at is not None


def test_a_revoked_or_expired_token_no_longer_works(a):
    membership = Membership.objects.get(organisation=a.org, user=a.sales)
    _, expired = api_token_create(
        membership=membership, name="old", expires_at=timezone.now() - datetime.timedelta(hours=1)
    )
    assert Api(a, expired).get("accounts/").status_code == 401
    client = a.client()
    client.post(f"/o/{a.org.slug}/settings/api-tokens/{a.token.pk}/revoke/")
    assert Api(a).get("accounts/").status_code == 401


def test_a_token_is_good_for_its_own_organisation_only(a, b):
    # The sales member of A joins B too: their A token still does not open B.
    factories.MemberFactory(organisation=b.org, user=a.sales)
    response = Api(a).get("accounts/", slug=b.org.slug)
    assert response.status_code == 404
    assert b.account.name not in response.content.decode()


def test_a_member_who_left_loses_their_tokens(a):
    Membership.objects.filter(organisation=a.org, user=a.sales).delete()
    assert Api(a).get("accounts/").status_code == 401


def test_the_browser_session_works_and_writes_need_the_csrf_token(a):
    from tests.conftest import TenantClient

    client = TenantClient(enforce_csrf_checks=True)
    client.force_login(a.sales)
    url = f"/api/v1/o/{a.org.slug}/accounts/"
    assert client.get(url).status_code == 200
    response = client.post(url, {"name": "Made in the browser"}, content_type="application/json")
    assert response.status_code == 403
    assert "CSRF" in error_of(response)["message"]


def test_the_tokens_page_shows_a_new_secret_once(a):
    client = a.client()
    url = f"/o/{a.org.slug}/settings/api-tokens/"
    made = client.post(url, {"name": "billing sync"})
    # Post/redirect/get: the page that shows the secret is a GET, so refreshing it is harmless.
    assert made.status_code == 302 and made["Location"] == url
    page = client.get(url)
    assert page.status_code == 200
    assert "no-store" in page["Cache-Control"]
    html = page.content.decode()
    token = ApiToken.objects.get(name="billing sync")
    secret = html.split('<code class="secret">')[1].split("</code>")[0]
    assert secret.startswith(token.hint)
    assert Api(a, secret).get("accounts/").status_code == 200
    again = client.get(url).content.decode()
    assert "billing sync" in again and secret not in again
    assert ApiToken.objects.filter(name="billing sync").count() == 1


def test_refreshing_the_page_after_making_a_token_makes_no_second_one(a):
    client = a.client()
    url = f"/o/{a.org.slug}/settings/api-tokens/"
    # A browser refreshes the page it shows: after post/redirect/get that is the GET.
    shown = client.post(url, {"name": "nightly export"}, follow=True)
    assert '<code class="secret">' in shown.content.decode()
    refreshed = client.get(shown.redirect_chain[-1][0])
    assert '<code class="secret">' not in refreshed.content.decode()
    assert ApiToken.objects.filter(name="nightly export").count() == 1


def test_a_new_secret_is_shown_only_on_its_own_organisations_page(a, b):
    factories.MemberFactory(organisation=b.org, user=a.sales)
    client = a.client()
    client.post(f"/o/{a.org.slug}/settings/api-tokens/", {"name": "alpha only"})
    other = client.get(f"/o/{b.org.slug}/settings/api-tokens/").content.decode()
    assert '<code class="secret">' not in other
    own = client.get(f"/o/{a.org.slug}/settings/api-tokens/").content.decode()
    assert '<code class="secret">' in own


def test_the_tokens_page_refuses_a_past_expiry_and_makes_nothing(a):
    page = a.client().post(
        f"/o/{a.org.slug}/settings/api-tokens/", {"name": "x", "expires_on": "2020-01-01"}
    )
    assert page.status_code == 422
    assert "Choose a day after today." in page.content.decode()
    assert not ApiToken.objects.filter(name="x").exists()


def test_members_see_and_revoke_only_their_own_tokens(a):
    page = a.client(a.admin).get(f"/o/{a.org.slug}/settings/api-tokens/").content.decode()
    assert a.token.name not in page
    response = a.client(a.admin).post(f"/o/{a.org.slug}/settings/api-tokens/{a.token.pk}/revoke/")
    assert response.status_code == 404
    assert Api(a).get("accounts/").status_code == 200


def test_each_token_has_its_own_request_budget(a, settings):
    settings.API_THROTTLE_RATE = "3/min"
    from django.core.cache import cache

    cache.clear()
    api = Api(a)
    codes = [api.get("accounts/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    error = error_of(api.get("accounts/"))
    assert error["code"] == "throttled"
    membership = Membership.objects.get(organisation=a.org, user=a.admin)
    _, other = api_token_create(membership=membership, name="other")
    assert Api(a, other).get("accounts/").status_code == 200
    cache.clear()
