"""SLA clocks: deadlines in wall-clock time, or counting business hours only.

Pure arithmetic on aware datetimes. A business-hours clock that starts at night starts
counting at the next opening; one that runs out at closing time ends at closing time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from desk.config import BusinessHours, DeskConfig

__all__ = ["add_business_time", "deadline", "sla_durations"]

_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# No calendar has more than a year of closed days in a row; this bounds the day loop so a
# configuration with every day a holiday fails loudly instead of spinning.
_MAX_DAYS = 800


def _is_working_day(day: datetime, hours: BusinessHours) -> bool:
    return _WEEKDAYS[day.weekday()] in hours.days and day.date() not in hours.holidays


def add_business_time(start: datetime, duration: timedelta, hours: BusinessHours) -> datetime:
    """`start` plus `duration` counted only inside business hours, in the hours' time zone.
    The result is in UTC."""
    if start.tzinfo is None:
        raise ValueError("add_business_time needs an aware datetime")
    zone = ZoneInfo(hours.timezone)
    cursor = start.astimezone(zone)
    left = duration
    for _ in range(_MAX_DAYS):
        # Opening and closing are wall-clock times of the day; what lies between them is
        # counted in UTC, since Python's arithmetic on datetimes of one zone is wall-clock
        # arithmetic and a DST change inside the hours would add or lose an hour.
        day_open = cursor.replace(hour=hours.start.hour, minute=hours.start.minute,
                                  second=0, microsecond=0, fold=0).astimezone(UTC)
        day_close = cursor.replace(hour=hours.end.hour, minute=hours.end.minute,
                                   second=0, microsecond=0, fold=0).astimezone(UTC)
        at = cursor.astimezone(UTC)
        if _is_working_day(cursor, hours) and at < day_close:
            begin = max(at, day_open)
            available = day_close - begin
            if left <= available:
                return begin + left
            left -= available
        # Next calendar day at midnight local time (re-localised: DST changes the offset).
        next_day = (cursor.replace(tzinfo=None, hour=0, minute=0, second=0, microsecond=0)
                    + timedelta(days=1))
        cursor = next_day.replace(tzinfo=zone)
    raise ValueError("business_hours: no working day within two years (check days/holidays)")


def sla_durations(desk: DeskConfig, first_response: timedelta, priority: str,
                  factor: float = 1.0) -> tuple[timedelta, timedelta]:
    """(first response, resolution) durations for a priority, times the VIP factor."""
    return first_response * factor, desk.resolution.for_priority(priority) * factor


def deadline(start: datetime, duration: timedelta, priority: str, desk: DeskConfig) -> datetime:
    """When a clock of `duration` started at `start` runs out for a ticket of `priority`."""
    hours = desk.business_hours
    if hours is not None and priority in hours.priorities:
        return add_business_time(start, duration, hours)
    return start + duration
