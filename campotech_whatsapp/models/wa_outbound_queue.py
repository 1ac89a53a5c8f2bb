import logging
import threading
import time
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..cloud import builders, constants as C, window
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
# Longest sleep for a throughput slot; more means many workers are
# competing for one account's rate, and the item is better rescheduled.
MAX_SLOT_WAIT = 2.0


def _testing():
    return getattr(threading.current_thread(), "testing", False)


class WaOutboundQueue(models.Model):
    """Messages waiting to be sent to Meta.

    An item is written in the same transaction as the wa.message it sends,
    so a crash between the two loses nothing; a failed send stays here with
    Meta's error until it is retried or given up.

    Lifecycle (as Community's sms.sms): ``_process_queue`` (the cron) →
    ``_split_batch`` (claims due items one by one, ``FOR UPDATE SKIP
    LOCKED``, paces them and commits each as ``processing``) → ``_send``
    (one HTTP call, then the outcome is committed). A worker killed during
    the HTTP call leaves exactly one item ``processing``; once its lease
    (``QUEUE_LEASE_SECONDS``) has passed it is tried again.
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
        """Send what is due, each item committed on its own; returns the count sent.

        Outside tests the run's transactions are READ COMMITTED: the claim's
        SKIP LOCKED and the pacing row see the other workers' latest commits
        instead of failing with a serialization error on them (Odoo's
        default, REPEATABLE READ, is restored at the end).
        """
        self._recover_stale()
        read_committed = not _testing()
        if read_committed:
            self.env.cr.connection.set_session(isolation_level="READ COMMITTED")
        try:
            started, count = time.monotonic(), 0
            clients = {}
            for item in self._split_batch():
                item._send(clients)
                cron_commit(self.env)
                count += 1
                if time.monotonic() - started > time_budget or (max_items and count >= max_items):
                    break
            self._reschedule_cron(count)
        finally:
            if read_committed:
                cron_commit(self.env)
                self.env.cr.connection.set_session(isolation_level="REPEATABLE READ")
        return count

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
             WHERE q.state = 'pending' AND q.scheduled_at <= %s
               AND a.active AND NOT COALESCE(a.queue_paused, FALSE)
          ORDER BY q.priority DESC, q.scheduled_at, q.id
             LIMIT 1
               FOR UPDATE OF q SKIP LOCKED
        """, [fields.Datetime.now()])
        row = self.env.cr.fetchone()
        return self.browse(row[0]) if row else None

    @api.model
    def _split_batch(self):
        """Yield due items one at a time, each claimed, paced and committed
        as ``processing`` before the HTTP call."""
        while True:
            item = self._claim_next()
            if item is None:
                return
            item.invalidate_recordset()
            wait = item._prepare_attempt()
            cron_commit(self.env)  # releases the item's and the pacing rows' locks
            if wait is None:
                continue
            if wait > 0:
                time.sleep(wait)
            yield item

    def _prepare_attempt(self):
        """Check the window and pacing, then mark the item processing.

        Returns the seconds to wait for the throughput slot, or None when the
        item is not to be sent now (held, or rescheduled for its customer).
        """
        self.ensure_one()
        now = fields.Datetime.now()
        if self.message_type not in RECEIPT_TYPES and self.conversation_id and \
                not window.can_send_freeform(self.conversation_id.last_inbound_at or None, now,
                                             self.message_type):
            self._hold(self.env["wa.conversation"]._window_hold_reason())
            return None
        pacing = self.env["wa.pacing"]
        if self.message_type not in RECEIPT_TYPES:
            pair = pacing._pair()
            key = PairPacer.pair_key(self.account_id.phone_number_id, self.phone)
            if not pair.try_acquire(key):
                # Other customers' messages keep flowing meanwhile.
                self.write({"scheduled_at": now + timedelta(seconds=max(1.0, pair.delay(key)))})
                return None
        wait = pacing._throughput(self.account_id).reserve(self.account_id.phone_number_id)
        if wait > MAX_SLOT_WAIT:
            self.write({"scheduled_at": now + timedelta(seconds=wait)})
            return None
        self.write({"state": "processing", "processing_since": now, "last_attempt_at": now,
                    "attempts": self.attempts + 1})
        return wait

    def _client_for(self, clients):
        account = self.account_id
        if account.id not in clients:
            clients[account.id] = account.sudo()._client()
        return clients[account.id]

    def _send(self, clients=None):
        """One attempt at Meta for this (processing) item; records the outcome."""
        self.ensure_one()
        clients = {} if clients is None else clients
        try:
            with self.env.cr.savepoint():
                client = self._client_for(clients)
                if self.message_type == "mark_read":
                    client.mark_read(self.content["message_id"],
                                     typing=bool(self.content.get("typing_indicator")))
                    result = None
                else:
                    payload = builders.resolve_media(
                        self.content, lambda attachment_id: self.env["wa.media.upload"]
                        ._media_id_for(self.account_id, attachment_id, client))
                    result = client.send(payload)
        except Exception as error:  # pylint: disable=broad-except
            # Meta's errors are classified; anything else (no token, a file
            # gone, a bug) fails this item only, with its reason shown.
            if not isinstance(error, (CloudApiError, UserError, ValueError)):
                _logger.exception("WhatsApp queue item %s: unexpected error", self.id)
            self._attempt_failed(error)
        else:
            self._attempt_succeeded(result)

    # --- Outcomes -----------------------------------------------------------

    def _attempt_succeeded(self, result):
        now = fields.Datetime.now()
        self.write({"state": "done", "processing_since": False, "hold_reason": False,
                    "failure_type": False, "error_code": 0, "error_message": False,
                    "wamid": result.wamid if result else False})
        message = self.message_id
        if message and result:
            values = {"wamid": result.wamid, "error_code": 0, "error_message": False}
            if message.state == "pending":
                values.update(state="sent", state_date=now)
            message.write(values)
        if result and result.wa_id and self.conversation_id:
            self.conversation_id._store_canonical_wa_id(result.wa_id)

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
