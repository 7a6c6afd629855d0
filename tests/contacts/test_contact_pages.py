from contacts.models import Contact, ContactAddress


def test_adding_a_person_with_addresses(a):
    response = a.client().post(
        f"/o/{a.org.slug}/accounts/{a.account.pk}/contacts/new/",
        {"full_name": "Grace Hopper", "account": a.account.pk, "title": "CTO",
         "level": "executive", "buying_influence": "decision_maker",
         "email": "Grace+crm@Alpha-Customer.example", "phone": "+44 20 7946 0000"},
    )  # fmt: skip
    contact = Contact.objects.for_org(a.org).get(full_name="Grace Hopper")
    assert response.status_code == 302
    addresses = {(x.kind, x.normalised) for x in contact.addresses.all()}
    assert addresses == {("email", "grace@alpha-customer.example"), ("phone", "+442079460000")}
    page = a.client().get(f"/o/{a.org.slug}/contacts/{contact.pk}/").content.decode()
    assert "CTO" in page and "Decision maker" in page and a.account.name in page


def test_an_email_address_belongs_to_one_person(a):
    taken = ContactAddress.objects.for_org(a.org).get(contact=a.contact).value
    response = a.client().post(
        f"/o/{a.org.slug}/accounts/{a.account.pk}/contacts/new/",
        {"full_name": "Copycat", "account": a.account.pk, "level": "unknown",
         "buying_influence": "none", "email": taken.upper()},
    )  # fmt: skip
    assert response.status_code == 422
    assert f"already belongs to {a.contact.full_name}" in response.content.decode()
    assert not Contact.objects.for_org(a.org).filter(full_name="Copycat").exists()


def test_invalid_contact_form_shows_field_errors(a):
    response = a.client().post(
        f"/o/{a.org.slug}/accounts/{a.account.pk}/contacts/new/",
        {"full_name": "", "account": a.account.pk, "level": "emperor", "email": "not-an-email"},
    )
    html = response.content.decode()
    assert response.status_code == 422
    assert "This field is required." in html
    assert "“not-an-email” is not an email address." in html
    assert "Select a valid choice" in html


def test_editing_a_contact_marks_them_as_left(a):
    email = a.contact.addresses.get().value
    response = a.client().post(
        f"/o/{a.org.slug}/contacts/{a.contact.pk}/edit/",
        {"full_name": a.contact.full_name, "account": a.account.pk, "level": "manager",
         "buying_influence": "champion", "email": email, "left_company_on": "2026-10-01"},
    )  # fmt: skip
    assert response.status_code == 302
    a.contact.refresh_from_db()
    assert str(a.contact.left_company_on) == "2026-10-01"
    assert a.contact.addresses.get().value == email


def test_contact_page_shows_the_conversations_they_took_part_in(a):
    from conversations.models import Participant

    Participant.all_orgs.create(organisation=a.org, message=a.message, contact=a.contact)
    html = a.client().get(f"/o/{a.org.slug}/contacts/{a.contact.pk}/").content.decode()
    assert a.message.body_text in html and a.conversation.subject in html


def test_repeated_long_or_shared_addresses_are_field_errors_not_crashes(a):
    url = f"/o/{a.org.slug}/accounts/{a.account.pk}/contacts/new/"
    base = {"account": a.account.pk, "level": "unknown", "buying_influence": "none"}
    twice = a.client().post(
        url, base | {"full_name": "Dup", "email": "dup@x.example, DUP@x.example"}
    )
    assert twice.status_code == 302
    dup = Contact.objects.for_org(a.org).get(full_name="Dup")
    assert [x.value for x in dup.addresses.all()] == ["dup@x.example"]
    too_long = "a" * 64 + "@" + "b" * 250 + ".com"
    long = a.client().post(url, base | {"full_name": "Long", "email": too_long})
    assert long.status_code == 422 and "longer than an address can be" in long.content.decode()
    a.client().post(url, base | {"full_name": "First", "phone": "+44 20 7946 0000"})
    shared = a.client().post(url, base | {"full_name": "Second", "phone": "+442079460000"})
    assert shared.status_code == 422 and "already belongs to First" in shared.content.decode()
