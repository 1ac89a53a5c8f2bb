import time

from odoo import api, fields, models

from ..cloud import constants as C
from ..cloud.throttle import PairPacer, TokenBucket


class DatabaseBucketStore:
    """The engine's BucketStore on the wa_pacing table: one row per key.

    ``INSERT … ON CONFLICT DO UPDATE`` creates the row if needed, locks it
    and returns its state in one statement; the new state is written before
    the caller commits, so every worker of every Odoo process sharing the
    database takes its slots from the same row, one after the other. The
    lock lasts until the caller's commit: keep that transaction short.
    """

    def __init__(self, cr):
        self.cr = cr

    def update(self, key, fn):
        self.cr.execute("""
            INSERT INTO wa_pacing (key, tat) VALUES (%s, NULL)
            ON CONFLICT (key) DO UPDATE SET key = EXCLUDED.key
            RETURNING tat
        """, [key])
        new_state, result = fn(self.cr.fetchone()[0])
        self.cr.execute("UPDATE wa_pacing SET tat = %s WHERE key = %s", [new_state, key])
        return result

    def update_many(self, keys, fn):
        """update() for a batch: two statements for all the keys (given sorted, so
        every worker locks rows in one order and none waits for another in a cycle)."""
        keys = list(keys)
        self.cr.execute("""
            INSERT INTO wa_pacing (key, tat) SELECT unnest(%s::varchar[]), NULL
            ON CONFLICT (key) DO UPDATE SET key = EXCLUDED.key
            RETURNING key, tat
        """, [keys])
        states = dict(self.cr.fetchall())
        new_states, result = fn(states)
        changed = [(key, tat) for key, tat in new_states.items() if tat != states.get(key)]
        if changed:
            self.cr.execute("""
                UPDATE wa_pacing p SET tat = v.tat
                  FROM (SELECT unnest(%s::varchar[]) AS key, unnest(%s::float8[]) AS tat) v
                 WHERE p.key = v.key
            """, [[key for key, _tat in changed], [tat for _key, tat in changed]])
        return result


class WaPacing(models.Model):
    """Pacing states (GCRA theoretical arrival times) shared by all workers.

    Wall-clock seconds (``time.time``), the one clock every Odoo process on
    the machine or cluster shares.
    """

    _name = "wa.pacing"
    _description = "WhatsApp Send Pacing"
    _log_access = False

    key = fields.Char("Pacing Key", required=True, index=True)
    tat = fields.Float("Theoretical Arrival Time")  # float8: the engine does float arithmetic

    _sql_constraints = [("key_uniq", "unique(key)", "One pacing state per key.")]

    @api.model
    def _store(self):
        return DatabaseBucketStore(self.env.cr)

    @api.model
    def _throughput(self, account):
        """The account's messages-per-second bucket; burst 1 keeps every
        second under the cap whatever the phase of Meta's own counter."""
        rate = min(max(account.throughput_mps or C.DEFAULT_MPS, 1), C.MAX_MPS)
        return TokenBucket(rate, burst=1, store=self._store(), clock=time.time, prefix="mps:")

    @api.model
    def _pair(self):
        return PairPacer(store=self._store(), clock=time.time)

    @api.autovacuum
    def _gc_full_buckets(self):
        # A key whose TAT has passed is a full bucket: the row says nothing.
        self.env.cr.execute("DELETE FROM wa_pacing WHERE tat IS NULL OR tat < %s",
                            [time.time() - 3600])
