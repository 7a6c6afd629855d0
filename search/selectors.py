"""Finding anything an organisation ever said or knows, always within that organisation.

Messages use PostgreSQL web-search syntax ("quoted phrases", -word, or) in the organisation's
language over stored, weighted vectors; people and accounts match names by prefix as you type
(in the "simple" configuration: names are not English words) and addresses and domains by
their beginning.
"""

from __future__ import annotations

import datetime
import re
import zoneinfo
from dataclasses import dataclass

from django.contrib.postgres.search import SearchHeadline, SearchQuery
from django.db import connection
from django.db.models import Q, QuerySet
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


@dataclass
class SearchPage:
    """One page of message hits, best (or newest) first, and how many there are in all."""

    hits: list[Message]
    number: int
    total: int
    page_size: int

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.hits)

    def __len__(self) -> int:
        return len(self.hits)

    @property
    def has_next(self) -> bool:
        return self.number * self.page_size < self.total

    @property
    def next_page_number(self) -> int:
        return self.number + 1


# threadline_message_search skips an `integer` number of rows: pages beyond are empty.
MAX_OFFSET = 2**31 - 1


def search_messages(
    *,
    org: Organisation,
    q: str,
    filters: MessageFilters | None = None,
    page: int = 1,
    page_size: int = 20,
    highlight: bool = False,
) -> SearchPage:
    """A page of the organisation's messages matching `q`: two queries whatever the matches.

    The matching, filtering, ranking and paging happen in `threadline_message_search` (see
    migration conversations 0007: under row-level security a GIN index cannot be used); then
    the page's messages are read back under row-level security like any other rows, with
    their highlighted subject and snippet when asked (`subject_html`, `body_html_snippet`).
    """
    filters = filters or MessageFilters()
    tz = zoneinfo.ZoneInfo(org.time_zone)
    since = (
        datetime.datetime.combine(filters.since, datetime.time(), tzinfo=tz)
        if filters.since else None
    )  # fmt: skip
    until = (
        datetime.datetime.combine(filters.until, datetime.time(), tzinfo=tz)
        + datetime.timedelta(days=1)
        if filters.until else None
    )  # fmt: skip
    page = min(max(1, page), MAX_OFFSET // page_size + 1)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT id, total FROM threadline_message_search(
                websearch_to_tsquery(%s::regconfig, %s), %s, %s, %s, %s, %s, %s, %s, %s,
                %s, %s)
            """,
            [
                org.search_language,
                q,
                filters.account_id,
                filters.kind or None,
                filters.direction or None,
                since,
                until,
                filters.owner_id,
                filters.contact_id,
                filters.newest_first,
                page_size,
                (page - 1) * page_size,
            ],  # fmt: skip
        )
        rows = cursor.fetchall()
    ids = [row[0] for row in rows]
    messages = (
        Message.objects.for_org(org).filter(pk__in=ids).select_related("account", "conversation")
    )
    if highlight and ids:
        messages = _with_headlines(messages, org=org, q=q)
    found = messages.in_bulk(ids)
    hits = [found[pk] for pk in ids if pk in found]
    if highlight:
        for message in hits:
            message.subject_html = highlighted(message.subject_headline)  # type: ignore[attr-defined]
            message.body_html_snippet = highlighted(message.body_headline)  # type: ignore[attr-defined]
    return SearchPage(hits=hits, number=page, total=rows[0][1] if rows else 0, page_size=page_size)


def _with_headlines(messages: QuerySet[Message], *, org: Organisation, q: str) -> QuerySet[Message]:
    """Highlighted subject and snippet, read with the page's messages: ts_headline is costly,
    so it runs for the page shown rather than for every match."""
    query = SearchQuery(q, search_type="websearch", config=org.search_language)
    return messages.annotate(
        subject_headline=SearchHeadline(
            "subject",
            query,
            config=org.search_language,
            start_sel=_START,
            stop_sel=_STOP,
            highlight_all=True,
        ),
        body_headline=SearchHeadline(
            "body_text",
            query,
            config=org.search_language,
            start_sel=_START,
            stop_sel=_STOP,
            max_fragments=2,
            min_words=8,
            max_words=30,
        ),
    )


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
    hits = search_messages(org=org, q=q, page_size=limit * 4).hits
    unique = list(dict.fromkeys(m.conversation_id for m in hits))[:limit]
    found = Conversation.objects.for_org(org).select_related("account").in_bulk(unique)
    return [found[pk] for pk in unique if pk in found]


PAGE_SIZE = 20
NAMES_SHOWN = 10


@dataclass
class SearchResults:
    """What the search page and the API show for a query: a page of message hits with their
    highlights, and the accounts and people whose names or addresses match."""

    q: str
    page: SearchPage
    accounts: list[Account]
    people: list[Contact]


def search_everything(
    *, org: Organisation, q: str, filters: MessageFilters, page: int = 1
) -> SearchResults:
    hits = search_messages(
        org=org, q=q, filters=filters, page=page, page_size=PAGE_SIZE, highlight=True
    )
    return SearchResults(
        q=q,
        page=hits,
        accounts=list(search_accounts(org=org, q=q)[:NAMES_SHOWN]),
        people=list(search_contacts(org=org, q=q)[:NAMES_SHOWN]),
    )
