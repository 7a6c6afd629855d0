from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from django import forms
from django.utils import timezone

from accounts.models import Account
from contacts.models import Contact
from conversations.models import Commitment, Conversation, Message
from organisations.models import Organisation

NEW_CONVERSATION = ""


class LogInteractionForm(forms.Form):
    """Log a call, meeting or note: what was actually said, who was there, what was promised."""

    kind = forms.ChoiceField(
        choices=[
            (Message.Kind.CALL, "Call"),
            (Message.Kind.MEETING, "Meeting"),
            (Message.Kind.NOTE, "Note"),
        ],
        initial=Message.Kind.CALL,
        widget=forms.RadioSelect,
    )
    initiated_by = forms.ChoiceField(
        label="Who reached out",
        choices=[(Message.Direction.OUTBOUND, "We did"), (Message.Direction.INBOUND, "They did")],
        initial=Message.Direction.OUTBOUND,
        widget=forms.RadioSelect,
        required=False,
    )
    conversation = forms.ChoiceField(required=False, label="Conversation")
    subject = forms.CharField(
        max_length=300,
        required=False,
        help_text="For a new conversation; defaults to the first line.",
    )
    occurred_at = forms.DateTimeField(
        label="When",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    contacts: forms.ModelMultipleChoiceField = forms.ModelMultipleChoiceField(
        queryset=None,  # scoped to the account in __init__
        required=False,
        label="Who took part",
        widget=forms.CheckboxSelectMultiple,
    )
    body = forms.CharField(
        label="What was discussed",
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "What was actually said…"}),
    )
    we_owe = forms.CharField(label="We promised", max_length=500, required=False)
    we_owe_due = forms.DateField(
        label="by", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    they_owe = forms.CharField(label="They promised", max_length=500, required=False)
    they_owe_due = forms.DateField(
        label="by", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(
        self,
        *args: Any,
        org: Organisation,
        account: Account,
        conversation: Conversation | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.org, self.account, self.fixed_conversation = org, account, conversation
        self.fields["contacts"].queryset = (  # type: ignore[attr-defined]
            Contact.objects.for_org(org).filter(account=account).order_by("full_name")
        )
        self.fields["occurred_at"].initial = timezone.localtime().replace(second=0, microsecond=0)
        if conversation is not None:
            del self.fields["conversation"]
            del self.fields["subject"]
        else:
            recent = (
                Conversation.objects.for_org(org)
                .filter(account=account)
                .order_by("-last_activity_at")
                .values_list("pk", "subject")[:20]
            )
            self.fields["conversation"].choices = [  # type: ignore[attr-defined]
                (NEW_CONVERSATION, "Start a new conversation"),
                *((str(pk), subject) for pk, subject in recent),
            ]

    def clean_conversation(self) -> Conversation | None:
        value = self.cleaned_data.get("conversation")
        if not value:
            return None
        conversation = (
            Conversation.objects.for_org(self.org).filter(account=self.account, pk=value).first()
        )
        if conversation is None:
            raise forms.ValidationError("Choose one of this account's conversations.")
        return conversation

    def clean_occurred_at(self) -> Any:
        occurred_at = self.cleaned_data["occurred_at"]
        if occurred_at > timezone.now() + timedelta(hours=1):
            raise forms.ValidationError("An interaction that is logged has already happened.")
        return occurred_at

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for side in ("we_owe", "they_owe"):
            if data.get(f"{side}_due") and not data.get(side):
                self.add_error(side, "Say what was promised, or clear the date.")
        return data

    @property
    def promise_pairs(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [(self["we_owe"], self["we_owe_due"]), (self["they_owe"], self["they_owe_due"])]

    @property
    def conversation_choice(self) -> Conversation | None:
        return self.fixed_conversation or self.cleaned_data.get("conversation")


class CommitmentForm(forms.Form):
    """A promise added by hand to a conversation ("we owe: revised pricing, by Friday")."""

    owed_by = forms.ChoiceField(
        label="Who promised",
        choices=Commitment.OwedBy.choices,
        initial=Commitment.OwedBy.US,
        widget=forms.RadioSelect,
    )
    text = forms.CharField(label="What", max_length=500)
    due_on = forms.DateField(
        label="By", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


NEW = "new"
_CONVERSATION_LINK = re.compile(r"\s*(?:\S*/conversations/)?(\d+)/?\s*")


def _account_conversations(
    org: Organisation, account_id: int, exclude: int
) -> list[tuple[str, str]]:
    recent = (
        Conversation.objects.for_org(org)
        .filter(account_id=account_id)
        .exclude(pk=exclude)
        .order_by("-last_activity_at")
        .values_list("pk", "subject", "last_activity_at")[:100]
    )
    return [
        (str(pk), f"{subject} · {timezone.localtime(at):%d %b %Y}") for pk, subject, at in recent
    ]


class MoveMessageForm(forms.Form):
    """Where a message belongs: another of the account's conversations, a new one, or any
    conversation of the organisation given by its address."""

    to_conversation = forms.ChoiceField(label="Move to", required=False)
    elsewhere = forms.CharField(
        label="Or any conversation",
        required=False,
        max_length=300,
        help_text="Paste its address (or number) to move it to another account's conversation.",
    )

    def __init__(self, *args: Any, org: Organisation, message: Message, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.org, self.message = org, message
        self.fields["to_conversation"].choices = [  # type: ignore[attr-defined]
            ("", "Choose a conversation…"),
            (NEW, "A new conversation"),
            *_account_conversations(org, message.account_id, exclude=message.conversation_id),
        ]

    def clean_elsewhere(self) -> Conversation | None:
        value = self.cleaned_data.get("elsewhere", "")
        if not value:
            return None
        match = _CONVERSATION_LINK.fullmatch(value)
        conversation = (
            Conversation.objects.for_org(self.org).filter(pk=int(match.group(1))).first()
            if match
            else None
        )
        if conversation is None:
            raise forms.ValidationError("No conversation of this organisation has that address.")
        if conversation.pk == self.message.conversation_id:
            raise forms.ValidationError("The message is already in that conversation.")
        return conversation

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        chosen, elsewhere = data.get("to_conversation"), data.get("elsewhere")
        if "to_conversation" in self.errors or "elsewhere" in self.errors:
            return data
        if chosen and elsewhere:
            self.add_error("elsewhere", "Choose one conversation or give an address, not both.")
        elif not chosen and not elsewhere:
            self.add_error("to_conversation", "Choose where the message belongs.")
        elif chosen and chosen != NEW:
            data["target"] = Conversation.objects.for_org(self.org).filter(pk=chosen).first()
            if data["target"] is None:
                self.add_error("to_conversation", "That conversation is gone; choose another.")
        else:
            data["target"] = elsewhere  # a conversation, or None for a new one
        return data


class MergeConversationForm(forms.Form):
    other = forms.ChoiceField(label="Conversation to merge into this one")

    def __init__(
        self, *args: Any, org: Organisation, conversation: Conversation, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.org, self.conversation = org, conversation
        self.fields["other"].choices = [  # type: ignore[attr-defined]
            ("", "Choose a conversation…"),
            *_account_conversations(org, conversation.account_id, exclude=conversation.pk),
        ]

    def clean_other(self) -> Conversation:
        other = (
            Conversation.objects.for_org(self.org)
            .filter(pk=self.cleaned_data["other"], account_id=self.conversation.account_id)
            .first()
        )
        if other is None:
            raise forms.ValidationError("That conversation is gone; choose another.")
        return other
