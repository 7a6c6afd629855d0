from accounts.models import Account, AccountDomain
from tests import factories
from tests.conftest import CLIENT_QUERIES


def test_accounts_list_shows_owner_and_last_interaction_newest_first(a):
    quiet = factories.AccountFactory(organisation=a.org, name="Quiet Co")
    a.account.last_interaction_at = a.message.occurred_at
    a.account.save()
    rows = a.client().get(f"/o/{a.org.slug}/accounts/", HTTP_HX_REQUEST="true").content.decode()
    assert rows.index(a.account.name) < rows.index(quiet.name)
    assert f"<td>{a.sales.display_name}</td>" in rows
    assert "never" in rows


def test_accounts_list_runs_a_fixed_number_of_queries(a, django_assert_max_num_queries):
    for n in range(30):
        factories.AccountFactory(organisation=a.org, owner=a.admin, name=f"Bulk {n}")
    client = a.client()
    client.get(f"/o/{a.org.slug}/accounts/")  # warm the session
    with django_assert_max_num_queries(12 + CLIENT_QUERIES):
        response = client.get(f"/o/{a.org.slug}/accounts/")
    assert "Bulk 29" in response.content.decode()


def test_accounts_list_filters_by_name_as_you_type(a):
    factories.AccountFactory(organisation=a.org, name="Zephyr Ltd")
    response = a.client().get(f"/o/{a.org.slug}/accounts/", {"q": "zeph"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "Zephyr Ltd" in html and a.account.name not in html
    assert "<html" not in html, "htmx gets only the rows"


def test_creating_an_account_with_domains(a):
    response = a.client().post(
        f"/o/{a.org.slug}/accounts/new/",
        {"name": "Globex", "website": "https://globex.example", "owner": a.sales.pk,
         "domains": "globex.example, @Globex.co.uk"},
    )  # fmt: skip
    account = Account.objects.for_org(a.org).get(name="Globex")
    assert response.status_code == 302 and response["Location"].endswith(f"/{account.pk}/")
    assert sorted(account.domains.values_list("domain", flat=True)) == [
        "globex.co.uk",
        "globex.example",
    ]


def test_invalid_account_form_shows_field_errors_and_changes_nothing(a):
    before = Account.all_orgs.count(), AccountDomain.all_orgs.count()
    response = a.client().post(
        f"/o/{a.org.slug}/accounts/new/",
        {"name": a.account.name.lower(), "website": "not a url", "domains": "gmail.com"},
    )
    html = response.content.decode()
    assert response.status_code == 422
    assert "There is already an account with this name." in html
    assert "Enter a valid URL." in html
    assert "gmail.com is a free-mail domain" in html
    assert (Account.all_orgs.count(), AccountDomain.all_orgs.count()) == before


def test_a_domain_belongs_to_one_account(a):
    response = a.client().post(
        f"/o/{a.org.slug}/accounts/new/", {"name": "Other", "domains": a.domain.domain}
    )
    assert response.status_code == 422
    assert f"{a.domain.domain} already belongs to {a.account.name}" in response.content.decode()


def test_editing_an_account_replaces_its_domains(a):
    response = a.client().post(
        f"/o/{a.org.slug}/accounts/{a.account.pk}/edit/",
        {"name": "Renamed Ltd", "domains": "renamed.example"},
    )
    assert response.status_code == 302
    a.account.refresh_from_db()
    assert a.account.name == "Renamed Ltd"
    assert list(a.account.domains.values_list("domain", flat=True)) == ["renamed.example"]


def test_the_owner_must_be_a_member_of_the_organisation(a, b):
    response = a.client().post(
        f"/o/{a.org.slug}/accounts/new/", {"name": "Initech", "owner": b.sales.pk}
    )
    assert response.status_code == 422
    assert "Select a valid choice" in response.content.decode()


def test_account_page_shows_people_and_full_history_newest_first(a):
    other = factories.ConversationFactory(organisation=a.org, account=a.account, subject="Second")
    newer = factories.MessageFactory(
        organisation=a.org, conversation=other, body_text="The newest thing we discussed"
    )
    html = a.client().get(f"/o/{a.org.slug}/accounts/{a.account.pk}/").content.decode()
    people = html[html.index('<ul class="people">') :]
    assert a.contact.full_name in people[: people.index("</ul>")]
    assert html.index(newer.body_text) < html.index(a.message.body_text)
    assert a.commitment.text in html


def test_account_history_is_paginated_with_a_load_older_link(a, django_assert_max_num_queries):
    for n in range(45):
        factories.MessageFactory(
            organisation=a.org,
            conversation=a.conversation,
            body_text=f"Entry number {n:02d}",
            sender_contact=a.contact if n % 2 else None,
            sender_member=None if n % 2 else a.sales,
        )
    client = a.client()
    url = f"/o/{a.org.slug}/accounts/{a.account.pk}/"
    client.get(url)
    with django_assert_max_num_queries(22 + CLIENT_QUERIES):  # +2: health and people map
        first = client.get(url).content.decode()
    assert first.count('class="message ') == 20
    assert "Load older" in first
    third = client.get(url, {"page": 3}, HTTP_HX_REQUEST="true").content.decode()
    assert third.count('class="message ') == 6  # 46 messages in all
    assert "Load older" not in third and "<html" not in third


def test_the_accounts_pager_keeps_the_search_and_owner_filter(a):
    for n in range(55):
        factories.AccountFactory(organisation=a.org, owner=a.admin, name=f"Bulk {n:02d}")
    html = a.client().get(f"/o/{a.org.slug}/accounts/", {"owner": a.admin.pk, "q": "bulk"})
    assert f"?owner={a.admin.pk}&amp;q=bulk&amp;page=2" in html.content.decode()
