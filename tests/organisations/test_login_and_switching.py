from tests import factories
from tests.conftest import TenantClient as Client
from tests.factories import PASSWORD


def test_a_member_logs_in_by_email_and_lands_in_their_organisation(a):
    client = Client()
    response = client.post("/login/", {"username": a.sales.email.upper(), "password": PASSWORD})
    assert response.status_code == 302
    landing = client.get("/", follow=True)
    assert landing.request["PATH_INFO"] == f"/o/{a.org.slug}/"


def test_a_wrong_password_says_so_and_logs_nobody_in(a):
    client = Client()
    response = client.post("/login/", {"username": a.sales.email, "password": "nope"})
    assert response.status_code == 200
    assert "Please enter a correct email and password" in response.content.decode()
    assert client.get("/").status_code == 302


def test_a_user_in_two_organisations_chooses_and_switches(a, b):
    factories.MemberFactory(organisation=b.org, user=a.sales)
    client = a.client()
    choose = client.get("/").content.decode()
    assert a.org.name in choose and b.org.name in choose
    in_a = client.get(f"/o/{a.org.slug}/accounts/").content.decode()
    assert a.account.name in in_a and b.account.name not in in_a
    assert f'href="/o/{b.org.slug}/"' in in_a, "the switcher offers the other organisation"
    in_b = client.get(f"/o/{b.org.slug}/accounts/").content.decode()
    assert b.account.name in in_b and a.account.name not in in_b


def test_logging_out(a):
    client = a.client()
    client.post("/logout/")
    assert client.get(f"/o/{a.org.slug}/").status_code == 302
