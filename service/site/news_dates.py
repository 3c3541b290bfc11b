"""Dates as newsrooms print them: "31 मई 2023, 4:09 pm IST".

Babel's ``medium`` date-time shows seconds ("4:09:00 PM") and no time zone, which no news
site prints.  Here the locale's own pattern joins its ``medium`` date and ``short`` time,
followed by the zone's short name in that locale (IST for India; where the locale data
has no abbreviation and would print an offset, its short generic name, e.g. Urdu
"بھارت وقت").  AM/PM and digits are whatever Babel's locale data gives.  No Flask here:
the caller passes the locale and the time zone (``SITE_TIMEZONE``).
"""

from __future__ import annotations

from datetime import UTC, datetime

from babel import Locale
from babel.dates import format_date, format_time, get_timezone, get_timezone_name


def zone_name(tz_name: str, locale: str, when: datetime) -> str:
    """The zone's abbreviation in ``locale``, or its short generic name if there is none."""
    tz = get_timezone(tz_name)
    abbreviation = format_time(when, "z", tzinfo=tz, locale=locale)
    if any(ch.isdigit() for ch in abbreviation):
        return get_timezone_name(tz, "short", locale=locale)
    return abbreviation


def news_datetime(when: datetime, locale: str, tz_name: str) -> str:
    """``when`` (naive means UTC) in ``tz_name``, without seconds, with the zone shown."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    tz = get_timezone(tz_name)
    parsed = Locale.parse(locale)
    pattern = parsed.datetime_formats["medium"]
    pattern = getattr(pattern, "pattern", pattern)
    date_text = format_date(when.astimezone(tz), "medium", locale=parsed)
    time_text = format_time(when, "short", tzinfo=tz, locale=parsed)
    return f"{pattern.format(time_text, date_text)} {zone_name(tz_name, locale, when)}"


def news_date(when: datetime, locale: str, tz_name: str) -> str:
    """The date alone (front-page lists), in the site's time zone."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return format_date(when.astimezone(get_timezone(tz_name)), "medium", locale=locale)
