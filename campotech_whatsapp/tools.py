"""Small conversions between the engine's values and Odoo's storage."""

import threading
import time
from datetime import timezone

from odoo import fields


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


def cron_batch(env, records_fn, work_fn, due_count_fn, size=1, budget_s=None):
    """One cron pass: ``work_fn`` on each record ``records_fn()`` finds (on
    each slice of ``size`` records), each committed on its own (a slow or
    failing one never holds back or undoes the others), then the progress
    Odoo uses to run the cron again at once while ``due_count_fn()`` says
    work is left. With ``budget_s``, no slice starts once that many seconds
    went: Odoo kills a cron worker busy longer than its time limit (120 s by
    default, for all the jobs of its pass), losing the work not committed."""
    records = records_fn()
    deadline = time.monotonic() + budget_s if budget_s else None
    done = 0
    for start in range(0, len(records), size):
        if deadline and done and time.monotonic() > deadline:
            break
        work_fn(records[start:start + size] if size > 1 else records[start])
        cron_commit(env)
        done = min(start + size, len(records))
    env["ir.cron"]._notify_progress(done=done, remaining=due_count_fn())
    return records[:done]


def failed_attempt(record, decide, text, prefix=""):
    """Count a failed attempt on ``record`` and plan the next one.

    ``decide(attempts, now)`` is a RetryPolicy's decision for the attempts
    done so far; the record keeps them in ``<prefix>attempts``,
    ``<prefix>error_message`` and ``<prefix>next_attempt_at`` (empty when no retry is
    planned). Returns the decision and the values, which the caller writes
    with whatever else the decision changes.
    """
    attempts = record[prefix + "attempts"] + 1
    decision = decide(attempts, aware(fields.Datetime.now()))
    values = {
        prefix + "attempts": attempts,
        prefix + "error_message": text,
        prefix + "next_attempt_at": odoo_datetime(decision.at) if decision.retry else False,
    }
    return decision, values
