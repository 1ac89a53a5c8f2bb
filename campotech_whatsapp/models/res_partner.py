from odoo import api, fields, models
from odoo.exceptions import UserError

from ..cloud import display, phone
from ..tools import identity_domain


class ResPartner(models.Model):
    _inherit = "res.partner"

    wa_number = fields.Char(
        "WhatsApp Number", help="The number to write to on WhatsApp, if not the mobile.")
    wa_id = fields.Char("WhatsApp ID", copy=False, index=True,
                        help="The customer's id exactly as Meta last sent it.")
    wa_user_id = fields.Char("WhatsApp User ID", copy=False, index=True,
                             help="Meta's business-scoped id, for customers known by username only.")
    wa_customer_key = fields.Char(
        "WhatsApp Matching Key",
        compute="_compute_wa_customer_key", store=True, index=True, copy=False,
        help="Matching key of the WhatsApp number (Argentina 549/54, Mexico 521/52 unified).")
    wa_opt_out = fields.Boolean(
        "WhatsApp Opt-out", help="The customer asked not to receive WhatsApp messages.")
    wa_phone_display = fields.Char(
        "WhatsApp", compute="_compute_wa_phone_display",
        help="The number the customer uses on WhatsApp, as last seen or as typed.")
    wa_conversation_ids = fields.One2many("wa.conversation", "partner_id", "WhatsApp Conversations")
    wa_consent_ids = fields.One2many("wa.consent", "partner_id", "WhatsApp Consent History")
    wa_conversation_count = fields.Integer(
        "WhatsApp Conversation Count", compute="_compute_wa_conversation_count")

    @api.depends("wa_id", "wa_number", "mobile", "phone", "wa_user_id", "country_id")
    def _compute_wa_customer_key(self):
        for partner in self:
            partner.wa_customer_key = phone.contact_key_of(
                (partner.wa_id, partner.wa_number, partner.mobile, partner.phone),
                partner.wa_user_id, region=partner.country_id.code or "AR") or False

    @api.depends("wa_number", "wa_id")
    def _compute_wa_phone_display(self):
        for partner in self:
            number = partner.wa_number or (phone.e164_from_wa_id(partner.wa_id) if partner.wa_id else "")
            partner.wa_phone_display = display.format_phone(number) or False

    def _compute_wa_conversation_count(self):
        counts = dict(self.env["wa.conversation"]._read_group(
            [("partner_id", "in", self.ids)], ["partner_id"], ["__count"]))
        for partner in self:
            partner.wa_conversation_count = counts.get(partner, 0)

    @api.onchange("wa_number")
    def _onchange_wa_number(self):
        if not self.wa_number:
            return None
        try:
            self.wa_number = phone.normalize(self.wa_number, self.country_id.code or "AR")
        except phone.PhoneError as error:
            # Keep what was typed, and say why it cannot be used yet.
            return {"warning": {"title": self.env._("WhatsApp number"), "message": str(error)}}
        return None

    @api.model
    def _wa_find_or_create(self, account, wa_id, user_id=None, name=None):
        """The partner behind a WhatsApp sender, created when none matches."""
        key = phone.contact_key(wa_id, user_id)
        partner = self.browse()
        if key:
            partner = self.sudo().search(
                [("company_id", "in", (False, account.company_id.id))]
                + identity_domain("wa_customer_key", "wa_user_id", key, user_id),
                order="wa_id desc nulls last, id", limit=1)
        if partner:
            if user_id and not partner.wa_user_id:
                partner.wa_user_id = user_id
            return partner
        if not (wa_id or user_id):
            return partner
        return self.sudo().create(self._wa_sender_values(account, wa_id, user_id, name))

    @api.model
    def _wa_sender_values(self, account, wa_id, user_id=None, name=None):
        """The values of the partner created for a WhatsApp sender no partner matches."""
        return {
            "name": name or (phone.e164_from_wa_id(wa_id) if wa_id else user_id),
            "wa_number": phone.e164_from_wa_id(wa_id) if wa_id else False,
            "wa_id": wa_id or False,
            "wa_user_id": user_id or False,
            "company_id": account.company_id.id,
        }

    @api.model
    def _wa_find_or_create_many(self, senders):
        """_wa_find_or_create of each (account, wa_id, name) of ``senders``, senders
        known by a number only and each with another key: one search for all,
        one create for those no partner matches. Returns the partners in order."""
        keys = [phone.contact_key(wa_id) for _account, wa_id, _name in senders]
        companies = list({account.company_id.id for account, _wa_id, _name in senders})
        # The order of _wa_find_or_create's search: the first match of a key is its partner.
        found = self.sudo().search_fetch(
            [("company_id", "in", [False] + companies), ("wa_customer_key", "in", keys)],
            ["wa_customer_key", "company_id"], order="wa_id desc nulls last, id")
        partners, missing = [], []
        for (account, wa_id, name), key in zip(senders, keys):
            match = next((partner for partner in found if partner.wa_customer_key == key
                          and partner.company_id.id in (False, account.company_id.id)), None)
            if match is None:
                missing.append((len(partners), self._wa_sender_values(account, wa_id, None, name)))
            partners.append(match)
        created = self.sudo().create([values for _position, values in missing])
        for (position, _values), partner in zip(missing, created):
            partners[position] = partner
        return partners

    def action_open_wa_conversations(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("WhatsApp"),
            "res_model": "wa.conversation",
            "view_mode": "list,form",
            "domain": [("partner_id", "child_of", self.commercial_partner_id.id)],
            "context": {"default_partner_id": self.id},
        }

    # --- consent ---------------------------------------------------------------

    def write(self, vals):
        if "wa_opt_out" not in vals or self.env.context.get("wa_consent_logged"):
            return super().write(vals)
        opt_out = bool(vals["wa_opt_out"])
        changed = self.filtered(lambda partner: partner.wa_opt_out != opt_out)
        if changed and not opt_out and not self.env.su and not self.env.user.has_group(
                "campotech_whatsapp.group_wa_manager"):
            # The customer said STOP: only they (ALTA) or a manager may undo it.
            raise UserError(self.env._(
                "Only a WhatsApp manager can opt a customer back in to automated messages."))
        result = super().write(vals)
        changed._wa_log_consent(opt_out, "manager")
        return result

    def _wa_log_consent(self, opt_out, source, message=False, body=False):
        self.env["wa.consent"].sudo().create([{
            "partner_id": partner.id,
            "company_id": (message.company_id if message else partner.company_id or self.env.company).id,
            "action": "opt_out" if opt_out else "opt_in",
            "source": source,
            "message_id": message.id if message else False,
            "body": body or False,
        } for partner in self])

    def _wa_set_consent(self, opt_out, source, message=False, body=False):
        """Opt the partners in or out and log it; returns those that changed."""
        changed = self.filtered(lambda partner: partner.wa_opt_out != opt_out)
        if changed:
            changed.sudo().with_context(wa_consent_logged=True).write({"wa_opt_out": opt_out})
            changed._wa_log_consent(opt_out, source, message, body)
        return changed

    def action_wa_opt_out(self):
        self._wa_set_consent(True, "manager")

    def action_wa_opt_in(self):
        if not self.env.user.has_group("campotech_whatsapp.group_wa_manager"):
            raise UserError(self.env._(
                "Only a WhatsApp manager can opt a customer back in to automated messages."))
        self._wa_set_consent(False, "manager")
    def action_open_wa_chat(self):
        """The partner's chat in a dialog (their latest conversation)."""
        self.ensure_one()
        Conversation = self.env["wa.conversation"]
        conversation = Conversation._wa_latest_for_partner(self)
        if not conversation:
            conversation = Conversation._for_recipient(partner=self)
        if not conversation:
            return self.action_open_wa_conversations()
        return conversation._wa_chat_action(self)
