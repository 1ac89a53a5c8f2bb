"""Quiet hours: when an automated message queued at a given moment may go out.

Automated notices (a job scheduled at 23:00 by a dispatcher working late)
wait until the customer's morning; messages a person types are never held.
Quiet hours are read on the customer's clock when their time zone is known,
else the company's, else Buenos Aires. The span may cross midnight
(21:00-08:00, the default) or not (13:00-15:00); equal start and end mean
no quiet hours at all.

Hours are floats as Odoo's ``float_time`` widget stores them (21.5 is
21:30). Datetimes: naive means UTC, as Odoo stores them; the answer keeps
the caller's style (naive UTC in, naive UTC out; aware in, aware UTC out).
"""

import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TZ = "America/Argentina/Buenos_Aires"
DEFAULT_START = 21.0
DEFAULT_END = 8.0

_UTC = datetime.timezone.utc


def resolve_tz(*names):
    """The first valid IANA zone among names, else Buenos Aires."""
    for name in names:
        if not name:
            continue
        try:
            return ZoneInfo(str(name))
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return ZoneInfo(DEFAULT_TZ)


def _minutes(hours):
    """Minutes after midnight for a float hour, clamped to one day."""
    if hours is None or isinstance(hours, bool):
        raise ValueError("quiet hours need a start and an end")
    value = float(hours)
    if not 0 <= value <= 24:
        raise ValueError("quiet hours must be between 0:00 and 24:00, not %r" % (hours,))
    return int(round(value * 60)) % (24 * 60)


def _local_at(day, minutes, tz):
    naive = datetime.datetime.combine(day, datetime.time(minutes // 60, minutes % 60))
    return naive.replace(tzinfo=tz)


def release_at(moment, start=DEFAULT_START, end=DEFAULT_END, tz=None):
    """When a message queued at moment may be sent: None if at once, else
    the end of the quiet hours it falls in.

    tz is a zone name or ZoneInfo (see resolve_tz).
    """
    zone = tz if isinstance(tz, ZoneInfo) else resolve_tz(tz)
    start_min, end_min = _minutes(start), _minutes(end)
    if start_min == end_min:
        return None
    aware = moment.replace(tzinfo=_UTC) if moment.tzinfo is None else moment
    local = aware.astimezone(zone)
    now_min = local.hour * 60 + local.minute
    if start_min < end_min:  # same-day span
        quiet = start_min <= now_min < end_min
        end_day = local.date()
    else:  # crosses midnight
        quiet = now_min >= start_min or now_min < end_min
        end_day = local.date() + datetime.timedelta(days=1 if now_min >= start_min else 0)
    if not quiet:
        return None
    released = _local_at(end_day, end_min, zone).astimezone(_UTC)
    return released.replace(tzinfo=None) if moment.tzinfo is None else released


def is_quiet(moment, start=DEFAULT_START, end=DEFAULT_END, tz=None):
    return release_at(moment, start, end, tz) is not None
