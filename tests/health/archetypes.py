"""A synthetic, labelled set of account histories: one generator per archetype.

Each builds a plain `History` (no database) as of NOW, with the band a manager should see and
the flags that should explain it. The same histories are loaded into the database by the
service tests, so the pure model and the SQL path are held to the same labels.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field

from health import model

NOW = datetime.datetime(2026, 6, 17, 12, 0, tzinfo=datetime.UTC)  # a Wednesday, noon
DAY = datetime.timedelta(days=1)
HOUR = datetime.timedelta(hours=1)


@dataclass
class Record:
    """A small builder: conversations of alternating turns, people, promises."""

    now: datetime.datetime = NOW
    events: list[model.Event] = field(default_factory=list)
    people: list[model.Person] = field(default_factory=list)
    promises: list[model.Promise] = field(default_factory=list)
    awaiting_us: set[int] = field(default_factory=set)
    _ids: int = 0

    def _next(self) -> int:
        self._ids += 1
        return self._ids

    def person(self, influence: str = "none", left_days_ago: float | None = None) -> int:
        pk = self._next()
        left = None if left_days_ago is None else self.now - left_days_ago * DAY
        self.people.append(model.Person(pk, influence, left))
        return pk

    def conversation(self) -> int:
        return self._next()

    def message(
        self,
        conversation: int,
        days_ago: float,
        direction: str,
        contact: int | None = None,
        *,
        kind: str = "email",
        automated: bool = False,
        out_of_office: bool = False,
    ) -> None:
        contacts = (contact,) if contact else ()
        self.events.append(
            model.Event(
                self._next(), conversation, self.now - days_ago * DAY, direction, kind,
                contacts, automated, out_of_office,
            )
        )  # fmt: skip

    def thread(
        self,
        days_ago: float,
        contacts: list[int],
        *,
        turns: int = 4,
        they_start: bool = True,
        reply_hours: float = 3.0,
    ) -> int:
        """A conversation of alternating turns, `reply_hours` apart, starting `days_ago`."""
        cid = self.conversation()
        theirs = they_start
        at = days_ago
        spoke = 0
        for _ in range(turns):
            direction = "inbound" if theirs else "outbound"
            self.message(cid, at, direction, contacts[spoke % len(contacts)] if theirs else None)
            spoke += theirs
            theirs = not theirs
            at -= reply_hours / 24
        return cid

    def promise(
        self,
        conversation: int,
        due_days_ago: float,
        *,
        kept_days_ago: float | None = None,
        text: str = "Send the pricing",
        owed_by: str = "us",
    ) -> None:
        kept = None if kept_days_ago is None else self.now - kept_days_ago * DAY
        self.promises.append(
            model.Promise(
                self._next(), conversation, owed_by, text, self.now - due_days_ago * DAY,
                "kept" if kept else "open", kept, self.now - (due_days_ago + 7) * DAY,
            )
        )  # fmt: skip

    def history(self) -> model.History:
        return model.History(
            list(self.events), list(self.people), list(self.promises), frozenset(self.awaiting_us)
        )


def healthy_multi_threaded(now: datetime.datetime = NOW) -> Record:
    r = Record(now)
    dm, champion = r.person("decision_maker"), r.person("champion")
    users = [r.person("user"), r.person("user")]
    people = [dm, champion, *users]
    for n, days in enumerate(range(350, 0, -9)):
        cid = r.thread(days, [people[n % 4], people[(n + 1) % 4]], they_start=n % 2 == 0)
        if n % 5 == 0 and days > 10:
            r.promise(cid, days - 3, kept_days_ago=days - 2)
    return r


def monologue(now: datetime.datetime = NOW) -> Record:
    r = Record(now)
    champion, user = r.person("champion"), r.person("user")
    for days in (170, 150, 130, 110):
        r.thread(days, [champion, user])
    cid = r.conversation()
    for days in (55, 40, 28, 14, 3):
        r.message(cid, days, "outbound")
    return r


def champion_leaves(now: datetime.datetime = NOW) -> Record:
    r = Record(now)
    champion = r.person("champion", left_days_ago=70)
    r.person("decision_maker")
    r.person("user")
    for days in range(360, 72, -8):
        r.thread(days, [champion])
    cid = r.conversation()
    for days in (50, 30, 12):  # to the champion's old address: nobody answers
        r.message(cid, days, "outbound")
    return r


def broken_promises(now: datetime.datetime = NOW) -> Record:
    r = healthy_multi_threaded(now)
    cid = r.thread(20, [r.people[0].id, r.people[1].id])
    r.promise(cid, 18, text="Pricing for Ops")
    r.promise(cid, 12, text="Security questionnaire")
    r.promise(cid, 4, text="Revised contract")
    r.promise(cid, 30, kept_days_ago=26, text="Case study")
    return r


def gone_quiet(now: datetime.datetime = NOW) -> Record:
    r = Record(now)
    people = [r.person("decision_maker"), r.person("champion"), r.person("user")]
    for n, days in enumerate(range(360, 95, -7)):
        r.thread(days, [people[n % 3]], they_start=n % 2 == 0)
    return r


def quarterly(now: datetime.datetime = NOW) -> Record:
    r = Record(now)
    dm, user = r.person("decision_maker"), r.person("user")
    for days in (330, 240, 150, 60):
        r.thread(days, [dm, user], turns=4)
        r.thread(days - 2, [user, dm], turns=4, they_start=False)
    cid = r.thread(62, [dm, user])
    r.promise(cid, 58, kept_days_ago=59, text="Quarterly review deck")
    return r


def out_of_office(now: datetime.datetime = NOW) -> Record:
    r = healthy_multi_threaded(now)
    # The regular pattern ends 16 days ago; then their out-of-office reply and nothing since.
    r.events = [e for e in r.events if e.at < r.now - 16 * DAY]
    r.promises = [p for p in r.promises if p.due_at and p.due_at < r.now - 16 * DAY]
    cid = r.thread(17, [r.people[0].id, r.people[1].id])
    r.message(cid, 15, "outbound")
    r.message(cid, 15 - 1 / 24, "inbound", r.people[0].id, automated=True, out_of_office=True)
    return r


def newsletter_noise(now: datetime.datetime = NOW) -> Record:
    r = healthy_multi_threaded(now)
    letters = r.conversation()
    for days in range(0, 360, 3):
        r.message(letters, days, "inbound", automated=True)  # their newsletter
        r.message(letters, days + 0.5, "outbound", automated=True)  # our marketing mail
    return r


def too_little(now: datetime.datetime = NOW) -> Record:
    r = Record(now)
    person = r.person("champion")
    r.thread(40, [person], turns=3)
    return r


@dataclass(frozen=True)
class Archetype:
    build: Callable[..., Record]
    band: str
    flags: frozenset[str] = frozenset()
    not_flags: frozenset[str] = frozenset()


ARCHETYPES = {
    "healthy multi-threaded": Archetype(
        healthy_multi_threaded, model.HEALTHY, not_flags=frozenset(model.FLAG_LABELS)
    ),
    "monologue": Archetype(monologue, model.AT_RISK, frozenset({"monologue"})),
    "single-threaded champion who leaves": Archetype(
        champion_leaves, model.AT_RISK, frozenset({"person_left", "gone_quiet"})
    ),
    "broken promises": Archetype(broken_promises, model.ATTENTION, frozenset({"promise_overdue"})),
    "gone quiet": Archetype(gone_quiet, model.ATTENTION, frozenset({"gone_quiet"})),
    "naturally quarterly": Archetype(quarterly, model.HEALTHY, not_flags=frozenset({"gone_quiet"})),
    "out of office": Archetype(out_of_office, model.HEALTHY, not_flags=frozenset({"gone_quiet"})),
    "newsletter noise": Archetype(
        newsletter_noise, model.HEALTHY, not_flags=frozenset(model.FLAG_LABELS)
    ),
    "too little conversation": Archetype(too_little, model.NOT_ENOUGH),
}
