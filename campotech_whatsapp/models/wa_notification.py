import datetime
import json
import logging

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY
from odoo.tools import plaintext2html

from ..cloud import consent, notifications as N, quiet_hours
from ..tools import aware

_logger = logging.getLogger(__name__)

EVENTS = [
    (N.JOB_SCHEDULED, "Job Scheduled"),
    (N.TECHNICIAN_ASSIGNED, "Technician Assigned"),
    (N.JOB_COMPLETED, "Job Completed"),
    (N.INVOICE_READY, "Invoice Ready"),
    (N.PAYMENT_RECEIVED, "Payment Received"),
    (N.RATING_REQUEST, "Rating Question"),
    (N.CUSTOM, "Custom Server Action"),
    ("reply_" + N.CONFIRM, "Customer Confirmed"),
    ("reply_" + N.RESCHEDULE, "Customer Asked to Reschedule"),
    ("reply_" + N.CANCEL, "Customer Asked to Cancel"),
    ("rating", "Customer Rated"),
]
STATES = [
    ("queued", "Queued"),
    ("done", "Done"),
    ("skipped", "Skipped"),
    ("failed", "Failed"),
]
FOLLOW_UPS = [("reschedule", "Better Day and Time"), ("feedback", "Rating Comment")]


class WaNotification(models.Model):
    """The ledger of automated WhatsApp notifications and of the customer
    replies that acted on a job.

    Its UNIQUE dedup key is what makes an event for a record go out once:
    the row is claimed with INSERT ... ON CONFLICT DO NOTHING before anything
    is sent, so a re-save, a re-post, a second cron run or a second worker
    finds the key taken and sends nothing.
    """

    _name = "wa.notification"
    _description = "WhatsApp Notification"
    _order = "create_date desc, id desc"
    _rec_name = "record_name"

    event = fields.Selection(EVENTS, "Notification Event", required=True, index=True, readonly=True)
    res_model = fields.Char("Related Model", required=True, index=True, readonly=True)
    res_id = fields.Many2oneReference("Related Record", model_field="res_model", required=True,
                                      index=True, readonly=True)
    record_name = fields.Char("Notified Record", readonly=True)
    partner_id = fields.Many2one("res.partner", "Notified Customer", index=True, ondelete="set null",
                                 readonly=True)
    company_id = fields.Many2one("res.company", index=True, readonly=True)
    template_id = fields.Many2one("wa.template", ondelete="set null", readonly=True)
    action_id = fields.Many2one("ir.actions.server", "Server Action", ondelete="set null",
                                readonly=True)
    message_id = fields.Many2one("wa.message", "WhatsApp Message", index=True, ondelete="set null",
                                 readonly=True)
    message_state = fields.Selection(related="message_id.state", string="Delivery Status")
    message_error_message = fields.Text(related="message_id.error_message", string="Meta's Error")
    inbound_message_id = fields.Many2one("wa.message", "Customer's Message", ondelete="set null",
                                         readonly=True)
    state = fields.Selection(STATES, default="queued", required=True, index=True, readonly=True)
    reason = fields.Text("Why Not Sent", readonly=True, help="Why nothing was sent.")
    dedup_key = fields.Char(required=True, readonly=True, copy=False)
    scheduled_at = fields.Datetime(
        "Goes Out At", readonly=True, help="Held for the company's quiet hours until then.")
    follow_up = fields.Selection(FOLLOW_UPS, readonly=True,
                                 help="What the customer's next message is taken as.")
    follow_up_until = fields.Datetime(readonly=True)
    conversation_id = fields.Many2one("wa.conversation", ondelete="set null", readonly=True)
    activity_id = fields.Many2one("mail.activity", "Follow-up Activity", ondelete="set null",
                                  readonly=True)
    rating_id = fields.Many2one("rating.rating", "Customer Rating", ondelete="set null",
                                readonly=True)

    _sql_constraints = [
        ("dedup_key_uniq", "unique(dedup_key)", "This event was already notified."),
    ]

    # --- sending -----------------------------------------------------------------

    @api.model
    def _notify(self, record, event, partner=None, values=None, marker=None, template=False,
                action=False):
        """Queue the event's template for record's customer, at most once.

        Never raises: whatever stops the message (no phone, opted out, no
        approved template, a send error) is written in the ledger and on the
        record's chatter, and the caller's save goes on. Returns the ledger
        row (empty when the company switched the event off).
        """
        record.ensure_one()
        company = self._company_of(record)
        if event in N.EVENTS and not company["wa_notify_%s" % event]:
            return self.browse()
        # Run from a "Send WhatsApp template" action: its settings come first.
        action = action or self.env["ir.actions.server"].sudo().browse(
            self.env.context.get("wa_action_id") or ())
        action_error = False
        if action:
            template = template or action.wa_template_id
            if partner is None and action.wa_recipient_field:
                partner = self._partner_of(record, action.wa_recipient_field)
            try:
                values = dict(action._wa_values(record), **(values or {}))
            except (UserError, ValueError) as error:
                action_error = str(error)
        partner = self._partner_of(record) if partner is None else partner
        key = N.dedup_key(event, record._name, record.id, partner.id, marker)
        entry = self._claim(key, event, record, partner, company)
        if not entry:
            return self.browse()
        entry = entry.sudo()
        if action:
            entry.action_id = action.id
        if action_error:
            return entry._skip(record, action_error)
        template = template or self._template_for(event, company)
        entry._send_template(record, partner, template, values or {})
        return entry

    def _send_template(self, record, partner, template, values):
        self.template_id = template
        if not template:
            return self._skip(record, self.env._(
                "No WhatsApp template is set for “%(event)s” (Settings > WhatsApp).",
                event=self._event_label()))
        if template.status != "approved":
            return self._skip(record, self.env._(
                "The WhatsApp template %(name)s is not approved by Meta (status: %(status)s).",
                name=template.name, status=template.status))
        self._send(record, partner, lambda conversation: conversation.send_template(
            template.id, res_model=record._name, res_id=record.id, values=values or False),
            account=template.account_id)
        return self

    def _send(self, record, partner, send, account=False):
        """Run send(conversation) for partner's conversation, held for quiet hours."""
        if not partner:
            return self._skip(record, self.env._("The record has no customer to write to."))
        if partner.wa_opt_out:
            return self._skip(record, self.env._(
                "%(partner)s opted out of automated WhatsApp messages.", partner=partner.display_name))
        not_before = self._release_at(partner, self.company_id)
        try:
            with self.env.cr.savepoint():
                conversation = self.env["wa.conversation"].sudo()._for_recipient(
                    partner=partner, account=account or self.company_id.wa_account_id)
                message_id = send(conversation.with_context(
                    wa_automated=True, wa_not_before=not_before or False))
        except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
            raise  # a concurrency error: let Odoo retry the whole transaction
        except UserError as error:
            return self._skip(record, str(error.args[0] if error.args else error))
        except Exception as error:  # pylint: disable=broad-except
            # Whatever breaks here must not break the user's save.
            _logger.warning("WhatsApp notification %s for %s could not be queued: %s",
                            self.event, record, error)
            return self._skip(record, str(error) or error.__class__.__name__, state="failed")
        message = self.env["wa.message"].sudo().browse(
            message_id.id if isinstance(message_id, models.BaseModel) else message_id)
        self.write({"state": "queued", "message_id": message.id, "reason": False,
                    "conversation_id": message.conversation_id.id,
                    "scheduled_at": not_before or False})
        return self

    def _skip(self, record, reason, state="skipped"):
        """Note why nothing was sent, once per reason, in the ledger and on the record."""
        repeated = self.reason == reason and self.state == state
        self.write({"state": state, "reason": reason})
        if not repeated and hasattr(record, "message_post"):
            record.sudo().message_post(
                body=plaintext2html("%s\n%s" % (self.env._(
                    "WhatsApp notification “%(event)s” not sent:", event=self._event_label()), reason)),
                subtype_xmlid="mail.mt_note")
        return self

    @api.model
    def _claim(self, key, event, record, partner, company, state="queued"):
        """The ledger row for key, inserted now; empty if it was already taken.

        A row that was skipped (no phone yet, template not approved yet) is
        handed back so the event can be tried again; one that was sent or
        acted on never is.
        """
        self.flush_model()
        self.env.cr.execute("""
            INSERT INTO wa_notification (dedup_key, event, res_model, res_id, record_name,
                                         partner_id, company_id, state,
                                         create_uid, write_uid, create_date, write_date)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s,
                    now() at time zone 'UTC', now() at time zone 'UTC')
            ON CONFLICT (dedup_key) DO NOTHING
            RETURNING id
        """, (key, event, record._name, record.id, (record.display_name or "")[:200],
              partner.id or None, company.id or None, state, self.env.uid, self.env.uid))
        row = self.env.cr.fetchone()
        if row:
            return self.browse(row[0])
        self.env.cr.execute(
            "SELECT id FROM wa_notification WHERE dedup_key = %s AND state = 'skipped' FOR UPDATE",
            (key,))
        row = self.env.cr.fetchone()
        return self.browse(row[0]) if row else self.browse()

    @api.model
    def _company_of(self, record):
        company = record.company_id if "company_id" in record._fields else False
        return company or self.env.company

    @api.model
    def _partner_of(self, record, path=False):
        partner = record.mapped(path) if path else (
            record.partner_id if "partner_id" in record._fields else False)
        if not partner and record._name == "res.partner" and not path:
            partner = record
        if not isinstance(partner, models.BaseModel) or partner._name != "res.partner":
            return self.env["res.partner"]
        return partner[:1]

    @api.model
    def _template_for(self, event, company):
        if event in N.EVENTS and company["wa_template_%s_id" % event]:
            return company["wa_template_%s_id" % event]
        name = N.DEFAULT_TEMPLATES.get(event)
        account = company.wa_account_id
        if not (name and account):
            return self.env["wa.template"]
        found = self.env["wa.template"].sudo().search(
            [("account_id", "=", account.id), ("name", "=", name)])
        # The approved one first, then Argentine Spanish.
        return found.sorted(lambda t: (t.status != "approved", t.language != "es_AR"))[:1]

    @api.model
    def _release_at(self, partner, company):
        """When an automated message queued now may go out (False: at once)."""
        if not company.wa_quiet_hours:
            return False
        try:
            released = quiet_hours.release_at(
                aware(fields.Datetime.now()), company.wa_quiet_start, company.wa_quiet_end,
                quiet_hours.resolve_tz(partner.tz, company.wa_quiet_tz))
        except ValueError:
            _logger.warning("Company %s has invalid WhatsApp quiet hours", company.id)
            return False
        return released.astimezone(datetime.timezone.utc).replace(tzinfo=None) if released else False

    @api.model
    def _on_message_failed(self, messages):
        """Meta refused a queued notification: note it on its record and in the ledger."""
        for entry in self.sudo().search([("message_id", "in", messages.ids), ("state", "=", "queued")]):
            message = entry.message_id
            reason = " ".join(filter(None, (
                "(%s)" % message.error_code if message.error_code else "",
                message.error_message or self.env._("Meta did not deliver the message.")))).strip()
            record = self.env[entry.res_model].browse(entry.res_id).exists()
            entry.write({"state": "failed", "reason": reason})
            if record and hasattr(record, "message_post"):
                record.sudo().message_post(
                    body=plaintext2html("%s\n%s" % (self.env._(
                        "WhatsApp notification “%(event)s” failed at Meta:",
                        event=entry._event_label()), reason)),
                    subtype_xmlid="mail.mt_note")

    def _event_label(self):
        return dict(self._fields["event"]._description_selection(self.env))[self.event]

    # --- server actions ------------------------------------------------------------

    @api.model
    def _run_server_action(self, action, records):
        """The "Send WhatsApp template" server action on records."""
        event = action.wa_event or N.CUSTOM
        for record in records:
            if event == N.TECHNICIAN_ASSIGNED and "user_ids" in record._fields:
                added = self._added_users(record)
                if added:
                    record.with_context(wa_action_id=action.id).on_technician_assigned(added)
                continue
            if event in N.EVENTS and hasattr(record, "_wa_notify_event"):
                record.with_context(wa_action_id=action.id)._wa_notify_event(event)
                continue
            try:
                values = action._wa_values(record)
            except (UserError, ValueError):
                values = {}  # _notify notes the error on the record
            marker = "%s:%s:%s" % (action.id, action.wa_template_id.id,
                                   json.dumps(values, sort_keys=True, default=str))
            self.with_context(wa_action_id=action.id)._notify(record, event, marker=marker)

    @api.model
    def _added_users(self, record):
        """Users added to record.user_ids by the write being processed (all on create)."""
        old_values = self.env.context.get("old_values")
        if not old_values:
            return record.user_ids
        old = old_values.get(record.id, {}).get("user_ids")
        return record.user_ids - old if old is not None else self.env["res.users"]

    # --- the customer's replies ----------------------------------------------------

    @api.model
    def _on_inbound(self, record, message):
        """Act on an inbound message: consent words, button taps on a job's
        template, a rating, or the follow-up a question asked for.

        Called once per stored inbound message; never breaks its processing.
        """
        try:
            with self.env.cr.savepoint():
                self.sudo()._handle_inbound(record)
        except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
            raise
        except Exception:  # pylint: disable=broad-except
            _logger.exception("WhatsApp reply %s could not be acted on", record.id)

    @api.model
    def _inbound_may_act(self, conversation, values, reply_to, waiting):
        """Whether _handle_inbound could act on a message about to be stored
        with ``values`` (so a batch runs it only for those, see
        wa.conversation._receive_inbound_many): yes whenever _handle_inbound
        would do anything. ``waiting``: ids of the conversations with a
        follow-up pending (_follow_up's search, made once for a batch)."""
        partner = conversation.partner_id
        if not partner or conversation.status == "spam":
            return False
        kind, body = values["message_type"], values.get("body") or ""
        if kind == "text" and self._consent_command(conversation.company_id, body):
            return True
        if self._reply_words_of(kind, values.get("metadata")) and reply_to \
                and reply_to.res_model == "project.task" and reply_to.res_id:
            return True
        return kind in ("text", "interactive") and bool(body.strip()) and conversation.id in waiting

    @api.model
    def _follow_up_waiting(self, conversations):
        """Ids of ``conversations`` whose customer's next words answer a question (_follow_up)."""
        if not conversations:
            return set()
        return set(self.sudo().search([
            ("conversation_id", "in", conversations.ids), ("follow_up", "!=", False),
            ("follow_up_until", ">", fields.Datetime.now())]).conversation_id.ids)

    @api.model
    def _consent_command(self, company, body):
        return consent.command(
            body,
            consent.parse_words(company.wa_stop_words, consent.DEFAULT_STOP_WORDS),
            consent.parse_words(company.wa_start_words, consent.DEFAULT_START_WORDS))

    def _handle_inbound(self, record):
        conversation = record.conversation_id
        partner = conversation.partner_id
        if not partner or conversation.status == "spam":
            return
        if record.message_type == "text" and self._apply_consent(record, partner):
            return
        said = self._reply_words(record)
        replied = record.reply_to_id
        if said and replied.res_model == "project.task" and replied.res_id:
            task = self.env["project.task"].browse(replied.res_id).exists()
            if task and self._act_on_reply(record, replied, task, said):
                return
        if record.message_type in ("text", "interactive"):
            self._follow_up(record)

    def _apply_consent(self, record, partner):
        action = self._consent_command(record.company_id, record.body)
        if not action:
            return False
        opt_out = action == consent.OPT_OUT
        if partner._wa_set_consent(opt_out, "whatsapp", message=record, body=record.body):
            # Confirmed once; the customer just wrote, so the window is open.
            # The confirmation of a STOP is the one message an opted-out customer gets.
            self._answer(record, consent.TEXT_OPTED_OUT if opt_out else consent.TEXT_OPTED_IN)
        return True

    @classmethod
    def _reply_words(cls, record):
        return cls._reply_words_of(record.message_type, record.metadata)

    @staticmethod
    def _reply_words_of(message_type, metadata):
        meta = metadata if isinstance(metadata, dict) else {}
        button = meta.get("button") or {}
        interactive = meta.get("interactive") or {}
        if message_type == "interactive" and button:
            return (button.get("payload"), button.get("text"))
        if interactive.get("type") in ("button_reply", "list_reply"):
            return (interactive.get("id"), interactive.get("title"))
        if button:
            return (button.get("payload"), button.get("text"))
        return ()

    def _act_on_reply(self, record, replied, task, said):
        question = self.search([("message_id", "=", replied.id)], limit=1)
        if question.event == N.RATING_REQUEST:
            score = N.parse_rating(*said)
            if score:
                self._apply_rating(record, task, question, score)
                return True
        action = N.reply_action(*said)
        if not action:
            return False
        entry = self._claim(N.dedup_key("reply_" + action, task._name, task.id,
                                        record.conversation_id.partner_id.id, "m%s" % replied.id),
                            "reply_" + action, task, record.conversation_id.partner_id,
                            self._company_of(task), state="done")
        if entry:
            entry.write({"inbound_message_id": record.id, "conversation_id": record.conversation_id.id})
            getattr(entry, "_reply_%s" % action)(record, task)
        return True

    @api.model
    def _answer(self, record, text):
        """Answer the customer inside the window their message just opened.

        A failed answer is logged and never undoes what the reply did. It
        answers what the customer just did, so it is not an automated
        message: it reaches an opted-out customer too.
        """
        try:
            with self.env.cr.savepoint():
                record.conversation_id.with_context(wa_opt_out_confirmed=True).send_text(text)
        except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
            raise
        except Exception as error:  # pylint: disable=broad-except
            _logger.warning("WhatsApp answer to message %s not queued: %s", record.id, error)

    def _reply_confirm(self, record, task):
        company = self._company_of(task)
        values = {}
        if company.wa_confirm_tag_id:
            values["tag_ids"] = [(4, company.wa_confirm_tag_id.id)]
        stage = company.wa_confirm_stage_id
        if stage and (not task.project_id or task.project_id in stage.project_ids):
            values["stage_id"] = stage.id
        if values:
            task.write(values)
        task.message_post(body=self.env._("The customer confirmed the visit on WhatsApp."),
                          subtype_xmlid="mail.mt_note")
        self._answer(record, N.TEXT_CONFIRMED)

    def _reply_reschedule(self, record, task):
        activity = task.activity_schedule(
            "mail.mail_activity_data_todo",
            summary=self.env._("Reschedule the visit"),
            note=self.env._("The customer asked on WhatsApp to reschedule (“%(words)s”). "
                            "Their proposed day and time will be added here.", words=record.body),
            user_id=self._responsible(task).id)
        task.message_post(body=self.env._("The customer asked on WhatsApp to reschedule the visit."),
                          subtype_xmlid="mail.mt_note")
        self.write({"activity_id": activity.id, "follow_up": "reschedule",
                    "follow_up_until": self._follow_up_deadline()})
        self._answer(record, N.TEXT_ASK_NEW_TIME)

    def _reply_cancel(self, record, task):
        dispatcher = task.project_id.user_id or self._responsible(task)
        activity = task.activity_schedule(
            "mail.mail_activity_data_todo",
            summary=self.env._("The customer asks to cancel the visit"),
            note=self.env._("The customer tapped “%(words)s” on WhatsApp. Nothing was cancelled: "
                            "call them and cancel the job if they confirm.", words=record.body),
            user_id=dispatcher.id)
        task.message_post(body=self.env._("The customer asked on WhatsApp to cancel the visit."),
                          subtype_xmlid="mail.mt_note")
        self.activity_id = activity
        self._answer(record, N.TEXT_CANCEL_RECEIVED)

    @api.model
    def _responsible(self, task):
        return task.user_ids[:1] or task.project_id.user_id or task.create_uid or self.env.user

    @api.model
    def _follow_up_deadline(self):
        return fields.Datetime.now() + datetime.timedelta(hours=N.FOLLOW_UP_HOURS)

    def _apply_rating(self, record, task, question, score):
        partner = record.conversation_id.partner_id
        entry = self._claim(N.dedup_key("rating", task._name, task.id, partner.id,
                                        "m%s" % question.message_id.id),
                            "rating", task, partner, self._company_of(task), state="done")
        if not entry:
            return
        rating = task.rating_apply(score, token=task._rating_get_access_token(partner))
        entry.write({"inbound_message_id": record.id, "rating_id": rating.id,
                     "conversation_id": record.conversation_id.id,
                     "follow_up": "feedback", "follow_up_until": self._follow_up_deadline()})
        self._answer(record, N.TEXT_RATING_THANKS)

    def _follow_up(self, record):
        """The customer's words after "Reprogramar" or after a rating."""
        waiting = self.search([
            ("conversation_id", "=", record.conversation_id.id), ("follow_up", "!=", False),
            ("follow_up_until", ">", fields.Datetime.now())], order="id desc", limit=1)
        text = (record.body or "").strip()
        if not waiting or not text:
            return
        task = self.env[waiting.res_model].browse(waiting.res_id).exists()
        if waiting.follow_up == "feedback" and waiting.rating_id:
            rating = waiting.rating_id
            if task:
                task.rating_apply(rating.rating, rating=rating, feedback=text)
            else:
                rating.feedback = text
            self._answer(record, N.TEXT_FEEDBACK_THANKS)
        elif waiting.follow_up == "reschedule":
            if waiting.activity_id:
                waiting.activity_id.note = (waiting.activity_id.note or "") + plaintext2html(
                    self.env._("Customer's proposal: %(words)s", words=text))
            if task:
                task.message_post(
                    body=self.env._("The customer proposes on WhatsApp: %(words)s", words=text),
                    subtype_xmlid="mail.mt_note")
            self._answer(record, N.TEXT_NEW_TIME_RECEIVED)
        waiting.write({"follow_up": False, "follow_up_until": False})

    # --- rating question -------------------------------------------------------------

    @api.model
    def _ask_rating(self, task):
        """After a completed job: the 1-5 question, tied to the job."""
        company = self._company_of(task)
        if not company.wa_rating_request:
            return self.browse()
        partner = self._partner_of(task)
        entry = self._claim(N.dedup_key(N.RATING_REQUEST, task._name, task.id, partner.id, "1_done"),
                            N.RATING_REQUEST, task, partner, company)
        if not entry:
            return self.browse()
        entry = entry.sudo()
        entry._send(task, partner, lambda conversation: conversation.send_interactive(
            N.TEXT_RATING_QUESTION, False, sections=[{"rows": [dict(r) for r in N.RATING_ROWS]}],
            button_label=N.TEXT_RATING_BUTTON))
        if entry.message_id:
            entry.message_id.write({"res_model": task._name, "res_id": task.id})
        return entry

    # --- views -------------------------------------------------------------------------

    def action_open_record(self):
        self.ensure_one()
        return {"type": "ir.actions.act_window", "res_model": self.res_model,
                "res_id": self.res_id, "view_mode": "form"}

    @api.model
    def _setup_job_date_rule(self):
        """Watch Enterprise's planning start instead of the deadline when it exists."""
        rule = self.env.ref("campotech_whatsapp.wa_rule_job_scheduled", raise_if_not_found=False)
        if not rule or "planned_date_begin" not in self.env["project.task"]._fields:
            return
        rule.write({
            "filter_domain": repr([("partner_id", "!=", False), ("planned_date_begin", "!=", False)]),
            "trigger_field_ids": [(6, 0, [
                self.env["ir.model.fields"]._get("project.task", "planned_date_begin").id,
                self.env["ir.model.fields"]._get("project.task", "partner_id").id])],
        })
