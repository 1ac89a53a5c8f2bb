"""Small conversions between the engine's values and Odoo's storage."""

from datetime import timezone

from odoo.exceptions import AccessError


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


def check_company_kept(records, vals, fields):
    """Refuse a write that moves records to a company the user does not work in.

    Record rules are checked before a write, not after: without this, an
    agent could move a message or a conversation of their company into
    another company's inbox by changing its parent.
    """
    if records.env.su or not set(fields) & set(vals):
        return
    foreign = records.filtered(lambda record: record.company_id not in records.env.companies)
    if foreign:
        raise AccessError(records.env._(
            "You cannot move %(model)s records to a company you do not work in.",
            model=records._description))
