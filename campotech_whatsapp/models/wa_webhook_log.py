import base64
import functools
import logging
import time

from odoo import _, api, fields, models
from odoo.tools import SQL
from odoo.tools.translate import get_translation

from ..cloud import constants as C, events, webhook
from ..cloud.errors import CloudError
from ..cloud.retry import RetryPolicy
from ..cloud.webhook import Outcome, Receipt
from ..tools import cron_batch, failed_attempt

_logger = logging.getLogger(__name__)

# Meta's own webhook bodies are a few kilobytes; refuse anything absurd
# before hashing or storing it.
MAX_BODY_BYTES = C.WEBHOOK_BODY_MAX_BYTES
PROCESS_CRON = "campotech_whatsapp.ir_cron_wa_webhook_process"
PROCESS_RETRY = RetryPolicy(base_delay=60, max_delay=3600, max_attempts=6)
# Meta's "sent" can overtake the commit that stores the wamid of what we
# sent: a payload whose statuses name no stored message gets a few more
# passes (everything else in it is applied once whatever the passes).
UNMATCHED_STATUS_RETRY = RetryPolicy(base_delay=60, max_delay=3600, max_attempts=3)
# Logs per transaction: their messages are stored with one query per kind
# (about 25 logs of 10 messages: a fraction of a second of locks), and logs
# per cron pass (Odoo runs the cron again at once while some are left).
PROCESS_BATCH = 25
PROCESS_LIMIT = 200
# Seconds after which a pass starts no further batch (Odoo calls the cron up
# to 10 times in a row while logs are left, within its worker's time limit).
PROCESS_BUDGET_S = 5
# A wake-up pending longer than this was not seen by any cron worker: ring again.
STALE_WAKE_UP_S = 10
_LAST_RING = {}  # database -> time.monotonic() of this process's last extra ring


class WaWebhookLog(models.Model):
    """Every signed webhook Meta sent, stored before it is processed.

    The controller only verifies and stores; a cron processes the log, so
    Meta's acknowledgement never waits for our work, and a processing error
    leaves the raw payload here to be processed again.
    """

    _name = "wa.webhook.log"
    _description = "WhatsApp Webhook Log"
    _order = "id desc"
    _rec_name = "event_type"

    account_id = fields.Many2one("wa.account", index=True, ondelete="set null")
    # Stored, not related: a log keeps its company (and its customers' data
    # stays private) even if the account is deleted.
    company_id = fields.Many2one("res.company", index=True, readonly=True)
    event_type = fields.Char(index=True, help="The kinds of events the payload carries.")
    payload = fields.Text(
        "Payload Text",
        help="The request body as text: exactly as sent when it is UTF-8 text, with "
             "undecodable bytes and control characters escaped otherwise.")
    # The bytes as received, whatever they are (PostgreSQL text cannot hold
    # NUL): what processing reads. Base64 in a bytea column, as Odoo keeps binaries.
    payload_raw = fields.Binary("Raw Payload", attachment=False, readonly=True,
                                help="The request body byte for byte, as Meta sent it.")
    payload_filename = fields.Char(compute="_compute_payload_filename")
    payload_pretty = fields.Text("Payload", compute="_compute_payload_pretty",
                                 help="The payload indented for reading; the raw body is kept as sent.")
    signature = fields.Char()
    processed = fields.Boolean(default=False, index=True)
    processed_at = fields.Datetime()
    error_message = fields.Text("Error")
    attempts = fields.Integer(default=0)
    next_attempt_at = fields.Datetime(index=True)
    state = fields.Selection(
        [("pending", "Pending"), ("done", "Processed"), ("error", "Error")],
        compute="_compute_state", store=True, index=True)

    @api.depends("payload_raw", "payload")
    def _compute_payload_pretty(self):
        for log in self:
            log.payload_pretty = webhook.body_pretty(log._raw_body())

    def _compute_payload_filename(self):
        for log in self:
            log.payload_filename = "webhook-%s.json" % (log.id or "new")

    def _raw_body(self):
        """The body exactly as received (logs stored before payload_raw: their text)."""
        self.ensure_one()
        raw = self.with_context(bin_size=False).payload_raw
        if raw:
            return base64.b64decode(raw)
        return (self.payload or "").encode("utf-8")

    @api.depends("processed", "error_message")
    def _compute_state(self):
        for log in self:
            log.state = "done" if log.processed else ("error" if log.error_message else "pending")

    # --- receiving (inside Meta's request: no outbound HTTP here) ------------

    @api.model
    def _receive(self, raw_body, signature_header):
        """Check a webhook POST and store it; returns a cloud.webhook.Receipt.

        A request whose signature no account's app secret verifies is refused
        and nothing of it is stored; one that verifies is stored byte for
        byte whatever it holds. Nothing here raises on what the body holds:
        routing reads only plausible ids (see events.routing_ids).
        """
        raw_body = bytes(raw_body or b"")
        if len(raw_body) > MAX_BODY_BYTES:
            _logger.warning("WhatsApp webhook refused (413): body of %s bytes", len(raw_body))
            return Receipt(Outcome.TOO_LARGE, "body of %s bytes" % len(raw_body), self.browse())
        ids = events.routing_ids(raw_body)
        # The per-worker cache of the accounts: no query before the signature is known.
        account = self.env["wa.account"]._webhook_route(
            raw_body, signature_header, ids.phone_number_ids, ids.waba_ids)
        if account is None:
            reason = "%s signature for phone_number_id %s" % (
                "missing" if not signature_header else "bad",
                ",".join(ids.phone_number_ids[:5]) or "-")
            _logger.warning("WhatsApp webhook refused (403): %s", reason)
            return Receipt(Outcome.REFUSED, reason, self.browse())
        values = {
            "payload": webhook.body_text(raw_body),
            "payload_raw": base64.b64encode(raw_body),
            "signature": signature_header,
            "event_type": ids.event_type,
            "account_id": account.id,
            "company_id": account.company_id,
        }
        if ids.problem:
            # Meta's, since its secret verifies, yet unreadable: kept for a
            # person, never retried (no pass can read it better).
            values["error_message"] = _("Not a WhatsApp webhook: %s", ids.problem)
        elif not ids.names(account.phone_number_id, account.waba_id):
            # Same Meta app, but a number no account here is set up for.
            values["error_message"] = _("Unknown phone_number_id %s: no WhatsApp account is set up for it.",
                                ", ".join(ids.phone_number_ids[:5]) or "-")
        # Given, so the stored compute costs no UPDATE at flush (_compute_state's rule).
        values["state"] = "error" if values.get("error_message") else "pending"
        # The company in the context spares the read of the user that
        # env.company (the defaults' cache key) would do.
        log = self.with_context(allowed_company_ids=[account.company_id]).create(
            values).with_env(self.env)
        if not values.get("error_message"):
            self._wake_processor()
        return Receipt(Outcome.STORED, values.get("error_message") or "", log)

    @api.model
    def _wake_processor(self):
        """Have the processing cron run soon; one pending wake-up serves a whole burst.

        ir.cron._trigger() inserts a trigger row and notifies the cron workers
        on every call. Here the row is inserted, in the same statement, only
        when no trigger the cron has yet to consume is pending, and only then
        are the workers notified. A trigger is pending if it is younger than
        the start of the cron's latest run (its newest ir.cron.progress): a
        run deletes the triggers older than its start when it ends, and it
        may have made its last search before this log is committed.
        """
        cron_id = self.env["ir.model.data"]._xmlid_to_res_id(PROCESS_CRON)
        now = fields.Datetime.now()
        self.env.cr.execute(SQL(
            """WITH pending AS (
                    SELECT min(call_at) AS oldest FROM ir_cron_trigger
                     WHERE cron_id = %(cron)s AND call_at <= %(now)s
                       AND call_at > COALESCE((SELECT max(create_date) FROM ir_cron_progress
                                                WHERE cron_id = %(cron)s), '-infinity')),
               inserted AS (
                    INSERT INTO ir_cron_trigger (cron_id, call_at, create_uid, create_date,
                                                 write_uid, write_date)
                    SELECT %(cron)s, %(now)s, %(uid)s, %(now)s, %(uid)s, %(now)s
                     WHERE (SELECT oldest FROM pending) IS NULL
                 RETURNING id)
            SELECT (SELECT count(*) FROM inserted), (SELECT oldest FROM pending)""",
            cron=cron_id, now=now, uid=self.env.uid))
        inserted, oldest = self.env.cr.fetchone()
        if inserted or self._wake_up_is_stale(oldest, now):
            self.env.cr.postcommit.add(self.env["ir.cron"].browse(cron_id)._notifydb)

    @api.model
    def _wake_up_is_stale(self, oldest, now):
        """A pending wake-up no cron took for a while (one written while no cron
        worker was running, say before a restart or from a shell) would leave
        new logs waiting for the workers' next poll, up to a minute: ring again,
        at most once per STALE_WAKE_UP_S per worker process."""
        if not oldest or (now - oldest).total_seconds() < STALE_WAKE_UP_S:
            return False
        key = self.env.cr.dbname
        if time.monotonic() - _LAST_RING.get(key, float("-inf")) < STALE_WAKE_UP_S:
            return False
        _LAST_RING[key] = time.monotonic()
        return True

    # --- processing (cron) ----------------------------------------------------

    @api.model
    def _cron_process(self, limit=PROCESS_LIMIT):
        """Process the due logs, PROCESS_BATCH of them per transaction.

        The cron runs in one worker at a time (Odoo locks its job row), so
        two passes never process one log twice, nor race to create the same
        new customer's partner or conversation.
        """
        cron_batch(self.env, lambda: self.search(self._due_domain(), order="id", limit=limit),
                   lambda logs: logs._process_safely(),
                   lambda: self.search_count(self._due_domain()), size=PROCESS_BATCH,
                   budget_s=PROCESS_BUDGET_S)

    @api.model
    def _due_domain(self):
        """Logs to process now: new ones, and failed ones whose retry time came.

        A log with an error and no retry time (attempts exhausted, or a number
        no account is set up for) waits for a person to process it again.
        """
        return [("processed", "=", False), ("account_id", "!=", False),
                "|", ("error_message", "=", False), ("next_attempt_at", "<=", fields.Datetime.now())]

    def _process_safely(self):
        """Process the logs together; if that fails, each on its own, so one
        bad log neither undoes nor holds back the others."""
        if not self:
            return
        try:
            with self.env.cr.savepoint():
                self._process()
        except Exception as error:  # pylint: disable=broad-except
            if len(self) > 1:
                for log in self:
                    log._process_safely()
                return
            # Whatever went wrong (bad payload, our own bug), the raw payload
            # stays here with the error, to be processed again.
            _logger.warning("WhatsApp webhook log %s failed: %s", self.id, error,
                            exc_info=not isinstance(error, CloudError))
            self._process_failed(error)

    def _process_failed(self, error):
        self._retry_later(PROCESS_RETRY, error, "%s: %s" % (type(error).__name__, error),
                          unreadable=isinstance(error, events.WebhookPayloadError))

    def _retry_later(self, policy, error, text, unreadable=False):
        """Count a failed pass and keep the log due again when the policy says so.

        Returns whether another pass is planned.
        """
        decision, values = failed_attempt(
            self, lambda attempts, now: policy.next_processing_attempt(
                attempts, error, now, unreadable=unreadable), text)
        self.write(values)
        return decision.retry

    def _process(self):
        """Apply the logs' events in order: all their messages in one batch
        (wa.conversation._receive_inbound_many), all their statuses with one
        lookup, then each log's outcome."""
        walked = []
        for log in self:
            try:
                batch = events.parse_webhook(log._raw_body(), translate=log._engine_translator())
            except events.WebhookPayloadError as error:
                if len(self) == 1:
                    raise
                # Unreadable: as _process_safely would do for it alone.
                _logger.warning("WhatsApp webhook log %s failed: %s", log.id, error)
                log._process_failed(error)
                continue
            walked.append((log,) + log._walk(batch))
        inbound = [item for _log, _notes, _unstorable, messages, _statuses in walked
                   for item in messages]
        self.env["wa.conversation"]._receive_inbound_many(inbound)
        statuses = [item for _log, _notes, _unstorable, _messages, items in walked for item in items]
        matched = iter(self.env["wa.message"]._receive_statuses(statuses))
        for log, notes, unstorable, _messages, items in walked:
            unmatched = False
            for position, (_account, status) in enumerate(items):
                if not next(matched):
                    unmatched = True
                    notes[notes.index(("status", position))] = _(
                        "Status %(status)s for unknown message %(wamid)s.",
                        status=status.status, wamid=status.id)
            notes = unstorable + [note for note in notes if isinstance(note, str)]
            log._conclude(notes, bool(unstorable), unmatched)

    def _walk(self, batch):
        """What one parsed log holds: (notes, unstorable, messages, statuses).

        Messages and statuses are (account, change, message) and (account,
        status) items; a status's note, written once its match is known,
        is ("status", its position) in ``notes``. Template updates are
        applied here.
        """
        self.ensure_one()
        notes, messages, statuses = [], [], []
        # Items Meta would never send as they are: each fails alone, and no
        # later pass can store them, so they stop retries of this log.
        unstorable = []
        for position, change in enumerate(batch.changes, 1):
            if change.problem:
                unstorable.append(_("Skipped change %(position)s: %(problem)s",
                                    position=position, problem=change.problem))
                continue
            account = self.account_id._for_change(change)
            if not account:
                notes.append(_("Skipped a change for unknown phone_number_id %s.", change.phone_number_id))
                continue
            for message in change.messages:
                if message.problem:
                    unstorable.append(_("Message %(wamid)s not stored: %(problem)s",
                                        wamid=message.id or "-", problem=message.problem))
                    continue
                # wa.bus announces the new message with its conversation at commit.
                messages.append((account, change, message))
            for status in change.statuses:
                if status.problem:
                    unstorable.append(_("Status not applied: %s", status.problem))
                    continue
                notes.append(("status", len(statuses)))
                statuses.append((account, status))
            if change.template_update and change.template_update.problem:
                unstorable.append(_("Template update not applied: %s",
                                    change.template_update.problem))
            elif change.template_update:
                self.env["wa.template"]._apply_status_update(account, change.template_update)
            notes.extend(_("Meta reported error %(code)s: %(title)s", code=error.code, title=error.title)
                         for error in change.errors)
            if change.field not in (C.FIELD_MESSAGES, C.FIELD_TEMPLATE_STATUS):
                notes.append(_("Ignored webhook field %s.", change.field))
        return notes, unstorable, messages, statuses

    def _conclude(self, notes, unstorable, unmatched):
        """Record the outcome of one pass over the log."""
        self.ensure_one()
        if unmatched and self._retry_later(
                UNMATCHED_STATUS_RETRY, "a status names no stored message", "\n".join(notes)):
            return
        if unstorable:
            # Everything else is applied; the log stays in error for a person
            # (when statuses were unmatched too, _retry_later counted this pass).
            # No later pass can store these items, like an unreadable body: the
            # pass is counted and none is planned.
            if not unmatched:
                self._retry_later(PROCESS_RETRY, "items Meta would never send", "\n".join(notes),
                                  unreadable=True)
            return
        self.write({
            "processed": True,
            "processed_at": fields.Datetime.now(),
            "error_message": "\n".join(notes) or False,
            "next_attempt_at": False,
        })

    def _engine_translator(self):
        """The engine's own texts (previews such as "Unsupported message") in the
        language of the log's company, from this addon's translations."""
        lang = self.company_id.partner_id.lang or self.env.lang or "en_US"
        return functools.partial(_translate_engine_text, lang)

    def action_reprocess(self):
        # As the cron does: the log's own account decides, not the clicking
        # user's current company.
        logs = self.sudo()
        logs.write({"processed": False, "attempts": 0, "next_attempt_at": False, "error_message": False})
        logs.filtered("account_id")._process_safely()

    @api.autovacuum
    def _gc_processed_logs(self):
        days = int(self.env["ir.config_parameter"].sudo().get_param(
            "campotech_whatsapp.webhook_log_retention_days", 30))
        if days <= 0:
            return
        limit = fields.Datetime.subtract(fields.Datetime.now(), days=days)
        self.search([("processed", "=", True), ("create_date", "<", limit)]).unlink()


def _translate_engine_text(lang, source):
    return get_translation("campotech_whatsapp", lang, source, ())
