import datetime
from zoneinfo import ZoneInfo

from organisations.calendar import BusinessCalendar
from tests.followups.conftest import at

NINE_TO_FIVE = BusinessCalendar(
    tz=ZoneInfo("Europe/London"),
    starts=datetime.time(9),
    ends=datetime.time(17),
    workdays=frozenset({1, 2, 3, 4, 5}),
)


def test_one_business_day_from_friday_afternoon_is_monday_afternoon():
    assert NINE_TO_FIVE.add(at(20, 16), 1) == at(23, 16)


def test_mail_arriving_on_saturday_is_due_at_the_end_of_monday():
    assert NINE_TO_FIVE.add(at(21, 11), 1) == at(23, 17)


def test_mail_arriving_before_opening_counts_from_opening():
    assert NINE_TO_FIVE.add(at(17, 6), 0.5) == at(17, 13)


def test_holidays_are_not_worked():
    with_holiday = BusinessCalendar(
        tz=NINE_TO_FIVE.tz, starts=NINE_TO_FIVE.starts, ends=NINE_TO_FIVE.ends,
        workdays=NINE_TO_FIVE.workdays, holidays=frozenset({datetime.date(2026, 11, 23)}),
    )  # fmt: skip
    assert with_holiday.add(at(20, 16), 1) == at(24, 16)


def test_a_weekend_adds_no_business_time():
    assert NINE_TO_FIVE.between(at(20, 16), at(23, 10)) == 2 / 8


def test_going_back_one_business_day_crosses_the_weekend():
    assert NINE_TO_FIVE.add(at(23, 12), -1) == at(20, 12)


def test_a_day_before_the_close_of_business_is_that_mornings_opening():
    # Why a promise due on Monday is in the queue from Monday morning, not Friday evening.
    assert NINE_TO_FIVE.add(at(23, 17), -1) == at(23, 9)
