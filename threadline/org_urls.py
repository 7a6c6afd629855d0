"""Everything under /o/<org-slug>/: TenantMiddleware has resolved request.org before any view."""

from django.urls import path

from accounts import views as accounts
from api import views as api
from contacts import views as contacts
from conversations import views as conversations
from followups import views as followups
from health import views as health
from mail import views as mail
from organisations import views as organisations
from search import views as search
from webhooks import views as webhooks

urlpatterns = [
    path("", conversations.org_home, name="org_home"),
    path("accounts/", accounts.account_list, name="account_list"),
    path("accounts/new/", accounts.account_create, name="account_create"),
    path("accounts/<int:account_id>/", accounts.account_detail, name="account_detail"),
    path("accounts/<int:account_id>/edit/", accounts.account_edit, name="account_edit"),
    path("accounts/<int:account_id>/log/", conversations.interaction_log, name="interaction_log"),
    path("accounts/<int:account_id>/email/", mail.email_new, name="email_new"),
    path("accounts/<int:account_id>/contacts/new/", contacts.contact_create, name="contact_create"),
    path("contacts/<int:contact_id>/", contacts.contact_detail, name="contact_detail"),
    path("contacts/<int:contact_id>/edit/", contacts.contact_edit, name="contact_edit"),
    path(
        "conversations/<int:conversation_id>/",
        conversations.conversation_detail,
        name="conversation_detail",
    ),
    path(
        "conversations/<int:conversation_id>/log/",
        conversations.conversation_log,
        name="conversation_log",
    ),
    path(
        "conversations/<int:conversation_id>/commitments/",
        conversations.commitment_create,
        name="commitment_create",
    ),
    path("followups/", followups.followup_queue, name="followup_queue"),
    path(
        "followups/<int:followup_id>/snooze/",
        followups.followup_snooze_view,
        name="followup_snooze",
    ),
    path(
        "followups/<int:followup_id>/<str:resolution>/",
        followups.followup_resolve_view,
        name="followup_resolve",
    ),
    path(
        "conversations/<int:conversation_id>/owner/",
        followups.conversation_reassign_view,
        name="conversation_reassign",
    ),
    path("team/", followups.team, name="team"),
    path("search/", search.search_page, name="search"),
    path("search/jump/", search.quick_jump, name="quick_jump"),
    path("health/", health.health_dashboard, name="health_dashboard"),
    path("health/export.csv", health.health_export, name="health_export"),
    path("health/settings/", health.health_settings, name="health_settings"),
    path("settings/", organisations.organisation_settings, name="organisation_settings"),
    path("settings/api-tokens/", api.api_tokens, name="api_tokens"),
    path(
        "settings/api-tokens/<int:token_id>/revoke/",
        api.api_token_revoke_view,
        name="api_token_revoke",
    ),
    path(
        "settings/holidays/<int:holiday_id>/delete/",
        organisations.holiday_delete,
        name="holiday_delete",
    ),
    path("settings/webhooks/", webhooks.webhook_list, name="webhook_list"),
    path("settings/webhooks/new/", webhooks.webhook_create_view, name="webhook_create"),
    path("settings/webhooks/<int:webhook_id>/", webhooks.webhook_detail, name="webhook_detail"),
    path(
        "settings/webhooks/<int:webhook_id>/created/",
        webhooks.webhook_created,
        name="webhook_created",
    ),
    path(
        "settings/webhooks/<int:webhook_id>/toggle/",
        webhooks.webhook_toggle,
        name="webhook_toggle",
    ),
    path(
        "settings/webhooks/<int:webhook_id>/delete/",
        webhooks.webhook_delete_view,
        name="webhook_delete",
    ),
    path("settings/webhooks/<int:webhook_id>/test/", webhooks.webhook_test, name="webhook_test"),
    path(
        "settings/webhooks/deliveries/<int:delivery_id>/redeliver/",
        webhooks.delivery_redeliver_view,
        name="webhook_redeliver",
    ),
    path(
        "conversations/<int:conversation_id>/merge/",
        conversations.conversation_merge_view,
        name="conversation_merge",
    ),
    path("messages/<int:message_id>/move/", conversations.message_move_view, name="message_move"),
    path(
        "messages/<int:message_id>/split/",
        conversations.conversation_split_view,
        name="conversation_split",
    ),
    path(
        "conversations/<int:conversation_id>/compose/",
        mail.email_compose,
        name="email_compose",
    ),
    path(
        "conversations/<int:conversation_id>/draft/",
        mail.email_draft_save,
        name="email_draft_save",
    ),
    path(
        "conversations/<int:conversation_id>/draft/files/",
        mail.email_draft_attach,
        name="email_draft_attach",
    ),
    path(
        "conversations/<int:conversation_id>/draft/files/<int:file_id>/remove/",
        mail.email_draft_detach,
        name="email_draft_detach",
    ),
    path("conversations/<int:conversation_id>/send/", mail.email_send_view, name="email_send"),
    path("messages/<int:message_id>/retry/", mail.email_retry, name="email_retry"),
    path("mail/", mail.mailbox_list, name="mailbox_list"),
    path("mail/new/", mail.mailbox_create, name="mailbox_create"),
    path("mail/<int:mailbox_id>/", mail.mailbox_edit, name="mailbox_edit"),
    path("mail/<int:mailbox_id>/sync/", mail.mailbox_sync_now, name="mailbox_sync_now"),
    path(
        "mail/quarantine/<int:quarantined_id>/retry/",
        mail.quarantine_retry_view,
        name="quarantine_retry",
    ),
    path(
        "mail/attachments/<int:attachment_id>/",
        mail.attachment_download,
        name="attachment_download",
    ),
    path("mail/unsorted/", mail.unsorted_list, name="unsorted_list"),
    path(
        "mail/unsorted/<int:unsorted_id>/<str:decision>/",
        mail.unsorted_decide,
        name="unsorted_decide",
    ),
    path(
        "commitments/<int:commitment_id>/<str:state>/",
        conversations.commitment_set_state,
        name="commitment_set_state",
    ),
]
