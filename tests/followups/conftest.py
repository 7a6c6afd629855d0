from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest

from conversations.models import Conversation, Message
from conversations.services import record_activity_bulk
from tests import factories

LONDON = ZoneInfo("Europe/London")


def at(day: int, hour: int, minute: int = 0) -> datetime.datetime:
    """A moment in November 2026, London time: 16th is a Monday, 20th a Friday."""
    return datetime.datetime(2026, 11, day, hour, minute, tzinfo=LONDON)


class Thread:
    """A conversation of organisation A that tests add turns to, the way ingestion does."""

    def __init__(self, cast) -> None:  # type: ignore[no-untyped-def]
        self.cast = cast
        cast.org.time_zone = "Europe/London"
        cast.org.save()
        self.conversation = factories.ConversationFactory(
            organisation=cast.org,
            account=cast.account,
            owner=cast.sales,
            subject="Renewal of the support plan",
            started_at=at(2, 9),
            last_activity_at=at(2, 9),
        )

    def say(
        self,
        direction: str,
        text: str,
        when: datetime.datetime,
        *,
        kind: str = Message.Kind.EMAIL,
        automated: str = "",
        out_of_office: bool = False,
    ) -> Message:
        inbound = direction == Message.Direction.INBOUND
        message = Message.objects.for_org(self.cast.org).create(
            conversation=self.conversation,
            account=self.cast.account,
            kind=kind,
            direction=direction,
            sender_contact=self.cast.contact if inbound else None,
            sender_member=None if inbound else self.cast.sales,
            occurred_at=when,
            body_text=text,
            automated_reason=automated,
            is_out_of_office=out_of_office,
        )
        record_activity_bulk(org=self.cast.org, messages=[message])
        return message

    def they(self, text: str, when: datetime.datetime, **kwargs) -> Message:  # type: ignore[no-untyped-def]
        return self.say(Message.Direction.INBOUND, text, when, **kwargs)

    def we(self, text: str, when: datetime.datetime, **kwargs) -> Message:  # type: ignore[no-untyped-def]
        return self.say(Message.Direction.OUTBOUND, text, when, **kwargs)

    @property
    def fresh(self) -> Conversation:
        return Conversation.objects.for_org(self.cast.org).get(pk=self.conversation.pk)


@pytest.fixture
def thread(a) -> Thread:  # type: ignore[no-untyped-def]
    return Thread(a)
