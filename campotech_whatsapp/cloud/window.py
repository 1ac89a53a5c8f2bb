"""The 24-hour customer service window.

A customer's message opens (or renews) a window of
``constants.SERVICE_WINDOW_SECONDS`` during which the business may send
free-form messages. Our own outbound messages, templates included, do not
renew it: only ``last_inbound_at``, the time of the customer's last message,
counts.

What needs the window (Meta sends 131047 otherwise):

* templates never do: they are how a closed window is reopened;
* every other message does: text, media, location, contacts, interactive,
  and reactions too, which are messages like any other;
* read receipts and typing indicators (``mark_read``, ``typing``) are not
  messages but status updates on a message the customer sent; Meta asks for
  them within 30 days of that message, not within the window, so this
  module does not block them.

Datetimes: Odoo stores naive datetimes in UTC, so a naive datetime here
always means UTC; aware datetimes of any zone are converted. Results keep
the caller's style: naive in, naive UTC out; aware in, aware UTC out. The
window is open strictly before ``closes_at``: at exactly 24 h it is closed.
"""

import dataclasses
from datetime import datetime, timedelta, timezone
from typing import Optional

from . import constants as C

WINDOW = timedelta(seconds=C.SERVICE_WINDOW_SECONDS)

# Sent outside the window on purpose: templates reopen it; receipts and
# typing indicators are status updates, not messages.
ALWAYS_ALLOWED = frozenset({"template", "mark_read", "read", "typing"})


@dataclasses.dataclass(frozen=True)
class WindowState:
    """Where a conversation's window stands at one moment."""

    open: bool
    closes_at: Optional[datetime]  # None: the customer never wrote
    remaining: timedelta  # zero when closed


def window_closes_at(last_inbound_at):
    """When the window opened by the last inbound message closes, or None."""
    if last_inbound_at is None:
        return None
    return _like(last_inbound_at, _utc(last_inbound_at) + WINDOW)


def is_window_open(last_inbound_at, now=None):
    """True while free-form messages may be sent (now < last inbound + 24 h)."""
    return window_state(last_inbound_at, now).open


def window_state(last_inbound_at, now=None):
    """Return the WindowState at ``now`` (default: the current time)."""
    if last_inbound_at is None or last_inbound_at is False:  # Odoo's empty datetime is False
        return WindowState(False, None, timedelta(0))
    closes_at = _utc(last_inbound_at) + WINDOW
    now = _utc(now) if now is not None else datetime.now(timezone.utc)
    remaining = closes_at - now
    is_open = remaining > timedelta(0)
    return WindowState(is_open, _like(last_inbound_at, closes_at),
                       remaining if is_open else timedelta(0))


def can_send_freeform(last_inbound_at, now=None, message_type="text"):
    """True when a message of ``message_type`` may be sent now.

    ``message_type`` is the send payload's ``type`` (``text``, ``image``,
    ``template``, ``reaction``, …) or ``mark_read``/``typing``. Unknown types
    are treated as free-form messages: they need the window.
    """
    if message_type in ALWAYS_ALLOWED:
        return True
    return is_window_open(last_inbound_at, now)


def _utc(value):
    if not isinstance(value, datetime):
        raise TypeError("expected a datetime, got %s" % type(value).__name__)
    if value.tzinfo is None or value.utcoffset() is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def _like(reference, value_utc):
    """value_utc in the caller's style: naive UTC if reference is naive."""
    if reference.tzinfo is None or reference.utcoffset() is None:
        return value_utc.replace(tzinfo=None)
    return value_utc
