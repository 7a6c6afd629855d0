"""Each member's own mailboxes over the API: what is synced and how the sync is doing.

Passwords never leave the server, not even encrypted; they are set on the mailbox page.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Count, Prefetch, Q
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from api.base import OrgViewSet
from mail.models import Mailbox, MailboxFolder
from mail.tasks import sync_mailbox


class FolderSerializer(serializers.ModelSerializer):
    class Meta:
        model = MailboxFolder
        fields = ("name", "role", "last_synced_at")


class MailboxSerializer(serializers.ModelSerializer):
    folders = FolderSerializer(many=True, read_only=True)
    quarantined = serializers.IntegerField(
        read_only=True, help_text="Messages kept aside because they could not be stored."
    )

    class Meta:
        model = Mailbox
        fields = (
            "id", "email_address", "host", "port", "security", "username", "extra_folders",
            "history_days", "is_active", "created_at", "last_attempt_at", "last_success_at",
            "last_error", "messages_imported", "quarantined", "folders", "smtp_host",
            "smtp_port", "smtp_security", "smtp_username",
        )  # fmt: skip
        read_only_fields = fields


class SyncQueuedSerializer(serializers.Serializer):
    queued = serializers.BooleanField()


class MailboxViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OrgViewSet):
    """Your own mailboxes (everyone's are their own, as in the web UI), without secrets."""

    model = Mailbox
    serializer_class = MailboxSerializer

    def rows(self) -> Any:
        return (
            Mailbox.objects.for_org(self.org)
            .filter(owner=self.member)
            .annotate(
                quarantined=Count("quarantine", filter=Q(quarantine__resolved_at__isnull=True))
            )
            .prefetch_related(
                Prefetch("folders", queryset=MailboxFolder.objects.for_org(self.org).order_by("id"))
            )
            .order_by("id")
        )

    @extend_schema(request=None, responses={202: SyncQueuedSerializer})
    @action(detail=True, methods=["post"])
    def sync(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Sync this mailbox now rather than at its next turn."""
        mailbox = self.get_object()
        org_id = self.org.pk
        transaction.on_commit(lambda: sync_mailbox.delay(org_id, mailbox.pk))
        return Response({"queued": True}, status=status.HTTP_202_ACCEPTED)
