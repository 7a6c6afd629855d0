"""Business time: ages and targets counted in the organisation's working hours.

"Waiting 1 business day" means one working day's worth of working hours, so an email that
arrives on Friday at 16:00 in a 9-17 week is due on Monday at 16:00, and one that arrives on
Saturday is due on Monday at 17:00. Holidays count as days off.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from organisations.models import Holiday, Organisation

# Ten years of days off in a row would be a misconfiguration, not a calendar.
_MAX_DAYS = 3660


@dataclass(frozen=True)
class BusinessCalendar:
    tz: ZoneInfo
    starts: datetime.time
    ends: datetime.time
    workdays: frozenset[int]  # ISO weekdays, 1 is Monday
    holidays: frozenset[datetime.date] = frozenset()

    @classmethod
    def for_org(cls, org: Organisation) -> BusinessCalendar:
        holidays = Holiday.objects.for_org(org).values_list("date", flat=True)
        return cls(
            tz=ZoneInfo(org.time_zone),
            starts=org.workday_starts,
            ends=org.workday_ends,
            workdays=frozenset(int(day) for day in org.workdays if day in "1234567"),
            holidays=frozenset(holidays),
        )

    @property
    def day_length(self) -> datetime.timedelta:
        today = datetime.date(2000, 1, 3)
        return datetime.datetime.combine(today, self.ends) - datetime.datetime.combine(
            today, self.starts
        )

    @property
    def _works(self) -> bool:
        return bool(self.workdays) and self.day_length > datetime.timedelta(0)

    def is_workday(self, day: datetime.date) -> bool:
        return day.isoweekday() in self.workdays and day not in self.holidays

    def opening(self, day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
        return (
            datetime.datetime.combine(day, self.starts, tzinfo=self.tz),
            datetime.datetime.combine(day, self.ends, tzinfo=self.tz),
        )

    def local_date(self, moment: datetime.datetime) -> datetime.date:
        return moment.astimezone(self.tz).date()

    def add(self, start: datetime.datetime, days: float) -> datetime.datetime:
        """The moment `days` business days of working time after `start` (or before, if < 0)."""
        if not self._works:
            return start + datetime.timedelta(days=days)
        if days < 0:
            return self._subtract(start, self.day_length * -days)
        remaining = self.day_length * days
        moment = start.astimezone(self.tz)
        day = moment.date()
        for _ in range(_MAX_DAYS):
            if self.is_workday(day):
                opens, closes = self.opening(day)
                begin = max(moment, opens)
                if begin < closes:
                    if remaining <= closes - begin:
                        return begin + remaining
                    remaining -= closes - begin
            day += datetime.timedelta(days=1)
        return start + datetime.timedelta(days=days)

    def _subtract(self, end: datetime.datetime, remaining: datetime.timedelta) -> datetime.datetime:
        moment = end.astimezone(self.tz)
        day = moment.date()
        for _ in range(_MAX_DAYS):
            if self.is_workday(day):
                opens, closes = self.opening(day)
                finish = min(moment, closes)
                if finish > opens:
                    if remaining <= finish - opens:
                        return finish - remaining
                    remaining -= finish - opens
            day -= datetime.timedelta(days=1)
        return end - remaining

    def between(self, start: datetime.datetime, end: datetime.datetime) -> float:
        """Business days of working time from `start` to `end` (0 if end is not later)."""
        if end <= start:
            return 0.0
        if not self._works:
            return (end - start) / datetime.timedelta(days=1)
        worked = datetime.timedelta(0)
        day, last = self.local_date(start), self.local_date(end)
        if (last - day).days > _MAX_DAYS:
            return (end - start) / datetime.timedelta(days=1)
        while day <= last:
            if self.is_workday(day):
                opens, closes = self.opening(day)
                begin, finish = max(start, opens), min(end, closes)
                if finish > begin:
                    worked += finish - begin
            day += datetime.timedelta(days=1)
        return worked / self.day_length

    def end_of_day(self, day: datetime.date) -> datetime.datetime:
        """When something due on `day` becomes late: the close of business that day."""
        return self.opening(day)[1]

    def next_opening(self, after: datetime.datetime) -> datetime.datetime:
        """The start of the next working day after `after`'s local day (for daily digests)."""
        day = self.local_date(after) + datetime.timedelta(days=1)
        for _ in range(_MAX_DAYS):
            if self.is_workday(day):
                return self.opening(day)[0]
            day += datetime.timedelta(days=1)
        return after + datetime.timedelta(days=1)
