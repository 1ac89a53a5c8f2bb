import logging
import threading
import time
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..cloud import builders, constants as C, throttle, window
from ..cloud.errors import CloudApiError, failure_type
from ..cloud.retry import RetryPolicy
from ..cloud.throttle import PairPacer
from ..tools import aware, cron_commit, odoo_datetime

_logger = logging.getLogger(__name__)

FAILURE_TYPES = [
    ("window_closed", "24 h Window Closed"),
    ("undeliverable", "Undeliverable"),
    ("template", "Template Rejected or Missing"),
    ("invalid_parameter", "Invalid Parameter"),
    ("token", "Access Token or Permission"),
    ("media_too_large", "Media Too Large or Refused"),
    ("unknown", "Unknown Error"),
]
assert [key for key, _label in FAILURE_TYPES] == list(C.FAILURE_TYPES)

# Payload types that are not chat messages: no wa.message, never held.
RECEIPT_TYPES = ("mark_read",)
# How long one cron run keeps sending before it hands over (and is called
# again at once by _notify_progress while work remains).
CRON_TIME_BUDGET = 240
# Longest wait for a throughput slot; beyond it other workers hold the
# account's next seconds, and the rest of a batch is left for a later claim.
MAX_SLOT_WAIT = 2.0
# A claim on an item in a batch lapses after this long even if the worker that
# made it still runs (it is stuck); normally a batch is sent within a second.
CLAIM_SECONDS = 60


def _testing():
    return getattr(threading.current_thread(), "testing", False)


class WaOutboundQueue(models.Model):
    """Messages waiting to be sent to Meta.

    An item is written in the same transaction as the wa.message it sends,
    so a crash between the two loses nothing; a failed send stays here with
    Meta's error until it is retried or given up.

    Lifecycle: ``_process_queue`` (the cron) → ``_claim_batch`` (about half
    a second of the cap's sends, claimed in one ``UPDATE … FOR UPDATE SKIP
    LOCKED`` statement; they stay ``pending``) → ``_send_batch`` (window,
    pair rate and throughput slots for the whole batch in a few statements,
    then per item: ``processing`` committed, one HTTP call, the success
    written in one statement and committed with the next item's start). A
    worker killed during an HTTP call leaves exactly one item
    ``processing``; once its lease (``QUEUE_LEASE_SECONDS``) has passed it
    is tried again. Its other claimed items are due again at once: a claim
    names the worker's database backend, gone with the worker.
    """

    _name = "wa.outbound.queue"
    _inherit = ["wa.company.guard"]
    _wa_company_parents = ("account_id",)
    _description = "WhatsApp Outbound Queue"
    _order = "priority desc, scheduled_at, id"
    _check_company_auto = True

    account_id = fields.Many2one("wa.account", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="account_id.company_id", store=True, index=True)
    message_id = fields.Many2one("wa.message", index=True, ondelete="cascade", check_company=True)
    conversation_id = fields.Many2one("wa.conversation", index=True, ondelete="cascade",
                                      check_company=True)
    phone = fields.Char(required=True, help="Recipient wa_id or E.164 number.")
    message_type = fields.Char(required=True, default="text")
    content = fields.Json(help="The Cloud API payload to send.")
    priority = fields.Integer(default=10, help="Higher goes first.")
    attempts = fields.Integer(default=0)
    max_attempts = fields.Integer(default=8)
    scheduled_at = fields.Datetime(default=fields.Datetime.now, index=True)
    last_attempt_at = fields.Datetime()
    processing_since = fields.Datetime(
        help="When the attempt in progress began; an item processing for longer than the "
             "lease belongs to a worker that died and is tried again.")
    state = fields.Selection(
        [("pending", "Pending"), ("held", "Held"), ("processing", "Processing"),
         ("done", "Done"), ("failed", "Failed")],
        default="pending", required=True, index=True)
    hold_reason = fields.Char(help="Why the item waits instead of going to Meta.")
    failure_type = fields.Selection(FAILURE_TYPES)
    error_code = fields.Integer("Meta Error Code")
    error_message = fields.Text()
    wamid = fields.Char("WhatsApp Message ID", readonly=True)
    claimed_pid = fields.Integer(
        "Claimed by Backend", readonly=True,
        help="The database backend of the worker whose batch holds this pending item; "
             "the claim is void once that backend is gone.")
    claimed_at = fields.Datetime(readonly=True)

    # --- Creation -----------------------------------------------------------

    @api.model
    def _wake(self, at=None):
        """Run the queue cron soon (or at ``at``); once per transaction for "now",
        so a loop queuing thousands of messages leaves one trigger."""
        if at is None:
            data = self.env.cr.precommit.data
            if data.get("campotech_whatsapp.queue_woken"):
                return
            data["campotech_whatsapp.queue_woken"] = True
        self.env.ref("campotech_whatsapp.ir_cron_wa_outbound_queue").sudo()._trigger(at)

    # --- The cron -------------------------------------------------------------

    @api.model
    def _process_queue(self, time_budget=CRON_TIME_BUDGET, max_items=None):
        """Send what is due, batch after batch; returns the count sent.

        Above throttle.SENDER_RATE msg/s of cap, more senders share the work: threads
        of this cron job, each with its own cursor (so its own claims and
        commits) and all pacing through the same wa.pacing rows. Threads, not
        more cron jobs: Odoo runs one job of a cron at a time, and a sender
        spends most of its time waiting for Meta or PostgreSQL, not the CPU.
        """
        self._recover_stale()
        size, senders = self._batch_plan()
        if _testing():  # the test's uncommitted data is only in its own cursor
            senders = 1
        counts = [0] * senders

        def sender(index):
            try:
                with self.env.registry.cursor() as cr:
                    env = api.Environment(cr, self.env.uid, self.env.context)
                    counts[index] = env[self._name]._drain(size, time_budget)
            except Exception:  # pylint: disable=broad-except
                # The other senders go on; its unsent claims lapse after CLAIM_SECONDS.
                _logger.exception("WhatsApp queue: sender %s stopped", index)

        threads = [threading.Thread(target=sender, args=(index,), daemon=True,
                                    name="wa-queue-sender-%d" % index)
                   for index in range(1, senders)]
        for thread in threads:
            thread.start()
        try:
            counts[0] = self._drain(size, time_budget, max_items)
        finally:
            for thread in threads:
                thread.join()
        count = sum(counts)
        self._reschedule_cron(count)
        return count

    @api.model
    def _drain(self, size, time_budget, max_items=None):
        """One sender's loop: claim a batch, send it, until nothing is due or the
        time is up. Its transactions are READ COMMITTED outside tests: the
        claim's SKIP LOCKED and the pacing rows see the other senders' latest
        commits instead of failing with a serialization error on them (Odoo's
        default, REPEATABLE READ, is restored at the end)."""
        read_committed = not _testing()
        if read_committed:
            cron_commit(self.env)
            self.env.cr.connection.set_session(isolation_level="READ COMMITTED")
        try:
            started, count, clients = time.monotonic(), 0, {}
            while True:
                batch = self._claim_batch(min(max_items - count, size) if max_items else size)
                if not batch:
                    break
                count += self._send_batch(batch, clients)
                if time.monotonic() - started > time_budget or (max_items and count >= max_items):
                    break
            return count
        finally:
            if read_committed:
                cron_commit(self.env)
                self.env.cr.connection.set_session(isolation_level="REPEATABLE READ")

    def _due_domain(self):
        return [("state", "=", "pending"), ("scheduled_at", "<=", fields.Datetime.now()),
                ("account_id.queue_paused", "=", False)]

    @api.model
    def _reschedule_cron(self, done):
        remaining = self.sudo().search_count(self._due_domain())
        if remaining and not _testing():
            self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
            return
        upcoming = self.sudo().search(
            [("state", "=", "pending"), ("account_id.queue_paused", "=", False)],
            order="scheduled_at", limit=1)
        if upcoming and upcoming.scheduled_at > fields.Datetime.now():
            self._wake(upcoming.scheduled_at)

    @api.model
    def _recover_stale(self):
        """Items a dead worker left processing go back to pending (see README)."""
        self.env.flush_all()
        self.env.cr.execute("""
            UPDATE wa_outbound_queue
               SET state = 'pending', processing_since = NULL,
                   error_message = 'The worker sending this item stopped during the attempt; '
                                   || 'sent again (Meta may have received the first attempt).'
             WHERE state = 'processing' AND processing_since < %s
         RETURNING id
        """, [fields.Datetime.now() - timedelta(seconds=C.QUEUE_LEASE_SECONDS)])
        recovered = [row[0] for row in self.env.cr.fetchall()]
        if recovered:
            _logger.warning("WhatsApp queue: %d items found processing past their lease, "
                            "tried again: %s", len(recovered), recovered)
            self.browse(recovered).invalidate_recordset()
        cron_commit(self.env)
        return recovered

    # An item is due when pending, its time has come, its account sends, and no
    # live worker has it in a batch: claimed_pid is the PostgreSQL backend of the
    # worker that claimed it, and a claim is void once that backend is gone (the
    # worker died: its connection closed) or the claim is older than CLAIM_SECONDS.
    _DUE_SQL = """
            q.state = 'pending' AND q.scheduled_at <= %(now)s
            AND a.active AND NOT COALESCE(a.queue_paused, FALSE)
            AND (q.claimed_pid IS NULL
                 OR q.claimed_at < (now() AT TIME ZONE 'UTC') - interval '%(claim)s seconds'
                 OR NOT EXISTS (SELECT 1 FROM pg_stat_activity s
                                 WHERE s.pid = q.claimed_pid
                                   -- a newer backend with the same pid is not the claimer;
                                   -- NULL: another role's session, taken as alive
                                   AND (s.backend_start IS NULL
                                        OR (s.backend_start AT TIME ZONE 'UTC') <= q.claimed_at)))
    """

    @api.model
    def _claim_next(self):
        """Lock the next due item (priority, then age); None when nothing is due.

        SKIP LOCKED: a worker never waits for, nor takes, an item another
        worker holds, so two processes never send the same item.
        """
        self.env.flush_all()  # raw SQL below: the ORM's pending writes first
        self.env.cr.execute("""
            SELECT q.id
              FROM wa_outbound_queue q
              JOIN wa_account a ON a.id = q.account_id
             WHERE %s
          ORDER BY q.priority DESC, q.scheduled_at, q.id
             LIMIT 1
               FOR UPDATE OF q SKIP LOCKED
        """ % self._DUE_SQL, {"now": fields.Datetime.now(), "claim": CLAIM_SECONDS})
        row = self.env.cr.fetchone()
        return self.browse(row[0]) if row else None

    @api.model
    def _claim_batch(self, limit):
        """Claim up to ``limit`` due items in one statement, in send order, with
        what sending them needs (rows as dicts; no ORM reads per item).

        The claim is committed by _send_batch together with the batch's pacing;
        the items stay ``pending`` until each one's own attempt begins, so a
        worker that dies leaves only its in-flight item ``processing``.
        """
        self.env.flush_all()  # raw SQL below: the ORM's pending writes first
        self.env.cr.execute("""
            WITH due AS (
                SELECT q.id, c.last_inbound_at, c.wa_id AS conversation_wa_id,
                       a.phone_number_id, a.throughput_mps
                  FROM wa_outbound_queue q
                  JOIN wa_account a ON a.id = q.account_id
             LEFT JOIN wa_conversation c ON c.id = q.conversation_id
                 WHERE %s
              ORDER BY q.priority DESC, q.scheduled_at, q.id
                 LIMIT %%(limit)s
                   FOR UPDATE OF q SKIP LOCKED)
            UPDATE wa_outbound_queue q
               SET claimed_pid = pg_backend_pid(), claimed_at = now() AT TIME ZONE 'UTC'
              FROM due
             WHERE q.id = due.id
         RETURNING q.id, q.account_id, q.conversation_id, q.message_id, q.phone, q.message_type,
                   q.content, q.priority, q.scheduled_at, due.last_inbound_at,
                   due.conversation_wa_id, due.phone_number_id, due.throughput_mps
        """ % self._DUE_SQL, {"now": fields.Datetime.now(), "claim": CLAIM_SECONDS,
                               "limit": max(1, limit)})
        columns = [d[0] for d in self.env.cr.description]
        rows = [dict(zip(columns, row)) for row in self.env.cr.fetchall()]
        rows.sort(key=lambda r: (-r["priority"], r["scheduled_at"], r["id"]))
        return rows

    @api.model
    def _batch_plan(self):
        """(items per batch, senders) for the fastest sending account's cap
        (cloud.throttle.batch_plan)."""
        self.env.cr.execute("SELECT max(throughput_mps) FROM wa_account "
                            "WHERE active AND NOT COALESCE(queue_paused, FALSE)")
        rate = min(self.env.cr.fetchone()[0] or C.DEFAULT_MPS, C.MAX_MPS)
        return throttle.batch_plan(rate, self.env["ir.config_parameter"].sudo().get_param(
            "campotech_whatsapp.queue_senders", 0))

    @api.model
    def _release_claims(self):
        """This worker's claims on items it did not send go back to the queue."""
        self.env.cr.execute("UPDATE wa_outbound_queue SET claimed_pid = NULL "
                            "WHERE claimed_pid = pg_backend_pid() AND state = 'pending'")

    @api.model
    def _pace_batch(self, rows):
        """Window, pair rate and throughput for a claimed batch, in its transaction.

        Returns the rows to send now, each with ``slot`` (a time.monotonic()
        before which it must not go). The pacing rows take a handful of
        statements for the whole batch (GCRA states: wa.pacing), and their
        locks last until the caller's commit, which follows at once.
        """
        now = fields.Datetime.now()
        pacing = self.env["wa.pacing"]
        chats = [r for r in rows if r["message_type"] not in RECEIPT_TYPES]
        closed = [r for r in chats if r["conversation_id"] and not window.can_send_freeform(
            r["last_inbound_at"] or None, now, r["message_type"])]
        for row in closed:
            self.browse(row["id"])._hold(self.env["wa.conversation"]._window_hold_reason())
        closed_ids = {r["id"] for r in closed}
        chats = [r for r in chats if r["id"] not in closed_ids]
        waits = pacing._pair().try_acquire_each(
            [PairPacer.pair_key(r["phone_number_id"], r["phone"]) for r in chats])
        later = {}
        for row, wait in zip(chats, waits):
            if wait > 0:  # that customer's pair rate: others' messages keep flowing
                later[row["id"]] = now + timedelta(seconds=max(1.0, wait))
        ready = [r for r in rows if r["id"] not in closed_ids and r["id"] not in later]
        by_account = {}
        for row in ready:
            by_account.setdefault(row["account_id"], []).append(row)
        clock = time.monotonic()
        for account_rows in by_account.values():
            account = self.env["wa.account"].browse(account_rows[0]["account_id"])
            bucket = pacing._throughput(account)
            # Slots up to MAX_SLOT_WAIT ahead; the rest of the batch is released
            # unpaced (due again for the next claim), so no slot goes unused.
            slots = bucket.reserve_many(account_rows[0]["phone_number_id"], len(account_rows),
                                        max_wait=MAX_SLOT_WAIT)
            for row, wait in zip(account_rows, slots):
                row["slot"] = clock + wait
            for row in account_rows[len(slots):]:
                row["unpaced"] = True
        for item_id, at in later.items():
            self.env.cr.execute("UPDATE wa_outbound_queue SET scheduled_at = %s, "
                                "claimed_pid = NULL WHERE id = %s", [at, item_id])
        return [r for r in ready if r["id"] not in later and "slot" in r]

    @api.model
    def _send_batch(self, rows, clients):
        """Pace a claimed batch, then send its items one by one; returns the count sent.

        Each attempt is committed as ``processing`` before its HTTP call, in
        the same transaction as the previous item's success: one commit per
        message, and at most one item whose outcome a crash could lose (it is
        sent again after its lease). Failures take the ORM path (_attempt_failed):
        they are rare and each has its own consequences.
        """
        ready = self._pace_batch(rows)
        cron_commit(self.env)  # the claims and the pacing, visible to every worker
        if not ready and any(r.get("unpaced") for r in rows):
            # Other workers hold the account's next seconds: let them pass
            # instead of claiming the same items again at once.
            self._release_claims()
            cron_commit(self.env)
            time.sleep(throttle.BATCH_SECONDS)
            return 0
        sent, done, renamed = 0, [], []
        success = None  # the last send's success, written with the next item's start
        # Customers whose earlier message in this batch is waiting for a retry:
        # their later ones (moved behind it by _keep_customer_order) must not be
        # tried in this batch, or each would take its own jittered retry time,
        # or go at once if Meta is back, and overtake it.
        waiting = set()
        for row in ready:
            if (row["account_id"], row["phone"]) in waiting and \
                    row["message_type"] not in RECEIPT_TYPES:
                continue
            now = fields.Datetime.now()
            claimed = self._start_attempt(row["id"], now, success)
            success = None
            cron_commit(self.env)  # with the previous success: the item is in flight
            if not claimed:  # our claim lapsed and another worker took it
                continue
            # Its slot, after the commit: were the worker to die in this short
            # sleep, the item would go once after its lease, never twice.
            wait = row["slot"] - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            try:
                result = self._attempt(row, clients)
            except Exception as error:  # pylint: disable=broad-except
                # Meta's errors are classified; anything else (no token, a file
                # gone, a bug) fails this item only, with its reason shown.
                if not isinstance(error, (CloudApiError, UserError, ValueError)):
                    _logger.exception("WhatsApp queue item %s: unexpected error", row["id"])
                item = self.browse(row["id"])
                item.invalidate_recordset()
                item.message_id.invalidate_recordset()
                item._attempt_failed(error)
                self.env.flush_all()
                if item.state == "pending" and item.message_type not in RECEIPT_TYPES:
                    waiting.add((row["account_id"], row["phone"]))
                if self.env["wa.account"].browse(row["account_id"]).queue_paused:
                    break  # error 190: nothing more goes until the token is fixed
                continue
            success = {"done_id": row["id"], "wamid": result.wamid if result else None,
                       "done_at": now}
            sent += 1
            if row["message_id"]:
                done.append(row["message_id"])
            if result and result.wa_id and row["conversation_id"] \
                    and result.wa_id != row["conversation_wa_id"]:
                renamed.append((row["conversation_id"], result.wa_id))
        if success:
            self._start_attempt(None, None, success)
        self._release_claims()
        self.browse([r["id"] for r in rows]).invalidate_recordset()
        messages = self.env["wa.message"].browse(done)
        messages.invalidate_recordset()
        # The chat screens learn the new states once per batch (one bus event per message).
        self.env["wa.bus"]._queue("status", messages)
        # Meta's canonical ids (549… for a number sent as 54…): one read and, at
        # the flush, one UPDATE per model for the batch.
        # (wa_id is not tracked: no chatter values to compute on the partner)
        conversations = self.env["wa.conversation"].with_context(tracking_disable=True).browse(
            [c for c, _w in renamed])
        for conversation, (_c, wa_id) in zip(conversations, renamed):
            conversation._store_canonical_wa_id(wa_id)
        cron_commit(self.env)
        return sent

    def _attempt(self, row, clients):
        """The HTTP call for one claimed row; returns Meta's SendResult (None for receipts)."""
        client = self._client_for(clients, row["account_id"])
        content = row["content"]
        if row["message_type"] == "mark_read":
            client.mark_read(content["message_id"], typing=bool(content.get("typing_indicator")))
            return None
        if not builders.has_media_to_upload(content):
            return client.send(content)
        account = self.env["wa.account"].browse(row["account_id"])
        with self.env.cr.savepoint():
            payload = builders.resolve_media(
                content, lambda attachment_id: self.env["wa.media.upload"]
                ._media_id_for(account, attachment_id, client))
            return client.send(payload)

    # A send's success: the item done and its message sent with Meta's wamid.
    _SUCCESS_SQL = """
        done_item AS (
            UPDATE wa_outbound_queue
               SET state = 'done', processing_since = NULL, hold_reason = NULL,
                   failure_type = NULL, error_code = 0, error_message = NULL, wamid = %(wamid)s,
                   write_date = %(done_at)s, write_uid = %(uid)s
             WHERE id = %(done_id)s
         RETURNING message_id),
        sent_message AS (
            UPDATE wa_message m
               SET wamid = %(wamid)s, error_code = 0, error_message = NULL,
                   state = CASE WHEN m.state = 'pending' THEN 'sent' ELSE m.state END,
                   state_date = CASE WHEN m.state = 'pending' THEN %(done_at)s ELSE m.state_date END,
                   write_date = %(done_at)s, write_uid = %(uid)s
              FROM done_item
             WHERE m.id = done_item.message_id AND %(wamid)s IS NOT NULL
         RETURNING m.id)"""
    # An attempt begins: the claimed item processing (nothing if the claim lapsed).
    _START_SQL = """
        started AS (
            UPDATE wa_outbound_queue
               SET state = 'processing', processing_since = %(now)s, last_attempt_at = %(now)s,
                   attempts = attempts + 1, claimed_pid = NULL,
                   write_date = %(now)s, write_uid = %(uid)s
             WHERE id = %(start_id)s AND state = 'pending' AND claimed_pid = pg_backend_pid()
         RETURNING id)"""

    @api.model
    def _start_attempt(self, item_id, now, success=None):
        """Mark item_id processing and record the previous send's ``success`` (a
        dict: done_id, wamid, done_at), in one statement; True if item_id was
        still ours to send. Either may be None."""
        params = dict(success or {}, uid=self.env.uid, start_id=item_id, now=now)
        parts = ([self._SUCCESS_SQL] if success else []) + ([self._START_SQL] if item_id else [])
        if not parts:
            return False
        tail = "SELECT id FROM started" if item_id else "SELECT count(*) FROM sent_message"
        self.env.cr.execute("WITH %s %s" % (",".join(parts), tail), params)
        return bool(self.env.cr.fetchone()) if item_id else False

    def _client_for(self, clients, account_id=None):
        account = self.env["wa.account"].browse(account_id) if account_id else self.account_id
        if account.id not in clients:
            clients[account.id] = account.sudo()._client()
        return clients[account.id]

    # --- Outcomes -----------------------------------------------------------

    def _attempt_failed(self, error):
        now = fields.Datetime.now()
        policy = RetryPolicy(max_attempts=max(1, self.max_attempts))
        decision = policy.next_attempt(max(1, self.attempts), error, aware(now))
        code = getattr(error, "code", None) or 0
        text = str(error)
        _logger.info("WhatsApp queue item %s: attempt %s failed: %s", self.id, self.attempts, text)
        if decision.pause_queue:
            # Nothing is wrong with the message: it goes once the token is fixed.
            self.write({"state": "pending", "processing_since": False,
                        "attempts": max(0, self.attempts - 1), "error_code": code,
                        "error_message": text, "failure_type": "token"})
            self.account_id.sudo()._queue_pause(text)
            self.message_id.write({"error_code": code, "error_message": _(
                "Waiting: the WhatsApp account's sending is paused (%s).", text)})
        elif decision.hold:
            self._hold(text, code)
        elif decision.retry:
            self.write({"state": "pending", "processing_since": False,
                        "scheduled_at": odoo_datetime(decision.at), "error_code": code,
                        "error_message": decision.reason})
            self._keep_customer_order()
        else:
            self._fail(failure_type(error), code, text)

    def _keep_customer_order(self):
        """The customer's later messages wait for this retried one.

        Each retry's delay is jittered: without this, during an outage the
        second message to a customer could get the earlier retry time and
        arrive first. Pushed to the same time, the queue's tie-break on id
        keeps the order in which they were written.
        """
        self.env.flush_all()
        self.env.cr.execute("""
            UPDATE wa_outbound_queue SET scheduled_at = %s
             WHERE account_id = %s AND phone = %s AND state = 'pending' AND id > %s
               AND scheduled_at < %s AND message_type NOT IN %s
         RETURNING id""", [self.scheduled_at, self.account_id.id, self.phone, self.id,
                           self.scheduled_at, RECEIPT_TYPES])
        self.browse([row[0] for row in self.env.cr.fetchall()]).invalidate_recordset(
            ["scheduled_at"])

    def _fail(self, kind, code, text):
        self.write({"state": "failed", "processing_since": False, "failure_type": kind,
                    "error_code": code, "error_message": text})
        self.message_id.filtered(lambda m: m.state == "pending").write({
            "state": "failed", "state_date": fields.Datetime.now(),
            "error_code": code, "error_message": text})

    def _hold(self, reason, code=0):
        self.write({"state": "held", "processing_since": False, "hold_reason": reason[:250],
                    "error_code": code, "error_message": reason,
                    "failure_type": "window_closed" if code else False})
        self.message_id.write({"error_message": reason, "error_code": code})
        conversation = self.conversation_id
        if conversation and conversation.status != "spam":
            conversation._offer_reopen_template()

    # --- Buttons --------------------------------------------------------------

    def action_retry(self):
        """Send failed items again (counting attempts afresh)."""
        items = self.filtered(lambda i: i.state == "failed")
        if not items:
            raise UserError(_("Only failed items can be retried."))
        items.write({"state": "pending", "scheduled_at": fields.Datetime.now(), "attempts": 0,
                     "failure_type": False, "processing_since": False})
        items.message_id.write({"state": "pending", "error_code": 0, "error_message": False})
        self._wake()
        return True

    def action_release(self):
        """Let held items go to Meta now (e.g. after the customer answered elsewhere)."""
        items = self.filtered(lambda i: i.state == "held")
        if not items:
            raise UserError(_("Only held items can be released."))
        items._release()
        return True

    def _release(self):
        """Held items back in line, in the order they were queued."""
        if not self:
            return
        # One scheduled time for all: the queue's tie-break on id sends them
        # in the order they were written.
        self.write({"state": "pending", "hold_reason": False, "failure_type": False,
                    "error_message": False, "scheduled_at": fields.Datetime.now()})
        self.message_id.filtered(lambda m: m.state == "pending").write(
            {"error_message": False, "error_code": 0})
        self._wake()

    @api.autovacuum
    def _gc_done(self):
        days = int(self.env["ir.config_parameter"].sudo().get_param(
            "campotech_whatsapp.queue_done_retention_days", 7))
        self.sudo().search([("state", "=", "done"),
                            ("write_date", "<", fields.Datetime.now() - timedelta(days=days))]
                           ).unlink()
