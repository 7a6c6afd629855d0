from django.contrib import admin

from conversations.models import (
    Commitment,
    Conversation,
    ConversationLink,
    MergedConversation,
    Message,
    Participant,
)


class ParticipantInline(admin.TabularInline):
    model = Participant
    extra = 0
    raw_id_fields = ("contact", "member")


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ("subject", "account", "owner", "last_activity_at", "organisation")
    list_filter = ("organisation",)
    search_fields = ("subject",)
    list_select_related = ("account", "owner", "organisation")
    raw_id_fields = ("account", "owner")


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ("__str__", "kind", "direction", "account", "occurred_at", "organisation")
    list_filter = ("organisation", "kind", "direction")
    search_fields = ("subject", "message_id")
    list_select_related = ("account", "organisation", "conversation")
    raw_id_fields = ("conversation", "account", "sender_contact", "sender_member", "created_by")
    inlines = (ParticipantInline,)


@admin.register(Commitment)
class CommitmentAdmin(admin.ModelAdmin):
    list_display = ("text", "owed_by", "due_on", "state", "conversation", "organisation")
    list_filter = ("organisation", "owed_by", "state")
    search_fields = ("text",)
    list_select_related = ("conversation", "organisation")
    raw_id_fields = ("conversation", "message", "created_by")


@admin.register(ConversationLink)
class ConversationLinkAdmin(admin.ModelAdmin):
    list_display = ("from_conversation", "to_conversation", "organisation")
    list_filter = ("organisation",)
    raw_id_fields = ("from_conversation", "to_conversation")


@admin.register(MergedConversation)
class MergedConversationAdmin(admin.ModelAdmin):
    list_display = ("merged_id", "into", "merged_at", "organisation")
    list_filter = ("organisation",)
    raw_id_fields = ("into", "merged_by")
