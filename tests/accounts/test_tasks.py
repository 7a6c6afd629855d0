from accounts.models import Account
from accounts.tasks import refresh_account_activity, refresh_all_account_activity
from conversations.models import Message


def test_refreshing_activity_repairs_each_accounts_last_interaction_in_its_organisation(a, b):
    Account.all_orgs.update(last_interaction_at=None)
    changed = refresh_account_activity(a.org.pk)
    assert changed == 1
    assert Account.all_orgs.get(pk=a.account.pk).last_interaction_at == a.message.occurred_at
    assert Account.all_orgs.get(pk=b.account.pk).last_interaction_at is None, "B is not touched"
    assert refresh_account_activity(a.org.pk) == 0, "running it again changes nothing"


def test_refresh_for_an_organisation_that_has_gone_does_nothing(db):
    assert refresh_account_activity(999_999) == 0


def test_account_with_no_messages_has_no_last_interaction(a):
    Message.all_orgs.all().delete()
    Account.all_orgs.update(last_interaction_at=a.message.occurred_at)
    refresh_account_activity(a.org.pk)
    assert Account.all_orgs.get(pk=a.account.pk).last_interaction_at is None


def test_the_nightly_fan_out_enqueues_one_task_per_organisation(a, b, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    from threadline.celery import app

    app.conf.task_always_eager = True
    try:
        Account.all_orgs.update(last_interaction_at=None)
        assert refresh_all_account_activity() == 2
    finally:
        app.conf.task_always_eager = False
    assert not Account.all_orgs.filter(last_interaction_at=None).exists()


def test_automated_mail_is_no_interaction_when_activity_is_refreshed(a):
    Message.all_orgs.filter(pk=a.message.pk).update(automated_reason="out-of-office")
    Account.all_orgs.update(last_interaction_at=a.message.occurred_at)
    refresh_account_activity(a.org.pk)
    assert Account.all_orgs.get(pk=a.account.pk).last_interaction_at is None
