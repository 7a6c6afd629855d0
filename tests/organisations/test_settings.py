"""Admins set how the organisation works: business hours and holidays."""

import datetime

from organisations.models import Holiday, Organisation


def test_an_admin_sets_business_hours(a):
    response = a.client(a.admin).post(
        f"/o/{a.org.slug}/settings/",
        {
            "hours-time_zone": "Europe/Paris",
            "hours-workday_starts": "08:30",
            "hours-workday_ends": "18:00",
            "hours-workdays": ["1", "2", "3", "4"],
            "hours-reply_target_days": "0.5",
            "hours-search_language": "english",
        },  # fmt: skip
    )
    assert response.status_code == 302
    org = Organisation.objects.get(pk=a.org.pk)
    assert (org.time_zone, org.workdays, org.workday_starts) == (
        "Europe/Paris",
        "1234",
        datetime.time(8, 30),
    )


def test_a_day_that_ends_before_it_starts_is_refused_with_the_reason(a):
    response = a.client(a.admin).post(
        f"/o/{a.org.slug}/settings/",
        {
            "hours-time_zone": "Mars/Olympus",
            "hours-workday_starts": "18:00",
            "hours-workday_ends": "09:00",
            "hours-workdays": ["1"],
            "hours-reply_target_days": "1",
        },  # fmt: skip
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert "Use a time zone name" in page and "must end after it starts" in page
    assert Organisation.objects.get(pk=a.org.pk).time_zone == a.org.time_zone


def test_holidays_are_added_and_removed(a):
    client = a.client(a.admin)
    client.post(
        f"/o/{a.org.slug}/settings/", {"holiday-date": "2026-12-26", "holiday-name": "Boxing Day"}
    )
    boxing_day = Holiday.objects.for_org(a.org).get(date=datetime.date(2026, 12, 26))
    assert "Boxing Day" in client.get(f"/o/{a.org.slug}/settings/").content.decode()
    client.post(f"/o/{a.org.slug}/settings/holidays/{boxing_day.pk}/delete/")
    assert not Holiday.objects.for_org(a.org).filter(pk=boxing_day.pk).exists()


def test_only_admins_change_settings(a):
    assert a.client().get(f"/o/{a.org.slug}/settings/").status_code == 404
    assert (
        a.client().post(f"/o/{a.org.slug}/settings/holidays/{a.holiday.pk}/delete/").status_code
        == 404
    )
    assert Holiday.objects.for_org(a.org).filter(pk=a.holiday.pk).exists()


def test_a_reply_target_of_nothing_is_refused(a):
    response = a.client(a.admin).post(
        f"/o/{a.org.slug}/settings/",
        {
            "hours-time_zone": "UTC",
            "hours-workday_starts": "09:00",
            "hours-workday_ends": "17:00",
            "hours-workdays": ["1"],
            "hours-reply_target_days": "-5",
        },  # fmt: skip
    )
    assert response.status_code == 422
    assert "between 0.1 and 30 business days" in response.content.decode()
