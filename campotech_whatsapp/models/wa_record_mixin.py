from odoo import fields, models


class WaRecordMixin(models.AbstractModel):
    """WhatsApp on a business record (job, invoice): its customer's
    conversations and the messages sent from the record itself."""

    _name = "wa.record.mixin"
    _description = "WhatsApp on a record"

    wa_conversation_count = fields.Integer("WhatsApp Conversation Count", compute="_compute_wa_counts")
    wa_message_count = fields.Integer("WhatsApp Message Count", compute="_compute_wa_counts")
    # What the smart button shows: the customer's whole chat, not only what this
    # record sent (a job whose customer wrote 12 times must not read "0").
    wa_chat_message_count = fields.Integer("WhatsApp Chat Message Count", compute="_compute_wa_counts")
    wa_unread_count = fields.Integer("WhatsApp Unread Count", compute="_compute_wa_counts")

    def _wa_partner(self):
        return self.partner_id.commercial_partner_id

    def _compute_wa_counts(self):
        Conversation = self.env["wa.conversation"]
        Message = self.env["wa.message"]
        for record in self:
            partner = record._wa_partner()
            conversations = Conversation.search(
                [("partner_id", "child_of", partner.id)]) if partner else Conversation
            record.wa_conversation_count = len(conversations)
            record.wa_unread_count = sum(conversations.mapped("unread_count"))
            record.wa_chat_message_count = Message.search_count(
                [("conversation_id", "in", conversations.ids)]) if conversations else 0
            record.wa_message_count = Message.search_count(
                [("res_model", "=", record._name), ("res_id", "=", record.id)]) if record.id else 0

    def action_open_wa_conversations(self):
        self.ensure_one()
        partner = self._wa_partner()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("WhatsApp"),
            "res_model": "wa.conversation",
            "view_mode": "list,form",
            "domain": [("partner_id", "child_of", partner.id)] if partner else [("id", "=", False)],
            "context": {"default_partner_id": self.partner_id.id},
        }

    def action_open_wa_chat(self):
        """The customer's chat in a dialog; what is sent keeps this record as its origin."""
        self.ensure_one()
        partner = self._wa_partner()
        Conversation = self.env["wa.conversation"]
        conversation = Conversation._wa_latest_for_partner(partner)
        if not conversation and partner:
            conversation = Conversation._for_recipient(partner=self.partner_id)
        if not conversation:
            return self.action_open_wa_conversations()
        return conversation._wa_chat_action(self)

    def action_open_wa_messages(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("WhatsApp Messages"),
            "res_model": "wa.message",
            "view_mode": "list,form",
            "domain": [("res_model", "=", self._name), ("res_id", "=", self.id)],
        }
