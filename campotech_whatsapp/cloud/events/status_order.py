"""The order of delivery statuses: what may replace what on one of our messages."""

from .. import constants as C


def status_advances(current, new):
    """Whether a delivery status ``new`` should replace ``current`` on a message.

    Statuses only move forward along C.STATUS_RANK (sent < delivered < read
    < played), because Meta does not deliver them in order: a late
    ``delivered`` never overwrites ``read``, and the same status twice is not
    an advance. ``failed`` overwrites pending, sent and delivered only (a
    message the customer read or played did not fail) and nothing overwrites
    ``failed``. An empty ``current`` counts as pending; an unknown status on
    either side is never an advance.
    """
    new = new.lower() if isinstance(new, str) else None
    current = current.lower() if isinstance(current, str) and current else "pending"
    if new not in C.STATUS_RANK or current not in C.STATUS_RANK or new == current:
        return False
    if current == "failed":
        return False
    if new == "failed":
        return current in C.STATUS_FAILED_OVERWRITES
    return C.STATUS_RANK[new] > C.STATUS_RANK[current]


def message_state(status):
    """The state a delivery status leaves one of our messages in.

    A voice note's ``played`` is ``read`` for whoever reads the chat; the
    other statuses are states of their own.
    """
    return "read" if status == "played" else status
