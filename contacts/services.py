from __future__ import annotations

from typing import Any

from django.db import transaction

from contacts.models import Contact, ContactAddress
from organisations.models import Organisation


@transaction.atomic
def contact_save(
    *,
    org: Organisation,
    contact: Contact | None = None,
    emails: list[str],
    phone: str = "",
    **fields: Any,
) -> Contact:
    """Create or update a contact and replace their addresses."""
    if contact is None:
        contact = Contact.objects.for_org(org).create(**fields)
    else:
        for name, value in fields.items():
            setattr(contact, name, value)
        contact.save(update_fields=list(fields))
    ContactAddress.objects.for_org(org).filter(contact=contact).delete()
    wanted = [(ContactAddress.Kind.EMAIL, email) for email in emails]
    if phone:
        wanted.append((ContactAddress.Kind.PHONE, phone))
    for kind, value in wanted:
        # save() fills in the normalised form that incoming mail is matched on.
        ContactAddress(organisation=org, contact=contact, kind=kind, value=value).save()
    return contact
