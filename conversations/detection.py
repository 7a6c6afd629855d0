"""Read a message's new text: the promises it makes and whether it asks for a reply.

Pure functions over English text (no database, no models), called by the conversation-state
machine. Lines starting with ">" (quoted history) are ignored, and so is everything after a
"-- " signature line or past the first 20,000 characters. Text is split into sentences at
".", "!", "?" (not after "e.g.", "Mr."...), blank lines, bullets, and line breaks after a
short line (a greeting, a sign-off); a long line that wraps continues its sentence.

**Commitments** (`suggest_commitments`) are suggestions a member confirms, so precision comes
before recall. A sentence is a promise when it has a first-person future action: "I/we" with
"'ll", "will", "shall", "am/are going to", "promise to" (or "let me" + check, confirm, find out,
get back...; or a clause opening with "will": "Thanks, will send it Friday"), then a verb from
a list of actions ("send", "get back to you", "call", "have it ready"...), outside double
quotes (someone else's words), and none of these in the sentence:
- a question mark (a question, or a promise that waits for a yes);
- a condition: if, unless, provided, assuming, in case, as long as, whether, depending on,
  "once/when/as soon as/after you" (conditions on our own doing, "once I'm back", are kept);
- a hedge: might, maybe, perhaps, possibly, probably, hopefully, try, aim, ideally, would,
  could, sometime, "should be able", "I think", "not sure", "no promises", "do my best",
  or reported words ("you said we'll...").
Past tense ("I sent"), negations ("I won't", "we will not"), offers ("I can", "I'd be happy
to"), states ("I'll be away") and requests ("I'll need your PO") never match the grammar.
One suggestion per sentence; its text is the sentence, whitespace collapsed, cut to 500.

**Deadlines** are read after the promise, else in the clause just before it ("By Friday, I'll
send..."), relative to the writing time in the organisation's time zone, always forward:
- today / EOD / COB / end of play / tonight / this afternoon / ASAP / shortly: that day;
  tomorrow: the next day; "by 5pm" alone: today if still ahead, else tomorrow;
- a weekday ("by Friday", "on Monday") is its next occurrence *after* the day of writing:
  "by Friday" written on a Friday is next week's Friday (say "today" for today);
  "this Friday" is the one in the current Monday-Sunday week unless already past;
  "next Friday" is always the Friday of next week; "Monday next week" likewise;
  a date or "EOD" followed by a day says which day ("Friday 27 November", "EOD Friday");
- EOW / this week / end of the week / by the weekend: the Friday on or after the day of
  writing (the next one when written at the weekend); "over the weekend": Sunday;
- next week: its Friday (its Monday for "beginning of", Tuesday "early", Wednesday "mid");
  the week after next: that week's Friday;
- end of month / this month: its last day; next month, "end of December": the month's last
  day (the 1st for "beginning of", 7th "early", 15th "mid");
  end of quarter / end of year: the last day of the calendar quarter / year;
- "in/within N days|weeks|months" (digits, "one".."twelve", "a", "a couple of", "a few"=3):
  calendar arithmetic; "N business/working days" skips Saturdays and Sundays (holidays are
  the caller's to know); "N hours" is the date that many hours after writing;
- "by the 3rd": the next 3rd after the day of writing; "3 March", "March 3rd", "2026-12-03":
  that date, next year when no year is given and it is not after the day of writing.
Numeric dates like 3/12 are ambiguous between the UK and US and are not read.
Own rules rather than dateparser: on the phrases above dateparser reads "next week" as +7 days,
"the 3rd" as a March date, "12/3" US-style and not "end of week" at all.

**Turn intent** (`turn_intent`): ASKS when any sentence asks (a question mark outside links,
except small talk such as "how are you?"; "let me know", "could/can/would/will you", "please
confirm/send/advise...", "what do you think", "does that work", "is there...", "shall we",
"how about", "let's meet...", "just checking in"); SETTLES when every sentence is made only of
thanks, acknowledgements, closing words, greetings, emoji and names ("Thanks!", "Got it",
"Perfect, talk soon", "👍"); STATES otherwise, including an empty turn and a bare link.
Boilerplate offers ("let me know if you have any questions", "feel free to reach out") count
as closing words, not as asks, so "Here is the deck. Let me know if you have any questions."
states and does not leave us waiting on them.
"""

from __future__ import annotations

import calendar
import datetime as dt
import enum
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal
from zoneinfo import ZoneInfo

MAX_TEXT = 500
MAX_READ = 20_000  # characters read from a message: a person's new text is far shorter
_SHORT_SENTENCE = 200  # longer sentences are never only thanks and closing words
_A = r"['’]"  # straight or curly apostrophe


@dataclass(frozen=True)
class CommitmentSuggestion:
    """A promise found in a message, for a member to confirm or reject."""

    owed_by: Literal["us", "them"]
    text: str
    due_on: dt.date | None
    span: tuple[int, int]  # offsets of the sentence in the text given


class TurnIntent(enum.StrEnum):
    """What a turn expects next: an answer (ASKS), nothing (SETTLES), or it depends (STATES)."""

    ASKS = "asks"
    SETTLES = "settles"
    STATES = "states"


# --- Sentences -------------------------------------------------------------------------------

_ABBREVIATIONS = {"e.g", "i.e", "etc", "mr", "mrs", "ms", "dr", "vs", "approx", "p.s", "cf"}
_SENTENCE_END = re.compile(r"(?P<stop>[.!?…]+[\"'”’)\]]*)\s+")
_LAST_WORD = re.compile(r"[\w.]*$")
_BULLET = re.compile(r"\s*(?:[-*•]|\d{1,2}[.)])\s")
_SHORT_LINE = 40


def _paragraphs(text: str) -> Iterator[tuple[int, int]]:
    start: int | None = None
    end = offset = 0
    for line in text.splitlines(keepends=True):
        body = line.strip()
        if body == "--":  # the signature delimiter
            break
        if start is not None and (not body or body[0] == ">" or _BULLET.match(line)):
            yield start, end
            start = None
        if body and body[0] != ">":
            start = offset if start is None else start
            end = offset + len(line.rstrip())
            if len(body) < _SHORT_LINE:
                yield start, end
                start = None
        offset += len(line)
    if start is not None:
        yield start, end


def _sentences(text: str) -> Iterator[tuple[int, int]]:
    for start, end in _paragraphs(text):
        for m in _SENTENCE_END.finditer(text, start, end):
            word = _LAST_WORD.search(text, start, m.start())
            if not (word and word[0].lower().rstrip(".") in _ABBREVIATIONS):
                yield start, m.end("stop")
                start = m.end()
        if start < end:
            yield start, end


# --- Commitments -----------------------------------------------------------------------------

_VERBS = (
    r"send|re-?send|e-?mail|mail|forward|share|give|call|ring|phone|text|ping|follow up|"
    r"come back|circle back|revert|reply|respond|confirm|check|double-check|look into|look at|"
    r"take a look|have a look|investigate|find out|ask|chase|update|let you (?:know|have)|"
    r"keep you|loop in|introduce|connect|make|put you in touch|set up|schedule|book|arrange|"
    r"organi[sz]e|reschedule|"
    r"prepare|draft|write|put together|pull together|review|go through|sign|countersign|return|"
    r"pay|transfer|process|approve|fix|sort|resolve|handle|deal with|take care of|ship|deliver|"
    r"deploy|release|publish|upload|post|provide|submit|complete|finish|finali[sz]e|make sure|"
    r"do(?= \w)|run|test|raise|escalate|flag|invoice|issue|refund|cancel|add|remove|change|amend|"
    r"correct|create|build|configure|install|enable|reach out|talk to|talk with|speak to|"
    r"speak with|discuss|bring|print|drop|pop|pass (?:it|this|that|them|on|along)|circulate|"
    r"walk (?:you|your|them|the)|pick (?:it|this|that|them) up|pick up|"
    r"get (?:back|you|it|them|this|that|these|those|the|a|an|your|started|on|right on|in touch)|"
    r"have (?:it|them|this|that|the [\w -]{1,40}) (?:ready|done|over|to you|with you|back)|"
    r"be (?:in touch|back (?:to|with) you|sending|calling|following up|getting back)"
)
_ADVERBS = (
    r"(?: (?:also|then|just|definitely|certainly|personally|first|gladly|happily|now|"
    r"be sure to|quickly|both|all))*"
)
_LET_ME = (
    r"let me (?:just )?(?:check|confirm|find out|look into|ask|verify|double-check|"
    r"get back|come back|chase|investigate|follow up)\b"
)
_PROMISE = re.compile(
    rf"(?:(?:\b(?:i|we)(?:{_A}ll| will| shall|{_A}m going to| am going to|{_A}re going to|"
    rf" are going to|{_A}m gonna|{_A}re gonna| promise to)|(?:^|[,;-] ?)will)"
    rf"{_ADVERBS} (?:{_VERBS})\b"
    rf"|\b{_LET_ME})",
)
# What every match of `_PROMISE` holds, looked for in a whole text at once: the end of its
# future tense ("will", "'ll", "going to"...) and an action, or "let me" and one. About ten
# times cheaper than reading the sentences, and most mail has none, so most mail is not split
# into sentences at all. (A test checks both readings agree on the labelled sentences.)
_MAYBE_PROMISE = re.compile(
    rf"(?:will|shall|ll|going to|gonna|promise to){_ADVERBS} (?:{_VERBS})\b|{_LET_ME}"
)
_PROMISE_WORDS = ("will", "shall", "ll ", "going to", "gonna", "promise to", "let me")
_CLAUSE = re.compile(r"[;:()]|\b(?:so|but|because|since|and|as|although|while)\b")
_CONDITION = re.compile(
    r"\b(?:if|unless|provided|providing|assuming|in case|as long as|whether|otherwise|"
    r"depending on|subject to|should you|(?:once|when|as soon as|after) you)\b",
)
_HEDGE = re.compile(
    r"\b(?:might|maybe|perhaps|possibly|probably|likely|hopefully|hope|hoping|try|trying|"
    r"attempt|aim|ideally|would|could|should be able|(?:i|we|it|this|that|they) may|"
    r"i (?:really |honestly |do )?(?:think|guess|suppose|believe|expect|reckon)|not sure|"
    r"don['’]t think|doubt|"
    r"no promises|can['’]?t promise|cannot promise|tentatively|fingers crossed|do (?:my|our) best|"
    r"at some point|sometime|some time|when i can|whenever|"
    r"(?:you|they|he|she) (?:said|say|mentioned|told|promised))\b",
)


def suggest_commitments(
    text: str, *, written_at: dt.datetime, tz: ZoneInfo, from_us: bool
) -> list[CommitmentSuggestion]:
    """Promises in `text` written at `written_at` (aware) by us (`from_us`) or by them."""
    if written_at.tzinfo is None:
        raise ValueError("written_at must be timezone-aware")
    low = text[:MAX_READ].lower()
    if not any(word in low for word in _PROMISE_WORDS) or not _MAYBE_PROMISE.search(low):
        return []
    local = written_at.astimezone(tz)
    found = []
    for start, end in _sentences(text[:MAX_READ]):
        sentence = text[start:end].lower()  # the patterns are lowercase: faster than IGNORECASE
        promise = _PROMISE.search(sentence)
        if not promise or "?" in sentence or _CONDITION.search(sentence):
            continue
        quoted = sum(map(sentence[: promise.start()].count, '"“”')) % 2  # in someone's words
        if quoted or _HEDGE.search(sentence):
            continue
        due = _deadline(sentence[promise.start() :], local)
        if due is None:  # "By Friday, I'll send it", but not from an earlier clause
            due = _deadline(_CLAUSE.split(sentence[: promise.start()])[-1], local)
        words = " ".join(text[start:end].split())
        if len(words) > MAX_TEXT:
            words = words[: MAX_TEXT - 1].rstrip() + "…"
        owed_by: Literal["us", "them"] = "us" if from_us else "them"
        found.append(
            CommitmentSuggestion(owed_by=owed_by, text=words, due_on=due, span=(start, end))
        )
    return found


# --- Deadlines -------------------------------------------------------------------------------

_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_MONTHS = {m.lower(): i for i, m in enumerate(calendar.month_name) if m}
_MONTHS |= {m.lower(): i for i, m in enumerate(calendar.month_abbr) if m} | {"sept": 9}
_MONTH = r"(?P<mon>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\b\.?"
_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
            "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
            "a couple of": 2, "couple of": 2, "a few": 3, "few": 3}  # fmt: skip
_NUMBER = r"(?P<n>\d{1,3}|" + "|".join(sorted(_NUMBERS, key=len, reverse=True)) + ")"
_PART = {"beginning of": 0, "start of": 0, "early": 1, "mid": 2, "middle of": 2}
_PART_RE = r"(?:(?:the )?(?P<part>beginning of|start of|early|mid|middle of|late|end of)[ -])"
_ORDINAL = r"(?P<d>\d{1,2})(?:st|nd|rd|th)?"

Resolver = Callable[[re.Match[str], dt.datetime], dt.date | None]


def _next_monday(day: dt.date) -> dt.date:
    return day + dt.timedelta(days=7 - day.weekday())


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def _add_months(day: dt.date, months: int) -> dt.date:
    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _next_week(m: re.Match[str], now: dt.datetime) -> dt.date:
    return _next_monday(now.date()) + dt.timedelta(days=_PART.get((m["part"] or "").lower(), 4))


def _part_of_month(m: re.Match[str], year: int, month: int) -> dt.date:
    day = {0: 1, 1: 7, 2: 15}.get(_PART.get((m["part"] or "").lower(), -1))
    return dt.date(year, month, day) if day else _month_end(year, month)


def _next_month(m: re.Match[str], now: dt.datetime) -> dt.date:
    first = _add_months(now.date().replace(day=1), 1)
    return _part_of_month(m, first.year, first.month)


def _named_month(m: re.Match[str], now: dt.datetime) -> dt.date:
    month = _MONTHS[m["mon"].lower()]
    this_year = _part_of_month(m, now.year, month)
    return this_year if this_year > now.date() else _part_of_month(m, now.year + 1, month)


def _today(m: re.Match[str], now: dt.datetime) -> dt.date:
    return now.date()


def _relative(m: re.Match[str], now: dt.datetime) -> dt.date:
    n, unit, day = int(_NUMBERS.get(m["n"].lower(), 0) or m["n"]), m["unit"].lower(), now.date()
    if unit.startswith(("business", "working")):
        while n:
            day += dt.timedelta(days=1)
            n -= day.weekday() < 5
        return day
    if unit.startswith("hour"):
        return (now + dt.timedelta(hours=n)).date()
    if unit.startswith("month"):
        return _add_months(day, n)
    return day + dt.timedelta(days=n * (7 if unit.startswith("week") else 1))


def _weekday(m: re.Match[str], now: dt.datetime) -> dt.date | None:
    name, qualifier, today = m["day"].lower(), (m["q"] or "").lower(), now.date()
    index = next(i for i, day in enumerate(_WEEKDAYS) if day.startswith(name[:3]))
    if qualifier == "last" or (name.rstrip(".") not in _WEEKDAYS and not qualifier):
        return None  # past, or a bare "wed"/"sun" that is likely not a day
    if qualifier == "next" or (m["after"] or "").lower() == "next week":
        return _next_monday(today) + dt.timedelta(days=index)
    this_week = today + dt.timedelta(days=index - today.weekday())
    if qualifier == "this" and this_week >= today:
        return this_week
    upcoming = today + dt.timedelta(days=(index - today.weekday() - 1) % 7 + 1)
    return upcoming + dt.timedelta(days=7) if m["after"] else upcoming


def _forward(today: dt.date, year: str | None, month: int, day: int) -> dt.date | None:
    for y in [int(year)] if year else [today.year, today.year + 1]:
        try:
            candidate = dt.date(y, month, day)
        except ValueError:
            continue
        if year or candidate > today:
            return candidate
    return None


def _day_of_month(m: re.Match[str], now: dt.datetime) -> dt.date | None:
    today, day = now.date(), int(m["d"])
    if m["mon"]:
        return _forward(today, None, _MONTHS[m["mon"].lower()], day)
    for months in range(13):
        first = _add_months(today.replace(day=1), months)
        last = calendar.monthrange(first.year, first.month)[1]
        if 1 <= day <= last and first.replace(day=day) > today:
            return first.replace(day=day)
    return None


def _time_of_day(m: re.Match[str], now: dt.datetime) -> dt.date:
    if m["noon"]:
        hour, minute = 12, 0
    else:
        hour = int(m["h"]) % 12 + (12 if m["ap"][0].lower() == "p" else 0)
        minute = int(m["mi"] or 0)
    return now.date() + dt.timedelta(days=(hour, minute) <= (now.hour, now.minute))


def _rule(pattern: str, resolve: Resolver) -> tuple[re.Pattern[str], Resolver]:
    return re.compile(rf"\b(?:{pattern})(?!\w|['’]s\b)"), resolve


def _plus(days: int) -> Resolver:
    return lambda m, now: now.date() + dt.timedelta(days=days)


def _absolute(m: re.Match[str], now: dt.datetime) -> dt.date | None:
    named = m.groupdict()
    month = int(named["mo"]) if named.get("mo") else _MONTHS[m["mon"].lower()]
    return _forward(now.date(), named.get("y"), month, int(m["d"]))


_YEAR = r"(?:,? (?P<y>\d{4}))?"
# fmt: off
_RULES = [_rule(pattern, resolve) for pattern, resolve in [
    (r"(?:the )?day after tomorrow", _plus(2)),
    (r"tomorrow|tmrw", _plus(1)),
    (r"(?:the )?end of (?:the |to|this )?day|eod|cob|close of (?:business|play)|end of play|"
     r"today|tonight|this (?:morning|afternoon|evening)|asap|as soon as possible|right away|"
     r"straight away|shortly|right now|in a (?:moment|minute|bit|few minutes)|within the hour|"
     r"after lunch|now(?=[.!]*$)",
     _today),
    (r"(?:the )?week after next", lambda m, now: _next_monday(now.date()) + dt.timedelta(11)),
    (_PART_RE + r"?next week|the following week", _next_week),
    (r"(?:the )?end of (?:the |this )?week|eow|(?:later )?this week|by the weekend",
     lambda m, now: now.date() + dt.timedelta(days=(4 - now.weekday()) % 7)),
    (r"(?:over|this|at|on) (?:the )?weekend",
     lambda m, now: now.date() + dt.timedelta(days=6 - now.weekday())),
    (_PART_RE + r"?next month", _next_month),
    (_PART_RE + _MONTH, _named_month),
    (r"(?:the )?end of (?:the |this )?month|eom|(?:later )?this month",
     lambda m, now: _month_end(now.year, now.month)),
    (r"(?:the )?end of (?:the |this )?quarter|eoq",
     lambda m, now: _month_end(now.year, (now.month - 1) // 3 * 3 + 3)),
    (r"(?:the )?end of (?:the |this )?year|eoy|year[- ]end",
     lambda m, now: dt.date(now.year, 12, 31)),
    (r"(?:in|within|inside|over)(?: the next)? " + _NUMBER
     + r" (?P<unit>(?:business |working )?days?|weeks?|months?|hours?)", _relative),
    (r"(?:(?P<q>this coming|coming|this|next|last|on|by|before|until|till) )?"
     r"(?P<day>(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)\.?|monday|tuesday|wednesday|"
     r"thursday|friday|saturday|sunday)(?: (?P<after>next week|week))?", _weekday),
    (r"(?:by|on|before|until|till|for) the " + _ORDINAL + r"(?: of " + _MONTH + r")?"
     r"(?=\s*(?:$|[^\w\s]|(?:of|at|and|or|latest|then|so|but|as|when|in|to|please)\b))",
     _day_of_month),
    (_ORDINAL + r" (?:of )?" + _MONTH + _YEAR, _absolute),
    (_MONTH + r" " + _ORDINAL + _YEAR, _absolute),
    (r"(?P<y>\d{4})-(?P<mo>\d{2})-(?P<d>\d{2})", _absolute),
]]
# fmt: on
_TIME_RULE = _rule(
    r"(?:by|before|until|till|at) (?:(?P<h>1[0-2]|0?[1-9])(?:[:.](?P<mi>[0-5]\d))? ?"
    r"(?P<ap>[ap]\.?m)\.?|(?P<noon>noon|midday|lunchtime|lunch))",
    _time_of_day,
)


def _deadline(text: str, now: dt.datetime) -> dt.date | None:
    """The first date named in `text`, else a time. A date right after a weekday, or after
    "end of day", says which one: "Friday 27 November", "EOD tomorrow"."""
    found = sorted(
        (m.start(), -len(m.group()), index, m)
        for index, (pattern, _) in enumerate(_RULES)
        for m in pattern.finditer(text)
    )
    for position, (_, _, index, m) in enumerate(found):
        day = _RULES[index][1](m, now)
        if day is None:
            continue
        if _RULES[index][1] in (_today, _weekday):
            for _, _, later, n in found[position + 1 :]:
                if 0 <= n.start() - m.end() <= 5 and (later > index or _RULES[index][1] is _today):
                    return _RULES[later][1](n, now) or day
        return day
    time = _TIME_RULE[0].search(text)
    return _TIME_RULE[1](time, now) if time else None


# --- Turn intent -----------------------------------------------------------------------------

_LINKS = re.compile(r"\b(?:https?://|www\.)\S+|(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_SMALL_TALK = re.compile(
    rf"\b(?:how are (?:you|things)(?: doing)?|how{_A}?s (?:it going|everything|life|things)|"
    rf"how is (?:it going|everything)|how have you been|how was (?:your|the) \w+|what{_A}s up|"
    rf"(?:i )?hope (?:you{_A}re well|you are well|all is well|all{_A}s well|this finds you well|"
    r"you (?:had|have) (?:a|an) \w+ \w+))\b[?!.,]*",
)
_BOILERPLATE_IF = (
    r"if (?:you have any (?:other |further |more )?questions|(?:you need|there['’]s|there is) "
    r"anything(?: else)?|i can help(?: further)?|anything (?:else )?comes up|you need (?:any )?"
    r"(?:help|more information))"
)
_OFFER = (
    r"(?:(?:please )?(?:feel free|do not hesitate|don['’]t hesitate) to (?:reach out|get in "
    r"touch|contact (?:me|us)|call|email|ask|let (?:me|us) know)"
    r"|give (?:me|us) a (?:call|shout|ring))"
)
_CLOSING = re.compile(
    rf"(?:just |please )?let (?:me|us) know {_BOILERPLATE_IF}|{_OFFER}(?: {_BOILERPLATE_IF})?"
    rf"|{_BOILERPLATE_IF},? (?:please )?(?:just )?(?:let (?:me|us) know|{_OFFER})",
)
_ASK = re.compile(
    rf"\b(?:let (?:me|us) know|(?:could|can|would|will) you|please (?:confirm|advise|send|let|"
    r"review|check|sign|reply|respond|get back|call|approve|share|provide|complete|fill in|return|"
    r"update|tell|forward|revert|arrange|book|schedule|come back|give)|what do you "
    r"think|what are your thoughts|(?<!for )any (?:thoughts|feedback|comments)|(?:hear|get|have|"
    r"welcome|appreciate|love) your (?:thoughts|feedback|comments|views)|(?:does|do|would|"
    r"will) (?:that|this|it|these|those|\w+day)(?: or \w+day)? (?:work|suit)|works? for you|"
    r"(?:^|[:,;] ?)(?:(?:is|are|do|does|did|would|could|can|will|has) (?:you|we|i|there|it|that|"
    r"this|they|the|a|an|your|our|my)|have (?:you|we|i|they|the|your)|(?!which is why)(?:what|"
    r"when|where|which|who|why|how) (?:is|are|do|does|did|would|could|can|will|should|shall)) |"
    r"quick question|just (?:checking in|following up|circling back)|"
    r"(?:friendly|gentle|quick) (?:reminder|nudge)|(?:shall|should) "
    r"(?:we|i)|how about|what about|would it be possible|is it possible|do you (?:have|know|want|"
    r"need|think|mind|agree)|are you (?:free|available|able|happy|ok|okay|around|still)|"
    rf"i(?:{_A}d| would) (?:appreciate (?:your|it if|if|a|an|any)|be grateful (?:if|for))|"
    r"look(?:ing)? forward "
    r"to (?:hearing|your (?:reply|response|feedback|thoughts|answer|decision))|(?:get|come) back "
    r"to me|awaiting your|waiting (?:for|on) your|need your (?:approval|confirmation|signature|"
    rf"sign-off|input|feedback|answer|decision)|can we|could we|let{_A}s (?:meet|schedule|book|"
    r"set up|arrange|find a time|have a (?:call|chat|meeting)|do a call|hop on|jump on|get \w+ "
    r"in the diary)|any (?:update|news)s?)\b",
)
_SETTLE = re.compile(
    r"\b(?:(?:(?:many|big|huge) )?(?:thanks|thank you|thank u|thx|ty|tks|ta)(?: (?:so|very) much|"
    r" a lot| a million| again| loads| heaps)?(?: for (?:(?!(?:i|we|but|and|can|could|would|will|"
    r"please)\b)[\w'’-]+ ?){1,6})?|cheers|(?:that|this)(?:['’]s| is| was)|sounds?|looks?|"
    r"great|good|perfect|fine|brilliant|awesome|excellent|lovely|wonderful|fantastic|amazing|"
    r"super|cool|nice|ok|okay|kk?|news|stuff|got it|gotcha|understood|noted|will do|like a plan|"
    r"(?:that )?works for (?:me|us)|that works|all good|no problem|no worries|np|sure|of course|"
    r"(?:(?:i|we)(?:['’]d| would| really| truly)? )?(?:much |really |greatly )?appreciated?"
    r"(?: it| that| this| your help| the help)?|received|"
    r"confirmed|done|agreed|(?:all )?sorted|(?:that['’]s )?everything(?: i needed)?|mate|"
    r"(?:talk|speak|chat|see you) (?:soon|later|then|there|tomorrow|next week|on \w+day|\w+day)|"
    r"see you|now|catch you (?:later|soon)|have a \w+ "
    r"(?:day|weekend|week|evening|one|holiday|holidays|christmas|time|trip)|enjoy (?:your|the) "
    r"(?:day|weekend|week|evening|holiday|holidays|trip|break)|take care|all the best|"
    r"(?:best|kind|warm|warmest)(?: regards| wishes)?|regards|sincerely|yours(?: truly)?|bye|"
    r"look(?:ing)? forward to (?:it|seeing you|meeting you|working (?:together|with you)|the \w+|"
    r"our \w+|\w+day)|hope (?:that|this) helps|you too|likewise|same to you|good luck|"
    r"congrat(?:ulation)?s|well done|great (?:work|job)|hi|hello|hey|hiya|dear|"
    r"(?:good )?(?:morning|afternoon|evening)|and|so|very|much|again|too|really|both|all|everyone|"
    r"team|guys|folks|a|lot|oh|ah|wow|as|always|also|indeed|truly|x+|(?:very |really )?helpful|"
    r"can['’]?t wait)\b"
    r"|[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\uFE0F\u200D]|[:;]-?[)d]|[^\w\s]",
)
_WORD = re.compile(r"\w+")


def turn_intent(text: str) -> TurnIntent:
    """Whether a turn asks for an answer, settles the exchange, or just states something.

    A settling sentence may keep up to three capitalised words (a name: "Thanks Anna"); they may
    open the sentence only in a last line that follows others (the sign-off "Tom"), so that
    "Declined." alone is not taken for a name."""
    sentences = list(_sentences(text[:MAX_READ]))
    settles = bool(sentences)
    for number, (start, end) in enumerate(sentences):
        raw = text[start:end]
        low = raw.lower()
        maybe_asks = "?" in low or _ASK.search(low)
        if not maybe_asks and not (settles and len(raw) <= _SHORT_SENTENCE):
            settles = False
            continue
        sentence = _CLOSING.sub(" ", _SMALL_TALK.sub(" ", low))
        if maybe_asks and ("?" in _LINKS.sub(" ", sentence) or _ASK.search(sentence.strip())):
            return TurnIntent.ASKS
        if settles:
            rest = _SETTLE.sub(" ", sentence).split()
            words = _WORD.findall(raw)
            names = {word.lower() for word in words if word[0].isupper()}
            signature = 0 < number == len(sentences) - 1
            opens = bool(words) and rest[:1] == [words[0].lower()] and not signature
            settles = len(rest) <= 3 and set(rest) <= names and not opens
    return TurnIntent.SETTLES if settles else TurnIntent.STATES
