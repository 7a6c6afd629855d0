from django.contrib import admin

from contacts.models import Contact, ContactAddress


class ContactAddressInline(admin.TabularInline):
    model = ContactAddress
    extra = 0
    readonly_fields = ("normalised",)


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ("full_name", "title", "account", "level", "buying_influence", "organisation")
    list_filter = ("organisation", "level", "buying_influence")
    search_fields = ("full_name", "title", "addresses__normalised")
    list_select_related = ("account", "organisation")
    raw_id_fields = ("account",)
    inlines = (ContactAddressInline,)


@admin.register(ContactAddress)
class ContactAddressAdmin(admin.ModelAdmin):
    list_display = ("value", "kind", "contact", "organisation")
    list_filter = ("organisation", "kind")
    search_fields = ("normalised",)
    list_select_related = ("contact", "organisation")
    raw_id_fields = ("contact",)
