"""How well commitment detection does on sentences labelled by someone who had not read its rules.

fixtures/commitment_sentences.tsv holds business email sentences (sales and support staff and
customers, British and American, a few typos), each labelled before the detector was read:
`is_promise` (the writer commits to a future action of their own), a `category`, and `due_on`
where the deadline is unambiguous for a sentence written on Wednesday 18 November 2026 at
15:00 in London ("next Tuesday", "next week", "before Christmas" are left blank).

Suggestions are confirmed by a member, so precision is the promise the detector makes and the
one asserted; recall and due-date agreement are measured and reported (README), with a floor
only to catch a detector that has stopped working. Run with `pytest -s` to see the figures.
"""

import csv
import datetime as dt
import functools
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from conversations.detection import suggest_commitments

FIXTURE = Path(__file__).parent / "fixtures" / "commitment_sentences.tsv"
LONDON = ZoneInfo("Europe/London")
WRITTEN_AT = dt.datetime(2026, 11, 18, 15, 0, tzinfo=LONDON)
CATEGORIES = {
    "promise_with_deadline", "promise_no_deadline", "request", "question", "conditional",
    "hedge", "past_tense", "negation", "offer", "third_party", "other",
}  # fmt: skip


@dataclass(frozen=True)
class Row:
    text: str
    is_promise: bool
    category: str
    due_on: dt.date | None


@dataclass(frozen=True)
class Measure:
    rows: int
    promises: int
    true_alarms: int
    false_alarms: list[Row]
    misses: list[Row]
    dated_found: int  # detected promises with a labelled due date
    dates_agreeing: int
    wrong_dates: list[tuple[Row, dt.date | None]]

    @property
    def precision(self) -> float:
        return self.true_alarms / (self.true_alarms + len(self.false_alarms))

    @property
    def recall(self) -> float:
        return self.true_alarms / self.promises

    @property
    def date_agreement(self) -> float:
        return self.dates_agreeing / self.dated_found

    def report(self) -> str:
        misses = Counter(r.category for r in self.misses)
        alarms = Counter(r.category for r in self.false_alarms)
        lines = [
            f"commitment detection on {self.rows} labelled sentences ({self.promises} promises):",
            f"  precision {self.precision:.3f} ({self.true_alarms} of "
            f"{self.true_alarms + len(self.false_alarms)} detected)",
            f"  recall    {self.recall:.3f} ({self.true_alarms} of {self.promises} promises)",
            f"  due date  {self.date_agreement:.3f} ({self.dates_agreeing} of {self.dated_found} "
            "detected promises with a labelled date)",
            f"  misses by category: {dict(sorted(misses.items()))}",
            f"  false alarms by category: {dict(sorted(alarms.items()))}",
        ]
        lines += [f"  false alarm [{r.category}]: {r.text}" for r in self.false_alarms]
        lines += [f"  missed [{r.category}]: {r.text}" for r in self.misses]
        lines += [f"  due {got} not {r.due_on}: {r.text}" for r, got in self.wrong_dates]
        return "\n".join(lines)


def labelled_rows() -> list[Row]:
    with FIXTURE.open(newline="", encoding="utf-8") as f:
        return [
            Row(
                text=r["text"],
                is_promise={"yes": True, "no": False}[r["is_promise"]],
                category=r["category"],
                due_on=dt.date.fromisoformat(r["due_on"]) if r["due_on"] else None,
            )
            for r in csv.DictReader(f, delimiter="\t")
        ]


@functools.cache
def measure() -> Measure:
    rows = labelled_rows()
    true_alarms = dated_found = dates_agreeing = 0
    false_alarms, misses, wrong_dates = [], [], []
    for row in rows:
        found = suggest_commitments(row.text, written_at=WRITTEN_AT, tz=LONDON, from_us=True)
        if found and row.is_promise:
            true_alarms += 1
            if row.due_on is not None:
                dated_found += 1
                if any(s.due_on == row.due_on for s in found):
                    dates_agreeing += 1
                else:
                    wrong_dates.append((row, found[0].due_on))
        elif found:
            false_alarms.append(row)
        elif row.is_promise:
            misses.append(row)
    return Measure(
        rows=len(rows),
        promises=sum(r.is_promise for r in rows),
        true_alarms=true_alarms,
        false_alarms=false_alarms,
        misses=misses,
        dated_found=dated_found,
        dates_agreeing=dates_agreeing,
        wrong_dates=wrong_dates,
    )


def test_the_labelled_set_covers_every_kind_of_sentence():
    rows = labelled_rows()
    assert len(rows) >= 200
    assert len({r.text for r in rows}) == len(rows)
    assert {r.category for r in rows} == CATEGORIES
    assert all(r.is_promise == r.category.startswith("promise") for r in rows)
    assert all(r.due_on is None or r.category == "promise_with_deadline" for r in rows)
    assert 0.4 <= sum(r.is_promise for r in rows) / len(rows) <= 0.5


def test_nine_in_ten_suggested_commitments_are_real_promises():
    result = measure()
    print("\n" + result.report())
    assert result.precision >= 0.9, result.report()


def test_it_finds_a_fair_share_of_promises_and_reads_their_deadlines():
    # Floors that only catch a detector that stopped working: the figures are reported.
    result = measure()
    assert result.recall > 0.3, result.report()
    assert result.date_agreement > 0.5, result.report()
