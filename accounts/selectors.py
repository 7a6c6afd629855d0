from __future__ import annotations

from django.db.models import Count, F, QuerySet

from accounts.models import Account
from contacts.models import Contact
from organisations.models import Organisation


def account_list(
    *, org: Organisation, search: str = "", owner_id: int | None = None
) -> QuerySet[Account]:
    accounts = Account.objects.for_org(org)
    if search:
        accounts = accounts.filter(name__icontains=search)
    if owner_id:
        accounts = accounts.filter(owner_id=owner_id)
    return (
        accounts.select_related("owner")
        .annotate(people=Count("contacts", distinct=True))
        .order_by(F("last_interaction_at").desc(nulls_last=True), "name")
    )


def account_people(*, org: Organisation, account: Account) -> QuerySet[Contact]:
    return (
        Contact.objects.for_org(org)
        .filter(account=account)
        .order_by("left_company_on", "full_name")
    )
