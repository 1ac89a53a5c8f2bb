import logging
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..cloud import builders, display, phone, window
from ..cloud.errors import PayloadError
from ..tools import identity_domain

_logger = logging.getLogger(__name__)
# _for_recipient takes a ``phone`` argument (its name is part of the contract).
phone_module = phone

class WaConversation(models.Model):
    _name = "wa.conversation"
    _inherit = ["wa.company.guard"]
    _wa_company_parents = ("account_id",)
    _description = "WhatsApp Conversation"
    _order = "last_message_at desc, id desc"
    _rec_names_search = ["customer_name", "customer_phone", "wa_id", "partner_id"]
    _check_company_auto = True

    account_id = fields.Many2one("wa.account", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="account_id.company_id", store=True, index=True)
    partner_id = fields.Many2one("res.partner", index=True, ondelete="set null", check_company=True)
    customer_phone = fields.Char(help="The customer's number in E.164 form.")
    customer_name = fields.Char()
    wa_id = fields.Char("WhatsApp ID", index=True, readonly=True,
                        help="The customer's id exactly as Meta sends it.")
    wa_user_id = fields.Char(
        "WhatsApp User ID", index=True, readonly=True,
        help="Meta's business-scoped user id; the only id of customers who use a username.")
    customer_key = fields.Char(
        compute="_compute_customer_key", store=True, index=True,
        help="One key for every form of the customer's number (Argentina 549/54, Mexico 521/52).")
    status = fields.Selection(
        [("open", "Open"), ("closed", "Closed"), ("archived", "Archived"), ("spam", "Spam")],
        default="open", required=True, index=True, readonly=True)
    user_id = fields.Many2one("res.users", "Assigned Agent", index=True)
    message_ids = fields.One2many("wa.message", "conversation_id")
    last_message_at = fields.Datetime(index=True, readonly=True)
    last_inbound_at = fields.Datetime(readonly=True)
    last_message_preview = fields.Char(readonly=True)
    unread_count = fields.Integer(default=0, readonly=True)
    window_expires_at = fields.Datetime(
        "Service Window Ends", readonly=True,
        help="Free-form messages are allowed until then; templates always.")
    window_open = fields.Boolean(compute="_compute_window_open")
    customer_phone_display = fields.Char(
        "Phone", compute="_compute_customer_phone_display",
        help="The customer's number grouped as it is written.")
    internal_note = fields.Text(help="Notes for the team; the customer never sees them.")
    typing_sent_at = fields.Datetime(
        "Typing Shown At", readonly=True, copy=False,
        help="When the customer was last shown that an agent is typing.")

    def init(self):
        # One open conversation per customer and account; closed ones may pile up.
        self.env.cr.execute("""
            CREATE UNIQUE INDEX IF NOT EXISTS wa_conversation_open_customer_uniq
                ON wa_conversation (account_id, customer_key) WHERE status = 'open'
        """)

    @api.depends("wa_id", "wa_user_id", "customer_phone")
    def _compute_customer_key(self):
        for conversation in self:
            conversation.customer_key = phone.contact_key(
                conversation.wa_id or conversation.customer_phone, conversation.wa_user_id) or False

    @api.depends("customer_phone")
    def _compute_customer_phone_display(self):
        for conversation in self:
            conversation.customer_phone_display = display.format_phone(conversation.customer_phone) or False

    def _compute_window_open(self):
        now = fields.Datetime.now()
        for conversation in self:
            conversation.window_open = window.is_window_open(
                conversation.last_inbound_at or None, now)

    @api.depends("customer_name", "customer_phone", "partner_id")
    def _compute_display_name(self):
        for conversation in self:
            name = conversation.partner_id.name or conversation.customer_name or conversation.wa_user_id
            conversation.display_name = " · ".join(
                part for part in (name, conversation.customer_phone) if part) or str(conversation.id)

    # --- Receiving ----------------------------------------------------------------
    # One way in: the webhook log hands each message to _receive_inbound, which
    # finds (or opens) the conversation, has the message stored, then updates
    # the conversation and lets the features that react to a customer's
    # message (held sends, notifications' replies and consent words) do so.

    @api.model
    def _receive_inbound(self, account, change, message):
        """Store an inbound message once; returns its conversation.

        A wamid Meta delivers again creates nothing and returns no conversation.
        """
        messages = self.env["wa.message"]
        if message.id and messages._find_wamid(account, message.id):
            return self.browse()
        conversation = self._for_inbound(account, change, message)
        record = messages._create_inbound(conversation, message)
        conversation._register_inbound(record, message)
        self.env["wa.notification"]._on_inbound(record, message)  # consent words, job replies
        return conversation

    @api.model
    def _receive_inbound_many(self, items):
        """_receive_inbound of each (account, change, message) of ``items`` in
        turn, with one query per kind for all of them (see InboundBatch);
        returns the conversation of each (empty for a wamid already stored)."""
        return InboundBatch(self, items).run()

    @api.model
    def _for_inbound(self, account, change, message):
        """The conversation an inbound message belongs to, created if needed.

        Every form of one customer's number maps to one key, so a customer
        is never split into two conversations or two partners.
        """
        contact = message.contact
        wa_id = message.wa_id or (contact.wa_id if contact else None)
        user_id = message.user_id or (contact.user_id if contact else None)
        name = contact.profile_name if contact else None
        base = [("account_id", "=", account.id)] + identity_domain(
            "customer_key", "wa_user_id", phone.contact_key(wa_id, user_id), user_id)
        conversation = (self.search(base + [("status", "in", ("open", "spam"))], limit=1)
                        or self.search(base + [("status", "=", "closed")], limit=1))
        return self._open_for_inbound(conversation, account, wa_id, user_id, name)

    @api.model
    def _open_for_inbound(self, conversation, account, wa_id, user_id, name):
        """The customer's conversation (found, or empty when there is none)
        ready for an inbound message: reopened if closed, created with its
        partner if missing, the sender's user id, name and wa_id kept."""
        if conversation.status == "closed":
            conversation.status = "open"
        if not conversation:
            partner = self.env["res.partner"]._wa_find_or_create(account, wa_id, user_id, name)
            conversation = self.create(self._new_customer_values(account, partner, wa_id, user_id, name))
        updates = {}
        if user_id and conversation.wa_user_id != user_id:
            updates["wa_user_id"] = user_id
        if name and conversation.customer_name != name:
            updates["customer_name"] = name
        if updates:
            conversation.write(updates)
        conversation._store_canonical_wa_id(wa_id)
        return conversation

    @api.model
    def _new_customer_values(self, account, partner, wa_id, user_id, name):
        """The values of the conversation a new customer's first message opens."""
        return {
            "account_id": account.id,
            "partner_id": partner.id,
            "wa_id": wa_id or False,
            "wa_user_id": user_id or False,
            "customer_phone": phone.e164_from_wa_id(wa_id) if wa_id else False,
            "customer_name": name or False,
        }

    def _register_inbound(self, record, message):
        """Update preview, unread count and the 24 h window for a new inbound message."""
        self.ensure_one()
        at = record.message_at
        # Spam is kept, but neither counts as unread nor rings anyone.
        # A reaction decorates a message already read: it is not one to answer.
        counts = self.status != "spam" and record.message_type != "reaction"
        values = {"unread_count": self.unread_count + 1} if counts else {}
        if not self.last_message_at or at >= self.last_message_at:
            values.update(last_message_at=at,
                          last_message_preview=(record.body or record.message_type or "")[:120])
        if not self.last_inbound_at or at > self.last_inbound_at:
            values.update(last_inbound_at=at,
                          window_expires_at=window.window_closes_at(at))
        self.write(values)
        new_wa_id = message.new_wa_id
        if new_wa_id and not self._open_elsewhere(phone.contact_key(new_wa_id)):
            # The customer moved to a new number: follow them there (unless
            # that number already has its own open conversation).
            self._store_canonical_wa_id(new_wa_id)
        self._release_held()  # the customer answered: the window is open again

    def action_mark_read(self):
        self.write({"unread_count": 0})

    def action_close(self):
        self.write({"status": "closed"})

    def action_reopen(self):
        for conversation in self:
            if conversation._open_elsewhere(conversation.customer_key):
                raise UserError(_("This customer already has an open conversation."))
            conversation.status = "open"

    def _open_elsewhere(self, customer_key):
        """Whether another conversation of this account is open with that customer
        (the database allows one: see init)."""
        self.ensure_one()
        return bool(self.search_count([
            ("id", "!=", self.id), ("account_id", "=", self.account_id.id),
            ("status", "=", "open"), ("customer_key", "=", customer_key)], limit=1))

    def action_mark_spam(self):
        self.write({"status": "spam"})

    def action_archive_conversation(self):
        self.write({"status": "archived"})

    # --- Sending -----------------------------------------------------------------
    # Every send_* builds its payload with the engine at once (a bad payload
    # is a UserError with the engine's message, before anything is stored),
    # then writes the wa.message and its queue item in this transaction and
    # wakes the queue cron. None of them waits for Meta: each returns the new
    # wa.message id. Context keys: ``wa_automated=True`` for sends nobody
    # typed (opted-out customers get none), ``wa_opt_out_confirmed=True``
    # once a person confirmed a manual send to an opted-out customer.
    # ``wa_not_before=<naive UTC datetime>`` holds the queue item until then
    # (quiet hours of automated notices, see wa.notification).

    def send_text(self, body, reply_to_id=False):
        """A text message; reply_to_id: a wa.message id to quote."""
        reply = self._reply_target(reply_to_id)
        payload = self._build(builders.text, self._recipient(), body,
                              preview_url="http" in (body or ""),
                              reply_to=reply.wamid or None if reply else None)
        return self._queue_message(payload, {"message_type": "text", "body": body,
                                             "reply_to_id": reply.id if reply else False})

    def send_media(self, attachment_id, caption=False):
        """An ir.attachment as image, video, audio, sticker or document (by its mime type).

        Meta's size and type limits are checked now; the file is uploaded
        when the queue sends it (once: later sends of the same file reuse
        Meta's media id while it lives).
        """
        attachment = self.env["ir.attachment"].browse(int(attachment_id)).exists()
        if not attachment:
            raise UserError(_("The file to send no longer exists."))
        attachment.check_access("read")
        mime_type = attachment.mimetype or "application/octet-stream"
        kind = builders.media_kind(mime_type)
        self._build(builders.check_media_file, kind, mime_type, attachment.file_size)
        payload = self._build(builders.media, self._recipient(), kind,
                              attachment_id=attachment.id, caption=caption or None,
                              filename=attachment.name if kind == "document" else None)
        return self._queue_message(payload, {
            "message_type": kind, "body": caption or False, "attachment_id": attachment.id,
            "mime_type": mime_type, "media_filename": attachment.name,
        })

    def send_location(self, latitude, longitude, name=False, address=False):
        payload = self._build(builders.location, self._recipient(), latitude, longitude,
                              name=name or None, address=address or None)
        return self._queue_message(payload, {
            "message_type": "location",
            "body": " · ".join(filter(None, (name, address))) or "%s, %s" % (latitude, longitude),
            "metadata": {"latitude": latitude, "longitude": longitude,
                         "name": name or None, "address": address or None},
        })

    def send_reaction(self, message_id, emoji):
        """React to a message of this conversation; an empty emoji removes the reaction."""
        target = self._reply_target(message_id)
        if not target or not target.wamid:
            raise UserError(_("Only a message WhatsApp has accepted can get a reaction."))
        payload = self._build(builders.reaction, self._recipient(), target.wamid, emoji or "")
        return self._queue_message(payload, {"message_type": "reaction", "body": emoji or False,
                                             "reply_to_id": target.id})

    def send_interactive(self, body, buttons, sections=False, button_label=False,
                         header=False, footer=False):
        """Reply buttons, or a list.

        Buttons: ``buttons`` is a list of at most 3 ``{"id": …, "title": …}``
        dicts (or ``(id, title)`` pairs). List: pass ``buttons=False`` and
        ``sections=[{"title": …, "rows": [{"id", "title", "description"?}]}]``
        (at most 10 rows in all) with ``button_label``, the text of the
        button that opens the list. ``header``/``footer``: optional texts.
        """
        to = self._recipient()
        if sections:
            payload = self._build(builders.list_message, to, body, button_label or _("Options"),
                                  sections, header=header or None, footer=footer or None)
            metadata = {"button": button_label or _("Options"), "sections": sections}
        else:
            payload = self._build(builders.buttons, to, body, buttons,
                                  header=header or None, footer=footer or None)
            metadata = {"buttons": payload["interactive"]["action"]["buttons"]}
        return self._queue_message(payload, {"message_type": "interactive", "body": body,
                                             "metadata": metadata})

    def send_contacts(self, partner_ids):
        """Contact cards of res.partner records (name, WhatsApp/mobile/phone, email)."""
        partners = self.env["res.partner"].browse(partner_ids).exists()
        if not partners:
            raise UserError(_("Choose at least one contact to send."))
        cards = [self._contact_card(partner) for partner in partners]
        payload = self._build(builders.contacts, self._recipient(), cards)
        return self._queue_message(payload, {"message_type": "contact",
                                             "body": ", ".join(partners.mapped("name")),
                                             "metadata": {"contacts": cards}})

    def send_template(self, template_id, res_model=False, res_id=False, values=False):
        """An approved template, its variables filled from the record (res_model, res_id)
        and/or ``values``; allowed outside the 24 h window (it reopens it)."""
        template = self.env["wa.template"].browse(int(template_id)).exists()
        if not template:
            raise UserError(_("The template to send no longer exists."))
        record = self.env[res_model].browse(int(res_id)) if res_model and res_id else None
        prepared = template._prepare_send(record=record, values=values or None)
        payload = self._build(builders.template, self._recipient(), prepared["name"],
                              prepared["language"], prepared.get("components") or None)
        return self._queue_message(payload, {
            "message_type": "template", "body": prepared.get("body") or template.name,
            "template_id": template.id, "template_params": prepared.get("params") or False,
            "res_model": res_model or False, "res_id": int(res_id) if res_model and res_id else False,
        }, priority=15)

    def _send_read_receipt(self, wamid, typing=False):
        """Queue blue ticks (and optionally "typing…") for an inbound message.

        Not a message: no wa.message, allowed outside the window, never
        held, not subject to opt-out. Returns the queue item.
        """
        self.ensure_one()
        payload = self._build(builders.mark_read, wamid, typing=bool(typing))
        queue = self.env["wa.outbound.queue"]
        item = queue.sudo().create({
            "account_id": self.account_id.id, "conversation_id": self.id,
            "phone": self.wa_id or (self.customer_phone or "").lstrip("+") or "-",
            "message_type": "mark_read", "content": payload, "priority": 20,
        })
        queue._wake()
        return item

    @api.model
    def _for_recipient(self, partner=False, phone=False, account=False):  # pylint: disable=redefined-outer-name
        """The open conversation with a customer, reopened or created if needed.

        ``partner``: a res.partner (record or id); or ``phone``: a number as
        typed. ``account``: defaults to the current company's WhatsApp account.
        """
        accounts = self.env["wa.account"]
        if isinstance(account, int) and not isinstance(account, bool):
            account = accounts.browse(account)
        account = account or accounts.search([("company_id", "=", self.env.company.id)], limit=1)
        if not account:
            raise UserError(_("The company %s has no WhatsApp account.", self.env.company.name))
        if isinstance(partner, int) and not isinstance(partner, bool):
            partner = self.env["res.partner"].browse(partner)
        partner = partner or self.env["res.partner"]
        e164, wa_id = self._recipient_number(partner, phone)
        key = phone_module.contact_key(wa_id or e164)
        base = [("account_id", "=", account.id), ("customer_key", "=", key)]
        conversation = self.search(base + [("status", "in", ("open", "spam"))], limit=1)
        if not conversation:
            conversation = self.search(base + [("status", "in", ("closed", "archived"))],
                                       order="last_message_at desc nulls last, id desc", limit=1)
            if conversation:
                conversation.status = "open"
        if not partner:
            partner = conversation.partner_id or self.env["res.partner"].search(
                [("wa_customer_key", "=", key),
                 ("company_id", "in", (False, account.company_id.id))], limit=1)
        if not conversation:
            conversation = self.create({
                "account_id": account.id, "partner_id": partner.id or False,
                "wa_id": wa_id or False, "customer_phone": e164,
                "customer_name": partner.name or False,
            })
        elif partner and not conversation.partner_id:
            conversation.partner_id = partner
        return conversation

    @api.model
    def _recipient_number(self, partner, typed):
        """(E.164, exact wa_id or None) of a partner or a typed number; UserError if none."""
        if partner:
            if partner.wa_id:
                return phone_module.e164_from_wa_id(partner.wa_id), partner.wa_id
            region = partner.country_id.code or "AR"
            for number in (partner.wa_number, partner.mobile, partner.phone):
                if number:
                    try:
                        return phone_module.normalize(number, region), None
                    except phone_module.PhoneError:
                        continue
            raise UserError(_("%s has no number WhatsApp can use: set a WhatsApp number or a "
                              "mobile on the contact.", partner.display_name))
        if typed:
            try:
                return phone_module.normalize(typed, "AR"), None
            except phone_module.PhoneError as error:
                raise UserError(str(error)) from None
        raise UserError(_("Give a contact or a phone number to write to."))

    # --- Sending: plumbing ------------------------------------------------------------

    @staticmethod
    def _build(builder, *args, **kwargs):
        """Call an engine builder; its PayloadError becomes the user's error, word for word."""
        try:
            return builder(*args, **kwargs)
        except PayloadError as error:
            raise UserError(str(error)) from None

    def _recipient(self):
        self.ensure_one()
        to = self.wa_id or (self.customer_phone or "").lstrip("+")
        if not to:
            raise UserError(_("%s has no phone number WhatsApp can send to.", self.display_name))
        return to

    def _reply_target(self, message_id):
        if not message_id:
            return None
        message = self.env["wa.message"].browse(int(message_id)).exists()
        if not message or message.conversation_id != self:
            raise UserError(_("That message is not part of this conversation."))
        return message

    @api.model
    def _contact_card(self, partner):
        card = {"name": {"formatted_name": partner.name, "first_name": partner.name}}
        phones = []
        for number, kind in ((partner.wa_number or partner.mobile, "CELL"),
                             (partner.phone, "WORK")):
            if number:
                try:
                    e164 = phone_module.normalize(number, partner.country_id.code or "AR")
                except phone_module.PhoneError:
                    continue
                entry = {"phone": e164, "type": kind}
                if kind == "CELL" and partner.wa_id:
                    entry["wa_id"] = partner.wa_id
                phones.append(entry)
        if phones:
            card["phones"] = phones
        if partner.email:
            card["emails"] = [{"email": partner.email, "type": "WORK"}]
        if partner.commercial_company_name and partner.commercial_company_name != partner.name:
            card["org"] = {"company": partner.commercial_company_name}
        return card

    def _check_opt_out(self):
        partner = self.partner_id
        if not partner.wa_opt_out:
            return
        if self.env.context.get("wa_automated"):
            raise UserError(_("%s asked not to receive WhatsApp messages: nothing automated is "
                              "sent to them.", partner.display_name))
        if not self.env.context.get("wa_opt_out_confirmed"):
            raise UserError(_("%s asked not to receive WhatsApp messages. Confirm to send "
                              "this one anyway.", partner.display_name))

    @api.model
    def _window_hold_reason(self):
        return _("Waiting for the customer: the 24 h window is closed, so only a template "
                 "can be sent now. This message goes out as soon as the customer writes.")

    def _queue_message(self, payload, values, priority=10):
        """The wa.message and its queue item, in this transaction; returns the message id."""
        self.ensure_one()
        self._check_opt_out()
        now = fields.Datetime.now()
        held = not window.can_send_freeform(self.last_inbound_at or None, now, payload["type"])
        reason = self._window_hold_reason() if held else False
        message = self.env["wa.message"].create(dict(
            values, conversation_id=self.id, direction="outbound", state="pending",
            message_at=now, error_message=reason))
        queue = self.env["wa.outbound.queue"]
        queue.sudo().create({
            "account_id": self.account_id.id, "conversation_id": self.id,
            "message_id": message.id, "phone": payload["to"],
            "message_type": payload["type"], "content": payload, "priority": priority,
            "state": "held" if held else "pending", "hold_reason": reason,
            "failure_type": False,
            # wa_not_before: quiet hours of automated notices (wa.notification).
            "scheduled_at": max(self.env.context.get("wa_not_before") or now, now),
        })
        preview = values.get("body") or dict(
            self.env["wa.message"]._fields["message_type"].selection).get(values["message_type"])
        self.write({"last_message_at": now, "last_message_preview": (preview or "")[:120]})
        if held:
            self._offer_reopen_template()
        queue._wake()
        return message.id

    def _store_canonical_wa_id(self, wa_id):
        """Keep the id Meta says the customer has (549… for a number sent as 54…),
        on the conversation and on its partner: the one place either changes."""
        self.ensure_one()
        if wa_id and self.wa_id != wa_id:
            self.sudo().write({"wa_id": wa_id,
                               "customer_phone": phone_module.e164_from_wa_id(wa_id)})
        if wa_id and self.partner_id and self.partner_id.wa_id != wa_id:
            self.partner_id.sudo().wa_id = wa_id

    def _offer_reopen_template(self):
        """Send the company's reopen template when it is set to go automatically.

        Once per closed window: not again once one went since the customer
        last wrote.
        """
        self.ensure_one()
        company = self.account_id.company_id
        template = company.wa_reopen_template_id
        if not (template and company.wa_reopen_auto):
            return False
        domain = [("conversation_id", "=", self.id), ("message_type", "=", "template"),
                  ("state", "in", ("pending", "processing", "done"))]
        if self.last_inbound_at:
            domain.append(("create_date", ">=", self.last_inbound_at))
        if self.env["wa.outbound.queue"].sudo().search_count(domain):
            return False  # one already asked the customer since they last wrote
        try:
            with self.env.cr.savepoint():
                return self.with_context(wa_automated=True).send_template(
                    template.id, res_model="res.partner", res_id=self.partner_id.id)
        except UserError as error:
            _logger.warning("WhatsApp conversation %s: the reopen template was not sent: %s",
                            self.id, error)
            return False

    def action_send_reopen_template(self):
        """The button next to a held message: send the company's reopen template."""
        self.ensure_one()
        template = self.account_id.company_id.wa_reopen_template_id
        if not template:
            raise UserError(_("Choose a reopen template in Settings → WhatsApp first."))
        return self.send_template(template.id, res_model="res.partner", res_id=self.partner_id.id)

    def _release_held(self):
        """Held messages go to Meta, in order, now that the customer wrote."""
        held = self.env["wa.outbound.queue"].sudo().search(
            [("conversation_id", "in", self.ids), ("state", "=", "held")], order="id")
        held._release()

    # --- live updates and the inbox -------------------------------------------

    def write(self, vals):
        result = super().write(vals)
        if _CLIENT_FIELDS.intersection(vals):
            self.env["wa.bus"]._queue("conversation", self)
        return result

    def _wa_client_format(self):
        """What the inbox shows of each conversation: one dict per conversation."""
        statuses = dict(self._fields["status"]._description_selection(self.env))
        result = []
        for conversation in self:
            partner, user = conversation.partner_id, conversation.user_id
            result.append({
                "id": conversation.id,
                "name": partner.name or conversation.customer_name or conversation.wa_user_id
                or display.format_phone(conversation.customer_phone) or str(conversation.id),
                "phone": display.format_phone(conversation.customer_phone),
                "e164": conversation.customer_phone or False,
                "account_id": conversation.account_id.id,
                # image: whether to show the partner's picture or the initials
                # (bin_size: only whether it exists, not its bytes).
                "partner": {"id": partner.id, "name": partner.name,
                            "image": bool(partner.with_context(bin_size=True).image_128)}
                if partner else False,
                "user": {"id": user.id, "name": user.name} if user else False,
                "status": conversation.status,
                "status_label": statuses.get(conversation.status, ""),
                "unread_count": conversation.unread_count,
                "last_message_at": fields.Datetime.to_string(conversation.last_message_at) or False,
                "last_message_preview": conversation.last_message_preview or "",
                "window_expires_at": fields.Datetime.to_string(conversation.window_expires_at) or False,
                "window_open": conversation.window_open,
                "opt_out": partner.wa_opt_out,
                "company_id": conversation.company_id.id,
            })
        return result

    @api.model
    def _wa_inbox_domain(self, tab="all", search=""):
        domain = {
            "unread": [("unread_count", ">", 0), ("status", "not in", ("spam", "archived"))],
            "open": [("status", "=", "open")],
            "closed": [("status", "=", "closed")],
            "mine": [("user_id", "=", self.env.uid), ("status", "not in", ("spam", "archived"))],
        }.get(tab, [("status", "not in", ("spam", "archived"))])
        search = (search or "").strip()
        if search:
            digits = "".join(ch for ch in search if ch.isdigit())
            matches = [("customer_name", "ilike", search), ("partner_id.name", "ilike", search),
                       ("message_ids.body", "ilike", search)]
            if len(digits) >= 3:
                matches += [("customer_phone", "ilike", digits), ("wa_id", "ilike", digits)]
            domain = domain + ["|"] * (len(matches) - 1) + matches
        return domain

    @api.model
    def get_inbox_data(self, tab="all", search="", limit=40, offset=0):
        """The inbox's left column: one page of conversations and the tab counters."""
        conversations = self.search(self._wa_inbox_domain(tab, search), limit=limit + 1, offset=offset)
        return {
            "conversations": conversations[:limit]._wa_client_format(),
            "has_more": len(conversations) > limit,
            "counts": {
                "unread": self.search_count(self._wa_inbox_domain("unread")),
                "mine": self.search_count(self._wa_inbox_domain("mine")),
                "systray": self.get_unread_counter(),
            },
        }

    @api.model
    def get_unread_counter(self):
        """Conversations waiting for this agent: unread, and theirs or nobody's."""
        return self.search_count(self._wa_inbox_domain("unread") + [
            ("user_id", "in", (False, self.env.uid))])

    def wa_summary(self):
        return self._wa_client_format()

    def wa_contact_panel(self):
        """The inbox's right column: who the customer is and what is open with them."""
        self.ensure_one()
        partner = self.partner_id.commercial_partner_id
        result = {"partner": False, "tasks": [], "invoices": [], "note": self.internal_note or ""}
        if not partner:
            return result
        result["partner"] = {
            "id": self.partner_id.id,
            "name": self.partner_id.name,
            "email": self.partner_id.email or False,
            "city": self.partner_id.city or False,
            "street": self.partner_id.street or False,
            "opt_out": self.partner_id.wa_opt_out,
        }
        Task = self.env["project.task"]
        if Task.has_access("read"):
            tasks = Task.search([("partner_id", "child_of", partner.id), ("is_closed", "=", False)],
                                limit=10, order="date_deadline asc, id desc")
            result["tasks"] = [{"id": t.id, "name": t.name, "stage": t.stage_id.name or False,
                                "project": t.project_id.name or False,
                                "deadline": fields.Datetime.to_string(t.date_deadline) or False}
                               for t in tasks]
        Move = self.env["account.move"]
        if Move.has_access("read"):
            moves = Move.search([
                ("partner_id", "child_of", partner.id), ("move_type", "=", "out_invoice"),
                ("state", "=", "posted"), ("payment_state", "in", ("not_paid", "partial"))],
                limit=10, order="invoice_date_due asc, id desc")
            result["invoices"] = [{
                "id": m.id, "name": m.name,
                "amount": m.amount_residual, "currency_id": m.currency_id.id,
                "due": fields.Date.to_string(m.invoice_date_due) or False,
            } for m in moves]
        return result

    @api.model
    def wa_open_for(self, partner_id=False, phone=False):
        """The open conversation with a customer (created if needed), for "New conversation"."""
        partner = self.env["res.partner"].browse(partner_id) if partner_id else False
        conversation = self._for_recipient(partner=partner, phone=phone or False)
        return conversation._wa_client_format()[0]

    @api.model
    def _wa_latest_for_partner(self, partner):
        """The conversation a form's WhatsApp button opens: the customer's latest open one."""
        if not partner:
            return self.browse()
        domain = [("partner_id", "child_of", partner.commercial_partner_id.id),
                  ("company_id", "in", self.env.companies.ids)]
        return (self.search(domain + [("status", "=", "open")], limit=1)
                or self.search(domain, limit=1))

    def _wa_chat_action(self, record=None):
        """The chat of this conversation in a dialog, with ``record`` as the origin of what is sent."""
        self.ensure_one()
        params = {"conversation_id": self.id}
        if record:
            params.update(res_model=record._name, res_id=record.id)
        return {
            "type": "ir.actions.client",
            "tag": "campotech_whatsapp.chat",
            "name": self.env._("WhatsApp · %s", record.display_name) if record else self.env._("WhatsApp"),
            "target": "new",
            "params": params,
            # A chat has no "Ok" to press: the dialog closes with its ×.
            "context": {"footer": False},
        }

    def wa_save_note(self, note):
        self.ensure_one()
        self.internal_note = note or False
        return True

    def wa_assign(self, user_id=False):
        if user_id:
            self._wa_check_assignable(user_id)
        self.write({"user_id": user_id or False})
        return self._wa_client_format()

    def wa_link_partner(self, partner_id=False):
        """Link the conversation to a partner; without one, create it from the number."""
        self.ensure_one()
        partner = self.env["res.partner"].browse(partner_id) if partner_id else False
        if partner:
            self._wa_attach_partner(partner)
        else:
            # Agents may not create contacts in general, but one for the
            # customer they are talking to, as an inbound message would.
            partner = self.env["res.partner"].sudo().create({
                "name": self.customer_name or self.customer_phone or self.wa_user_id,
                "wa_number": self.customer_phone or False,
                "wa_id": self.wa_id or False,
                "wa_user_id": self.wa_user_id or False,
                "company_id": self.company_id.id,
            })
            self.partner_id = partner
        return self._wa_client_format()

    def wa_get_messages(self, before_id=False, after_id=False, limit=40):
        """Messages for the chat, oldest first: the latest page, the page before
        ``before_id`` (scrolling up), or everything after ``after_id`` (catching
        up after a lost connection)."""
        self.ensure_one()
        domain = [("conversation_id", "=", self.id)]
        if before_id:
            domain.append(("id", "<", before_id))
        if after_id:
            domain.append(("id", ">", after_id))
            messages = self.env["wa.message"].search(domain, order="id asc")
            return {"messages": messages._wa_client_format(), "has_more": False}
        messages = self.env["wa.message"].search(domain, order="id desc", limit=limit + 1)
        return {"messages": messages[:limit][::-1]._wa_client_format(),
                "has_more": len(messages) > limit}

    def wa_read(self):
        """The agent opened the conversation: nothing left unread, blue ticks at Meta."""
        for conversation in self.filtered("unread_count"):
            conversation.unread_count = 0
            last = self.env["wa.message"].search([
                ("conversation_id", "=", conversation.id), ("direction", "=", "inbound"),
                ("wamid", "!=", False)], order="message_at desc, id desc", limit=1)
            if last:
                conversation._send_read_receipt(last.wamid)
        return self._wa_client_format()

    def wa_typing(self):
        """The agent is typing: other agents see it at once, the customer at
        most every 25 s (Meta's indicator lasts that long)."""
        self.ensure_one()
        self.env["wa.bus"]._send(self.company_id, "campotech_whatsapp/typing", {
            "conversation_id": self.id, "user_id": self.env.uid, "user_name": self.env.user.name})
        now = fields.Datetime.now()
        if self.typing_sent_at and now - self.typing_sent_at < TYPING_INTERVAL:
            return False
        last = self.env["wa.message"].search([
            ("conversation_id", "=", self.id), ("direction", "=", "inbound"), ("wamid", "!=", False),
            ("message_at", ">", now - timedelta(days=30))], order="message_at desc, id desc", limit=1)
        if not last:
            return False
        self.sudo().typing_sent_at = now
        self._send_read_receipt(last.wamid, typing=True)
        return True

    # --- the contact panel: handing over, and who the customer is ---------------

    def _wa_assignable_users(self):
        """Who this conversation may be handed to: its company's WhatsApp users."""
        self.ensure_one()
        return self.env["res.users"].search([
            ("groups_id", "in", self.env.ref("campotech_whatsapp.group_wa_user").id),
            ("company_ids", "in", self.company_id.id), ("share", "=", False)], order="name")

    def wa_assignable_users(self):
        """The agents the contact panel offers, as {id, name}."""
        return [{"id": user.id, "name": user.name} for user in self._wa_assignable_users()]

    def _wa_check_assignable(self, user_id):
        for conversation in self:
            if int(user_id) not in conversation._wa_assignable_users().ids:
                raise UserError(_("Only a WhatsApp user of %s can take this conversation.",
                                  conversation.company_id.name))

    def _wa_attach_partner(self, partner):
        """Make an existing ``partner`` this conversation's customer, and the one
        contact its number finds.

        Partners are found by ``wa_customer_key`` (an inbound message from a
        new conversation, "New conversation", a form's WhatsApp button), which
        reads the partner's wa_id first. So the partner takes the
        conversation's WhatsApp identity through _store_canonical_wa_id (as
        the next inbound message would do anyway), and the partner it replaces
        (usually the one the first message created from the number) gives up
        the WhatsApp fields that were this number; its mobile and phone, which
        people typed, stay.
        """
        self.ensure_one()
        partner = partner.exists()
        if not partner:
            raise UserError(_("That contact no longer exists."))
        partner.check_access("read")
        previous = self.partner_id
        if previous and previous != partner:
            values = {}
            if self.wa_id and previous.wa_id == self.wa_id:
                values["wa_id"] = False
            if self.wa_user_id and previous.wa_user_id == self.wa_user_id:
                values["wa_user_id"] = False
            if previous.wa_number and phone_module.contact_key(
                    previous.wa_number, region=previous.country_id.code or "AR") == self.customer_key:
                values["wa_number"] = False
            if values:
                previous.sudo().write(values)
        self.partner_id = partner
        if self.wa_user_id and not partner.wa_user_id:
            partner.sudo().wa_user_id = self.wa_user_id
        if not partner.wa_number and self.customer_phone and partner.wa_customer_key != self.customer_key:
            partner.sudo().wa_number = self.customer_phone
        self._store_canonical_wa_id(self.wa_id)


TYPING_INTERVAL = timedelta(seconds=25)
# Fields the inbox shows: a change in any is pushed to the screens.
_CLIENT_FIELDS = frozenset({
    "status", "user_id", "unread_count", "partner_id", "customer_name", "customer_phone",
    "last_message_at", "last_message_preview", "window_expires_at"})


class InboundBatch:
    """Inbound messages of many webhook logs received in one transaction.

    The outcome is the one of wa.conversation._receive_inbound called on each
    message in turn; what differs is the cost: the stored wamids, the
    customers' conversations and the follow-ups waiting for an answer are read
    with one query each for the whole batch, the messages are created with one
    create() and each conversation is written once, with its final unread
    count, preview and window. What only a real search can settle (a customer
    matching two conversations, a number change, a sender without any id) runs
    the one-message way, after what came before it is stored; so does the
    reaction to a message (consent words, job replies, answers to a question),
    for the few messages that can have one (wa.notification._inbound_may_act).
    """

    def __init__(self, conversations, items):
        self.env = conversations.env
        self.Conversation = conversations.browse()
        self.Message = self.env["wa.message"]
        self.Notification = self.env["wa.notification"]
        self.items = list(items)
        self.results = [self.Conversation] * len(self.items)
        self.known = {}         # (company id, wamid) -> its stored wa.message
        self.index = {}         # (account id, key or user id) -> conversations it may name
        self.candidates = self.Conversation
        self.pending = []       # (position, conversation, values) of messages to create
        self.pending_wamids = set()
        self.touched = {}       # conversation -> (its current summary, the values to write)
        self.waiting = set()
        self.media = False

    # --- the batch ---------------------------------------------------------------

    def run(self):
        if not self.items:
            return []
        identities = [self._identity(message) for _account, _change, message in self.items]
        self._prefetch(identities)
        for position, ((account, change, message), identity) in enumerate(zip(self.items, identities)):
            self._receive(position, account, change, message, identity)
        self._flush()
        if self.media:
            self.env.ref("campotech_whatsapp.ir_cron_wa_media_download")._trigger()
        return self.results

    @staticmethod
    def _identity(message):
        """(wa_id, user_id, profile name, contact key) of the sender, as _for_inbound reads them."""
        contact = message.contact
        wa_id = message.wa_id or (contact.wa_id if contact else None)
        user_id = message.user_id or (contact.user_id if contact else None)
        name = contact.profile_name if contact else None
        return wa_id, user_id, name, phone.contact_key(wa_id, user_id)

    def _prefetch(self, identities):
        Message = self.Message
        self.known = Message._find_wamids(
            [(account, message.id) for account, _change, message in self.items]
            + [(account, Message._reply_wamid(message)) for account, _change, message in self.items])
        account_ids = list({account.id for account, _change, _message in self.items})
        keys = list({identity[3] for identity in identities if identity[3]})
        user_ids = list({identity[1] for identity in identities if identity[1]})
        domain = [("customer_key", "in", keys)]
        if user_ids:
            domain = ["|", ("wa_user_id", "in", user_ids)] + domain
        found = self.Conversation.search(
            [("account_id", "in", account_ids), ("status", "in", ("open", "spam", "closed"))] + domain)
        for conversation in found:
            self._index(conversation)
        self.waiting = self.Notification._follow_up_waiting(found)
        self._open_new_customers(identities)

    def _open_new_customers(self, identities):
        """The conversations (and partners) of the batch's new customers, each
        created as its first message would, with one create() per kind.

        Only when every sender is known by a number alone and none changes
        number: then a customer is one key, and one without a conversation
        now gets one from their first message whatever the others do.
        Otherwise _open creates them one by one, message by message.
        """
        if any(message.new_wa_id or identity[1] or not identity[3]
               for (_account, _change, message), identity in zip(self.items, identities)):
            return
        firsts, seen = {}, set()
        for (account, _change, message), identity in zip(self.items, identities):
            wamid = (account.company_id.id, message.id)
            if message.id and (wamid in self.known or wamid in seen):
                continue  # stored already: it opens nothing
            seen.add(wamid)
            new_key = (account.id, identity[3])
            if new_key not in firsts and self._match(account, identity[3], None) == (True, self.Conversation):
                firsts[new_key] = (account, identity)
        if not firsts:
            return
        senders = [(account, wa_id, name) for account, (wa_id, _user, name, _key) in firsts.values()]
        partners = self.env["res.partner"]._wa_find_or_create_many(senders)
        created = self.Conversation.create([
            self.Conversation._new_customer_values(account, partner, wa_id, None, name)
            for (account, wa_id, name), partner in zip(senders, partners)])
        for conversation in created:
            self._index(conversation)

    def _index(self, conversation):
        """File ``conversation`` under its current key and user id (entries left
        under former ones are checked against the record when looked up)."""
        self.candidates |= conversation
        account_id = conversation.account_id.id
        for name in (conversation.customer_key, conversation.wa_user_id):
            if name:
                self.index.setdefault((account_id, name), set()).add(conversation.id)

    def _match(self, account, key, user_id):
        """(settled, conversation): _for_inbound's two searches, answered from the
        index; not settled when the customer matches several conversations."""
        ids = set(self.index.get((account.id, key), ()))
        if user_id:
            ids |= self.index.get((account.id, user_id), set())
        matches = [conversation for conversation in self.Conversation.browse(sorted(ids))
                   if conversation.account_id == account and (
                       conversation.customer_key == key
                       or (user_id and conversation.wa_user_id == user_id))]
        for statuses in (("open", "spam"), ("closed",)):
            found = [conversation for conversation in matches if conversation.status in statuses]
            if len(found) > 1:
                return False, self.Conversation
            if found:
                return True, found[0]
        return True, self.Conversation

    def _receive(self, position, account, change, message, identity):
        wa_id, user_id, name, key = identity
        company_id = account.company_id.id
        if message.id and ((company_id, message.id) in self.known
                           or (company_id, message.id) in self.pending_wamids):
            return  # Meta delivered it again
        settled, conversation = self._match(account, key, user_id) if key else (False, None)
        if not settled or message.new_wa_id:
            self._direct(position, account, change, message)
            return
        reply_wamid = self.Message._reply_wamid(message)
        if reply_wamid and (company_id, reply_wamid) in self.pending_wamids:
            self._flush()  # it quotes a message of this batch: that one needs its id
        reply_to = self.known.get((company_id, reply_wamid)) if reply_wamid else None
        reply_to = reply_to or self.Message
        conversation = self._open(conversation, account, wa_id, user_id, name)
        values = self.Message._inbound_values(conversation, message, reply_to)
        self.pending.append((position, conversation, values))
        if message.id:
            self.pending_wamids.add((company_id, message.id))
        self._register(conversation, values)
        if self.Notification._inbound_may_act(conversation, values, reply_to, self.waiting):
            record = self._flush()[-1]
            self.Notification._on_inbound(record, message)
            self.waiting = self.Notification._follow_up_waiting(self.candidates)

    def _open(self, conversation, account, wa_id, user_id, name):
        """_for_inbound once the conversation is known (or known to be missing)."""
        conversation = self.Conversation._open_for_inbound(conversation, account, wa_id, user_id, name)
        self._index(conversation)
        return conversation

    def _register(self, conversation, values):
        """_register_inbound on the summary kept for the batch (written by _flush)."""
        if conversation not in self.touched:
            self.touched[conversation] = ({
                "unread_count": conversation.unread_count,
                "last_message_at": conversation.last_message_at,
                "last_inbound_at": conversation.last_inbound_at,
            }, {})
        current, updates = self.touched[conversation]
        at = values["message_at"]
        changes = {}
        if conversation.status != "spam" and values["message_type"] != "reaction":
            changes["unread_count"] = current["unread_count"] + 1
        if not current["last_message_at"] or at >= current["last_message_at"]:
            changes.update(last_message_at=at,
                           last_message_preview=(values["body"] or values["message_type"] or "")[:120])
        if not current["last_inbound_at"] or at > current["last_inbound_at"]:
            changes.update(last_inbound_at=at, window_expires_at=window.window_closes_at(at))
        current.update(changes)
        updates.update(changes)

    def _flush(self):
        """Store what the batch holds: the messages (one create), each
        conversation's summary (one write each), the held sends released.
        Returns the messages created."""
        created = self.Message
        if self.pending:
            created = self.Message.create([values for _position, _conversation, values in self.pending])
            for (position, conversation, _values), record in zip(self.pending, created):
                self.results[position] = conversation
                if record.wamid:
                    self.known[(conversation.account_id.company_id.id, record.wamid)] = record
                self.media = self.media or record.media_state == "pending"
            self.pending = []
            self.pending_wamids = set()
        touched = self.Conversation
        for conversation, (_current, updates) in self.touched.items():
            if updates:
                conversation.write(updates)
            touched |= conversation
        self.touched = {}
        if touched:
            touched._release_held()  # the customers answered: their windows are open again
        return created

    def _direct(self, position, account, change, message):
        """The one-message way, after everything before this message is stored."""
        self._flush()
        conversation = self.Conversation._receive_inbound(account, change, message)
        self.results[position] = conversation
        if message.id:
            stored = self.Message._find_wamid(account, message.id)
            if stored:
                self.known[(account.company_id.id, message.id)] = stored
        if conversation:
            self._index(conversation)
        self.waiting = self.Notification._follow_up_waiting(self.candidates)
