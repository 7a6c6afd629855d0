from django.db.models import QuerySet

from organisations.models import Membership, User


def memberships_of_user(*, user: User) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(user=user)
        .select_related("organisation")
        .order_by("organisation__name")
    )


def members_of_org(*, org_id: int) -> QuerySet[User]:
    return User.objects.filter(memberships__organisation_id=org_id, is_active=True).order_by(
        "full_name", "email"
    )
