import json
import logging

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..cloud import constants as C, display, errors
from ..cloud.events import message_state, status_advances
from ..cloud.retry import RetryPolicy
from ..tools import cron_batch, failed_attempt, odoo_datetime

_logger = logging.getLogger(__name__)

# Labels are the engine's names capitalised; Odoo translates them through the
# .po entries of ir.model.fields.selection, which key on the value.
MESSAGE_TYPES = [(kind, kind.capitalize()) for kind in C.RECORD_TYPES]
# A voice note's "played" is stored as "read" (message_state), so it has no state of its own.
STATES = [(status, status.capitalize()) for status in C.STATUS_RANK if message_state(status) == status]
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
    media_error_message = fields.Char("Media Error", readonly=True)
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
    error_hint = fields.Char("What To Do", compute="_compute_error_hint")
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
            error = status.error
            values.update(
                error_code=(error.code or 0) if error else 0,
                error_message=error.text if error else "failed",
            )
        self.write(values)
        return True

    @api.model
    def _find_wamid(self, account, wamid):
        if not wamid:
            return self.browse()
        return self.search([("company_id", "=", account.company_id.id), ("wamid", "=", wamid)], limit=1)

    @api.model
    def _create_inbound(self, conversation, message):
        """The record of an inbound message in ``conversation`` (see
        wa.conversation._receive_inbound, the way in); its media is downloaded
        by the media cron."""
        account = conversation.account_id
        record = self.create(self._inbound_values(
            conversation, message, self._find_wamid(account, self._reply_wamid(message))))
        if record.media_state == "pending":
            self.env.ref("campotech_whatsapp.ir_cron_wa_media_download")._trigger()
        return record

    @api.model
    def _inbound_values(self, conversation, message, reply_to):
        """The values of an inbound message's record; ``reply_to``: the message it
        quotes or reacts to (see _reply_wamid)."""
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
            "reply_to_id": reply_to.id,
        }
        if message.media and message.media.id:
            values.update(
                media_state="pending",
                media_id=message.media.id,
                mime_type=message.media.mime_type or False,
                media_sha256=message.media.sha256 or False,
                media_filename=message.media.filename or False,
            )
        return values

    @staticmethod
    def _reply_wamid(message):
        """The wamid an inbound message quotes or reacts to, or None."""
        return message.reaction_to or (message.context.id if message.context else None)

    @api.model
    def _receive_statuses(self, items):
        """Apply delivery statuses, ``items`` being (account, status) pairs in the
        order Meta sent them; returns for each whether a message has its wamid.

        One query finds the messages of all of them (a webhook log batch).
        """
        found = self._find_wamids((account, status.id) for account, status in items)
        matched = []
        for account, status in items:
            message = found.get((account.company_id.id, status.id))
            if message:
                message._apply_status(status)
            matched.append(bool(message))
        return matched

    @api.model
    def _find_wamids(self, pairs):
        """{(company id, wamid): message} of the (account, wamid) pairs, in one query."""
        wamids, companies = set(), set()
        for account, wamid in pairs:
            if wamid:
                wamids.add(wamid)
                companies.add(account.company_id.id)
        if not wamids:
            return {}
        # (company_id, wamid) is unique: at most one message per pair.
        messages = self.search_fetch(
            [("company_id", "in", list(companies)), ("wamid", "in", list(wamids))],
            ["wamid", "company_id", "state", "res_model", "res_id"])
        return {(message.company_id.id, message.wamid): message for message in messages}

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
        cron_batch(self.env, lambda: self.search(self._media_due_domain(), limit=limit, order="id"),
                   lambda message: message._download_media(),
                   lambda: self.search_count(self._media_due_domain()))

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
                            "media_error_message": False, "mime_type": info.mime_type or self.mime_type})
        except Exception as error:  # pylint: disable=broad-except
            # Meta's errors are classified for a retry; anything else (no
            # token, no key) fails this message only, with its reason shown.
            self._media_failed(error)

    def _media_failed(self, error):
        decision, values = failed_attempt(
            self, lambda attempts, now: MEDIA_RETRY.next_attempt(attempts, error, now),
            str(error), prefix="media_")
        _logger.warning("WhatsApp media %s of message %s: attempt %s failed: %s",
                        self.media_id, self.id, values["media_attempts"], error)
        self.write(dict(values, media_state="pending" if decision.retry else "failed"))

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


    # --- live updates and the chat screen -------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        origin = self._wa_origin_from_context()
        if origin:
            # Sent from a job's or an invoice's chat: that record is its origin.
            for vals in vals_list:
                if vals.get("direction") == "outbound" and not vals.get("res_model"):
                    vals.update(res_model=origin._name, res_id=origin.id)
        records = super().create(vals_list)
        self.env["wa.bus"]._queue("message", records)
        records.filtered(lambda m: m.direction == "outbound" and m.res_model
                         and m.res_model != "res.partner")._wa_log_on_origin()
        return records

    @api.model
    def _wa_origin_from_context(self):
        model, res_id = self.env.context.get("wa_res_model"), self.env.context.get("wa_res_id")
        if not (model and res_id) or model not in self.env or model == self._name:
            return None
        record = self.env[model].browse(int(res_id)).exists()
        return record if record and record.has_access("read") else None

    def _wa_log_on_origin(self):
        """Log what was sent on the origin record's chatter."""
        for message in self.filtered(lambda m: m.res_model and m.res_id):
            record = self.env[message.res_model].browse(message.res_id)
            if not hasattr(record, "message_post"):
                continue
            text = message.body or dict(MESSAGE_TYPES).get(message.message_type, "")
            record.message_post(
                body=self.env._("WhatsApp sent to %(customer)s: %(text)s",
                                customer=message.conversation_id.display_name, text=text),
                subtype_xmlid="mail.mt_note")

    def write(self, vals):
        result = super().write(vals)
        if _CLIENT_FIELDS.intersection(vals):
            self.env["wa.bus"]._queue("status", self)
        return result

    @api.depends("state", "error_code")
    def _compute_error_hint(self):
        for message in self:
            message.error_hint = message._wa_error_hint()

    def _wa_error_hint(self):
        """What the agent can do about a failed message, in words."""
        self.ensure_one()
        if self.state != "failed":
            return False
        kind = errors.classify(self.error_code or None)
        if kind == errors.ErrorClass.WINDOW_CLOSED:
            return self.env._("The customer has not written in the last 24 hours: "
                              "send a template to reopen the conversation.")
        if kind in (errors.ErrorClass.RETRYABLE, errors.ErrorClass.THROTTLED):
            return self.env._("WhatsApp could not deliver it for now: try again in a few minutes.")
        if kind == errors.ErrorClass.ADMIN:
            return self.env._("The WhatsApp account needs an administrator (token or permissions).")
        return self.env._("WhatsApp refused this message; check the number or the content.")

    def _wa_client_format(self):
        """What the chat screen renders, one dict per message; no secret, no raw payload."""
        labels = dict(self._fields["message_type"]._description_selection(self.env))
        result = []
        for message in self:
            metadata = message.metadata if isinstance(message.metadata, dict) else {}
            attachment = message.attachment_id
            location = metadata.get("location") or None
            if location:
                location = dict(location, map_url=display.map_url(
                    location.get("latitude"), location.get("longitude")))
            reply = message.reply_to_id
            author = message.create_uid if message.direction == "outbound" else False
            result.append({
                "id": message.id,
                "conversation_id": message.conversation_id.id,
                "direction": message.direction,
                "type": message.message_type,
                "type_label": labels.get(message.message_type, ""),
                "body": message.body or "",
                "state": message.state,
                "state_date": fields.Datetime.to_string(message.state_date) or False,
                "message_at": fields.Datetime.to_string(message.message_at) or False,
                "error_code": message.error_code or False,
                "error_message": message.error_message or False if message.state in ("failed", "pending") else False,
                "error_hint": message._wa_error_hint(),
                "author": author.name if author and not author._is_public() and author.id != 1 else False,
                "attachment": {
                    "id": attachment.id,
                    "name": attachment.name,
                    "mimetype": attachment.mimetype or message.mime_type or "",
                } if attachment else False,
                "media_state": message.media_state,
                "media_error_message": message.media_error_message or False
                if message.media_state == "failed" else False,
                "mime_type": message.mime_type or False,
                "filename": message.media_filename or False,
                "location": location,
                "contacts": metadata.get("contacts") or False,
                "interactive": metadata.get("interactive") or metadata.get("button") or False,
                "removed": bool((metadata.get("reaction") or {}).get("removed")),
                "reply_to": {
                    "id": reply.id,
                    "direction": reply.direction,
                    "type": reply.message_type,
                    "body": (reply.body or labels.get(reply.message_type, ""))[:160],
                } if reply else False,
                "template_name": message.template_id.name or False,
                "res_model": message.res_model or False,
                "res_id": message.res_id or False,
            })
        return result


# Fields of a message the chat shows: a change in any is pushed to the screens.
_CLIENT_FIELDS = frozenset({
    "state", "error_code", "error_message", "attachment_id", "media_state", "body", "wamid"})
