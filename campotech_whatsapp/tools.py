"""Small conversions between the engine's values and Odoo's storage."""

import threading
from datetime import timezone


def odoo_datetime(moment):
    """An aware datetime as Odoo stores it: naive UTC (False for None)."""
    if moment is None:
        return False
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment


def aware(moment):
    """Odoo's naive UTC datetime as the aware one the engine expects."""
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment



def identity_domain(key_field, user_id_field, key, user_id):
    """Records of one customer: by contact key, or by Meta's user id, which
    stays the same when a username-only customer later shows a number."""
    domain = [(key_field, "=", key)]
    if user_id:
        domain = ["|", (user_id_field, "=", user_id)] + domain
    return domain


def cron_commit(env):
    """Commit one unit of a cron's work, except inside tests (which cannot)."""
    if not getattr(threading.current_thread(), "testing", False):
        env.cr.commit()  # pylint: disable=invalid-commit
