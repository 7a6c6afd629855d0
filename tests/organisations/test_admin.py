import pytest
from django.contrib import admin

from tests import factories


@pytest.fixture
def staff_client(a, b, client):
    superuser = factories.UserFactory(is_staff=True, is_superuser=True)
    client.force_login(superuser)
    return client


@pytest.mark.parametrize("model", list(admin.site._registry), ids=lambda m: m._meta.label_lower)
def test_staff_see_every_organisations_rows_in_the_admin(model, staff_client, a, b):
    info = model._meta.app_label, model._meta.model_name
    response = staff_client.get(f"/admin/{info[0]}/{info[1]}/")
    assert response.status_code == 200
    if model._meta.label_lower == "accounts.account":
        html = response.content.decode()
        assert a.account.name in html and b.account.name in html


def test_a_member_who_is_not_staff_cannot_use_the_admin(a):
    response = a.client().get("/admin/accounts/account/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
