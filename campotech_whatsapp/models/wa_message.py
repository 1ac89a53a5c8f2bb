import json
import logging

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..cloud.events import message_state, status_advances
from ..cloud.retry import RetryPolicy
from ..tools import aware, cron_commit, odoo_datetime

_logger = logging.getLogger(__name__)

MESSAGE_TYPES = [
    ("text", "Text"), ("image", "Image"), ("document", "Document"), ("audio", "Audio"),
    ("video", "Video"), ("sticker", "Sticker"), ("location", "Location"),
    ("contact", "Contact"), ("template", "Template"), ("interactive", "Interactive"),
    ("reaction", "Reaction"), ("unknown", "Unknown"),
]
STATES = [
    ("pending", "Pending"), ("sent", "Sent"), ("delivered", "Delivered"),
    ("read", "Read"), ("failed", "Failed"),
]
# Media ids in webhooks live about a week; past that a download cannot succeed.
MEDIA_RETRY = RetryPolicy(base_delay=60, max_delay=6 * 3600, max_attempts=10)


class WaMessage(models.Model):
    _name = "wa.message"
    _inherit = ["wa.company.guard"]
    _wa_company_parents = ("conversation_id",)
    _description = "WhatsApp Message"
    _order = "create_date desc, id desc"
    _rec_name = "body"

    conversation_id = fields.Many2one(
        "wa.conversation", required=True, index=True, ondelete="cascade", readonly=True)
    account_id = fields.Many2one(related="conversation_id.account_id", store=True, index=True)
    company_id = fields.Many2one(related="conversation_id.company_id", store=True, index=True)
    partner_id = fields.Many2one(related="conversation_id.partner_id")
    wamid = fields.Char("WhatsApp Message ID", index=True, copy=False, readonly=True)
    direction = fields.Selection(
        [("inbound", "Inbound"), ("outbound", "Outbound")], required=True, index=True, readonly=True)
    message_type = fields.Selection(MESSAGE_TYPES, required=True, default="text", readonly=True)
    body = fields.Text(readonly=True)
    attachment_id = fields.Many2one("ir.attachment", ondelete="set null", readonly=True)
    attachment_datas = fields.Binary("Media File", related="attachment_id.datas")
    media_id = fields.Char("Media ID", readonly=True,
                           help="Meta's media id; inbound ones expire after about a week.")
    mime_type = fields.Char(readonly=True)
    media_sha256 = fields.Char("Media SHA-256", readonly=True)
    media_filename = fields.Char(readonly=True)
    media_state = fields.Selection(
        [("none", "No Media"), ("pending", "To Download"), ("done", "Downloaded"),
         ("failed", "Failed")], default="none", required=True, index=True, readonly=True)
    media_attempts = fields.Integer(default=0, readonly=True)
    media_next_attempt_at = fields.Datetime(index=True, readonly=True)
    media_error = fields.Char(readonly=True)
    template_id = fields.Many2one("wa.template", ondelete="set null", readonly=True)
    template_params = fields.Json(readonly=True)
    state = fields.Selection(STATES, default="pending", required=True, index=True, readonly=True)
    state_date = fields.Datetime(readonly=True)
    error_code = fields.Integer(readonly=True)
    error_message = fields.Text(readonly=True)
    reply_to_id = fields.Many2one("wa.message", ondelete="set null", readonly=True)
    res_model = fields.Char("Related Model", index=True, readonly=True)
    res_id = fields.Many2oneReference(
        "Related Record", model_field="res_model", index=True, readonly=True)
    metadata = fields.Json(readonly=True)
    queue_item_ids = fields.One2many("wa.outbound.queue", "message_id", "Queue Items",
                                     readonly=True)
    metadata_text = fields.Text(string="Details", compute="_compute_metadata_text")
    message_at = fields.Datetime("Time", default=fields.Datetime.now, index=True, readonly=True,
                                 help="When the customer sent it, or when we sent it.")

    _sql_constraints = [
        ("wamid_company_uniq", "unique(company_id, wamid)",
         "A WhatsApp message id is stored once per company."),
    ]

    @api.depends("body", "message_type")
    def _compute_display_name(self):
        labels = dict(MESSAGE_TYPES)
        for message in self:
            message.display_name = (message.body or labels.get(message.message_type, ""))[:80]

    @api.depends("metadata", "template_params")
    def _compute_metadata_text(self):
        for message in self:
            parts = {"metadata": message.metadata, "template_params": message.template_params}
            message.metadata_text = json.dumps(
                {k: v for k, v in parts.items() if v}, indent=2, ensure_ascii=False, sort_keys=True)

    def _apply_status(self, status):
        """Apply a delivery status from Meta, never moving a message backwards.

        Returns whether the message changed.
        """
        self.ensure_one()
        state = message_state(status.status)
        if state == self.state or not status_advances(self.state, status.status):
            return False
        values = {"state": state, "state_date": odoo_datetime(status.timestamp)}
        if status.status == "failed":
            error = status.errors[0] if status.errors else None
            values.update(
                error_code=error.code if error and error.code else 0,
                error_message="\n".join(filter(None, (error.title, error.message, error.details)))
                if error else "failed",
            )
        self.write(values)
        return True

    @api.model
    def _find_wamid(self, account, wamid):
        if not wamid:
            return self.browse()
        return self.search([("company_id", "=", account.company_id.id), ("wamid", "=", wamid)], limit=1)

    @api.model
    def _receive_inbound(self, account, change, message):
        """Store an inbound message once; returns its conversation.

        A wamid Meta delivers again creates nothing and returns no conversation.
        """
        if message.id and self._find_wamid(account, message.id):
            return self.env["wa.conversation"]
        conversation = self.env["wa.conversation"]._for_inbound(account, change, message)
        values = {
            "conversation_id": conversation.id,
            "wamid": message.id or False,
            "direction": "inbound",
            "message_type": message.record_type,
            "body": message.body_text or False,
            "state": "delivered",
            "state_date": odoo_datetime(message.timestamp),
            "message_at": odoo_datetime(message.timestamp) or fields.Datetime.now(),
            "metadata": message.metadata or False,
            "reply_to_id": self._find_wamid(
                account, message.reaction_to or (message.context.id if message.context else None)).id,
        }
        if message.media and message.media.id:
            values.update(
                media_state="pending",
                media_id=message.media.id,
                mime_type=message.media.mime_type or False,
                media_sha256=message.media.sha256 or False,
                media_filename=message.media.filename or False,
            )
        record = self.create(values)
        conversation._register_inbound(record, message)
        self.env["wa.notification"]._on_inbound(record, message)  # consent words, job replies
        if record.media_state == "pending":
            self.env.ref("campotech_whatsapp.ir_cron_wa_media_download")._trigger()
        return conversation

    @api.model
    def _receive_status(self, account, status):
        """Apply a delivery status; returns False when no message has that wamid."""
        message = self._find_wamid(account, status.id)
        if not message:
            return False
        message._apply_status(status)
        return True

    @api.model
    def _media_due_domain(self):
        return [("media_state", "=", "pending"),
                "|", ("media_next_attempt_at", "=", False),
                ("media_next_attempt_at", "<=", fields.Datetime.now())]

    @api.model
    def _cron_download_media(self, limit=50):
        """Download inbound media into attachments, retrying with backoff.

        One message at a time, each committed: a slow or failing download
        never holds back or undoes the others.
        """
        messages = self.search(self._media_due_domain(), limit=limit, order="id")
        for message in messages:
            message._download_media()
            cron_commit(self.env)
        self.env["ir.cron"]._notify_progress(
            done=len(messages), remaining=self.search_count(self._media_due_domain()))

    def _download_media(self):
        self.ensure_one()
        try:
            with self.env.cr.savepoint():
                content, info = self.account_id._client().fetch_media(
                    self.media_id, expected_sha256=self.media_sha256 or None)
                attachment = self.env["ir.attachment"].sudo().create({
                    "name": self.media_filename or "%s-%s" % (self.message_type, self.media_id),
                    "raw": content,
                    "mimetype": info.mime_type or self.mime_type,
                    "res_model": self._name,
                    "res_id": self.id,
                })
                self.write({"attachment_id": attachment.id, "media_state": "done",
                            "media_error": False, "mime_type": info.mime_type or self.mime_type})
        except Exception as error:  # pylint: disable=broad-except
            # Meta's errors are classified for a retry; anything else (no
            # token, no key) fails this message only, with its reason shown.
            self._media_failed(error)

    def _media_failed(self, error):
        attempts = self.media_attempts + 1
        now = fields.Datetime.now()
        decision = MEDIA_RETRY.next_attempt(attempts, error, aware(now))
        _logger.warning("WhatsApp media %s of message %s: attempt %s failed: %s",
                        self.media_id, self.id, attempts, error)
        self.write({
            "media_attempts": attempts,
            "media_error": str(error),
            "media_state": "pending" if decision.retry else "failed",
            "media_next_attempt_at": odoo_datetime(decision.at) if decision.retry else False,
        })

    def action_retry_send(self):
        """Send a failed outbound message again, through its queue item."""
        items = self.env["wa.outbound.queue"].sudo().search(
            [("message_id", "in", self.filtered(
                lambda m: m.direction == "outbound" and m.state == "failed").ids),
             ("state", "=", "failed")])
        if not items:
            raise UserError(_("Only a failed outbound message can be sent again."))
        return items.action_retry()

    def action_retry_media(self):
        self.filtered(lambda m: m.media_id).write(
            {"media_state": "pending", "media_next_attempt_at": False, "media_attempts": 0})
        self.env.ref("campotech_whatsapp.ir_cron_wa_media_download")._trigger()

