from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from accounts.views import get_account
from contacts.forms import ContactForm
from contacts.models import Contact, ContactAddress
from contacts.services import contact_save
from conversations.selectors import contact_timeline
from threadline.http import OrgRequest


def get_contact(request: OrgRequest, contact_id: int) -> Contact:
    contacts = (
        Contact.objects.for_org(request.org)
        .select_related("account")
        .prefetch_related(
            Prefetch(
                "addresses", queryset=ContactAddress.objects.for_org(request.org).order_by("pk")
            )
        )
    )
    return get_object_or_404(contacts, pk=contact_id)


def _save(request: OrgRequest, form: ContactForm, contact: Contact | None = None) -> Contact:
    data = form.cleaned_data
    return contact_save(
        org=request.org,
        contact=contact,
        emails=data.pop("email"),
        phone=data.pop("phone"),
        **{name: data[name] for name in ContactForm.Meta.fields},
    )


def contact_detail(request: OrgRequest, contact_id: int):  # type: ignore[no-untyped-def]
    contact = get_contact(request, contact_id)
    page = Paginator(contact_timeline(org=request.org, contact=contact), 20).get_page(
        request.GET.get("page")
    )
    return render(request, "contacts/contact_detail.html", {"contact": contact, "page": page})


@require_http_methods(["GET", "POST"])
def contact_create(request: OrgRequest, account_id: int):  # type: ignore[no-untyped-def]
    account = get_account(request, account_id)
    form = ContactForm(request.POST or None, org=request.org, initial={"account": account})
    if form.is_valid():
        contact = _save(request, form)
        return redirect("contact_detail", org_slug=request.org.slug, contact_id=contact.pk)
    return render(
        request,
        "contacts/contact_form.html",
        {"form": form, "account": account},
        status=422 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
def contact_edit(request: OrgRequest, contact_id: int):  # type: ignore[no-untyped-def]
    contact = get_contact(request, contact_id)
    form = ContactForm(request.POST or None, instance=contact, org=request.org)
    if form.is_valid():
        _save(request, form, contact)
        return redirect("contact_detail", org_slug=request.org.slug, contact_id=contact.pk)
    return render(
        request,
        "contacts/contact_form.html",
        {"form": form, "account": contact.account, "contact": contact},
        status=422 if form.errors else 200,
    )
