"""Tenancy holds at every layer: the manager fails closed, the database filters, links stay home."""

import pytest
from django.db import IntegrityError, ProgrammingError, connection, transaction

from accounts.models import Account
from contacts.models import Contact
from conversations.models import Message
from organisations.rls import POLICY_NAME
from organisations.tenancy import UnscopedQueryError, no_org_context, org_context, tenant_models
from tests import factories


def test_querying_a_tenant_model_without_for_org_raises(a):
    with pytest.raises(UnscopedQueryError):
        Account.objects.all()
    with pytest.raises(UnscopedQueryError):
        Message.objects.filter(pk=a.message.pk)
    with pytest.raises(UnscopedQueryError):
        Contact.objects.create(account=a.account, full_name="Nobody")


def test_for_org_answers_only_that_organisations_rows(a, b):
    assert list(Account.objects.for_org(a.org)) == [a.account]
    assert list(Account.objects.for_org(b.org.pk)) == [b.account]


def test_creating_through_a_scoped_queryset_sets_the_organisation(a, b):
    account = Account.objects.for_org(a.org).create(name="Made in A")
    assert account.organisation_id == a.org.pk
    with pytest.raises(UnscopedQueryError):
        Account.objects.for_org(a.org).create(name="Sneaky", organisation=b.org)


def test_every_tenant_table_has_row_level_security_and_its_policy(db):
    with connection.cursor() as cursor:
        for model in tenant_models():
            table = model._meta.db_table
            cursor.execute(
                "SELECT c.relrowsecurity, p.policyname FROM pg_class c "
                "LEFT JOIN pg_policies p ON p.tablename = c.relname WHERE c.relname = %s",
                [table],
            )
            assert cursor.fetchone() == (True, POLICY_NAME), table


def test_the_app_connects_as_a_role_that_row_level_security_applies_to(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
        )
        role, is_superuser, bypasses = cursor.fetchone()
    assert role == "threadline_app"
    assert not is_superuser and not bypasses


def test_the_database_shows_one_organisation_even_to_raw_sql(a, b):
    with org_context(a.org), connection.cursor() as cursor:
        cursor.execute("SELECT body_text FROM conversations_message")
        bodies = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            "SELECT count(*) FROM accounts_account WHERE organisation_id = %s", [b.org.pk]
        )
        b_accounts_seen = cursor.fetchone()[0]
    assert bodies == ["ALPHA secret pricing discussion"]
    assert b_accounts_seen == 0


def test_without_an_organisation_context_the_database_shows_nothing(a):
    with no_org_context(), connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM conversations_message")
        assert cursor.fetchone()[0] == 0


def test_the_database_refuses_to_write_rows_into_another_organisation(a, b):
    planted = (
        "INSERT INTO accounts_account (organisation_id, name, website, description, created_at)"
        " VALUES (%s, 'Planted', '', '', now())"
    )
    with (
        org_context(a.org),
        pytest.raises(ProgrammingError, match="row-level security"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(planted, [b.org.pk])


def test_no_row_can_point_at_another_organisations_rows(a, b):
    # A's contact at B's account: the application never does this, and the database refuses it.
    with pytest.raises(IntegrityError), transaction.atomic():
        factories.ContactFactory(organisation=a.org, account=b.account)
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def test_a_link_to_a_row_that_does_not_exist_is_refused(a):
    # The composite keys alone check links: Django's single-column ones are dropped as
    # redundant (each cost every insert a lookup), so they must catch what those did.
    with pytest.raises(IntegrityError), transaction.atomic():
        account = factories.AccountFactory(organisation=a.org)
        factories.ContactFactory(organisation=a.org, account=account)
        Account.objects.for_org(a.org).filter(pk=account.pk)._raw_delete(connection.alias)
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def test_composite_unique_constraints_include_the_organisation(a, b):
    # The same domain and Message-ID may exist once in each organisation.
    factories.AccountDomainFactory(organisation=b.org, account=b.account, domain=a.domain.domain)
    factories.MessageFactory(organisation=a.org, conversation=a.conversation, message_id="<x@y>")
    factories.MessageFactory(organisation=b.org, conversation=b.conversation, message_id="<x@y>")
    with pytest.raises(IntegrityError), transaction.atomic():
        factories.MessageFactory(
            organisation=a.org, conversation=a.conversation, message_id="<x@y>"
        )


def test_the_app_role_cannot_truncate_tables_which_row_level_security_would_not_stop(a):
    with (
        pytest.raises(ProgrammingError, match="permission denied"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("TRUNCATE conversations_message CASCADE")
