"""Small conversions between the engine's values and Odoo's storage."""

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
