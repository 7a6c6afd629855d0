"""Finding anything an organisation ever said or knows, always within that organisation.

Messages use PostgreSQL web-search syntax ("quoted phrases", -word, or) in the organisation's
language over stored, weighted vectors; people and accounts match names by prefix as you type
(in the "simple" configuration: names are not English words) and addresses and domains by
their beginning.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank
from django.db.models import F, Q, QuerySet
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from accounts.models import Account
from contacts.models import Contact
from conversations.models import Conversation, Message
from organisations.models import Organisation

_WORD = re.compile(r"[\w@.+-]+", re.UNICODE)
_START, _STOP = "\x02", "\x03"  # markers no email contains, replaced after escaping


def highlighted(text: str) -> SafeString:
    """A headline from PostgreSQL with its matches marked, safe to show: the text is escaped
    first, then only our own markers become <mark>."""
    safe = escape(text).replace(_START, "<mark>").replace(_STOP, "</mark>")
    return mark_safe(safe)  # noqa: S308 - escaped above; only our markers become tags


def prefix_query(q: str) -> SearchQuery | None:
    """ "ann smi" -> ann:* & smi:* in the simple configuration, for names as you type."""
    words = [w.strip(".-+@") for w in _WORD.findall(q.lower())]
    words = [re.sub(r"[^\w]", "", w) for w in words if w]
    words = [w for w in words if w]
    if not words:
        return None
    return SearchQuery(" & ".join(f"{w}:*" for w in words), search_type="raw", config="simple")


@dataclass(frozen=True)
class MessageFilters:
    account_id: int | None = None
    contact_id: int | None = None
    kind: str = ""
    direction: str = ""
    since: datetime.date | None = None
    until: datetime.date | None = None
    owner_id: int | None = None
    newest_first: bool = False


def search_messages(
    *, org: Organisation, q: str, filters: MessageFilters | None = None
) -> QuerySet[Message]:
    """Messages matching `q`, best match (or newest) first, with highlighted headlines."""
    filters = filters or MessageFilters()
    query = SearchQuery(q, search_type="websearch", config=org.search_language)
    messages = Message.objects.for_org(org).filter(search_vector=query)
    if filters.account_id:
        messages = messages.filter(account_id=filters.account_id)
    if filters.contact_id:
        messages = messages.filter(
            Q(sender_contact_id=filters.contact_id) | Q(participants__contact_id=filters.contact_id)
        ).distinct()
    if filters.kind:
        messages = messages.filter(kind=filters.kind)
    if filters.direction:
        messages = messages.filter(direction=filters.direction)
    if filters.since:
        messages = messages.filter(occurred_at__date__gte=filters.since)
    if filters.until:
        messages = messages.filter(occurred_at__date__lte=filters.until)
    if filters.owner_id:
        messages = messages.filter(conversation__owner_id=filters.owner_id)
    messages = messages.annotate(
        rank=SearchRank(F("search_vector"), query),
        subject_headline=SearchHeadline(
            "subject", query, config=org.search_language, start_sel=_START, stop_sel=_STOP,
            highlight_all=True,
        ),
        body_headline=SearchHeadline(
            "body_text", query, config=org.search_language, start_sel=_START, stop_sel=_STOP,
            max_fragments=2, min_words=8, max_words=30,
        ),
    ).select_related("account", "conversation", "sender_contact", "sender_member")  # fmt: skip
    order = ["-occurred_at", "-id"] if filters.newest_first else ["-rank", "-occurred_at", "-id"]
    return messages.order_by(*order)


def search_contacts(*, org: Organisation, q: str) -> QuerySet[Contact]:
    query = prefix_query(q)
    match = Q(addresses__normalised__startswith=q.strip().lower())
    if query is not None:
        match |= Q(search_vector=query)
    return (
        Contact.objects.for_org(org)
        .filter(match)
        .select_related("account")
        .order_by("full_name", "id")
        .distinct()
    )


def search_accounts(*, org: Organisation, q: str) -> QuerySet[Account]:
    query = prefix_query(q)
    match = Q(domains__domain__startswith=q.strip().lower())
    if query is not None:
        match |= Q(search_vector=query)
    return Account.objects.for_org(org).filter(match).order_by("name", "id").distinct()


def search_conversations(*, org: Organisation, q: str, limit: int = 5) -> list[Conversation]:
    """Conversations whose messages match best, for jumping straight to one."""
    query = SearchQuery(q, search_type="websearch", config=org.search_language)
    ids = list(
        Message.objects.for_org(org)
        .filter(search_vector=query)
        .annotate(rank=SearchRank(F("search_vector"), query))
        .order_by("-rank", "-occurred_at")
        .values_list("conversation_id", flat=True)[: limit * 4]
    )
    unique = list(dict.fromkeys(ids))[:limit]
    found = Conversation.objects.for_org(org).select_related("account").in_bulk(unique)
    return [found[pk] for pk in unique if pk in found]
