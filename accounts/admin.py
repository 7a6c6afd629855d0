from django.contrib import admin

from accounts.models import Account, AccountDomain


class AccountDomainInline(admin.TabularInline):
    model = AccountDomain
    extra = 0


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ("name", "organisation", "owner", "last_interaction_at")
    list_filter = ("organisation",)
    search_fields = ("name",)
    list_select_related = ("organisation", "owner")
    raw_id_fields = ("owner",)
    inlines = (AccountDomainInline,)


@admin.register(AccountDomain)
class AccountDomainAdmin(admin.ModelAdmin):
    list_display = ("domain", "account", "organisation")
    list_filter = ("organisation",)
    search_fields = ("domain",)
    list_select_related = ("account", "organisation")
    raw_id_fields = ("account",)
