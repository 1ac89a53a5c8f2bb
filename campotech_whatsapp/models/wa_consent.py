from odoo import fields, models

ACTIONS = [("opt_out", "Opted out"), ("opt_in", "Opted in")]
SOURCES = [("whatsapp", "Customer on WhatsApp"), ("manager", "Changed in Odoo")]


class WaConsent(models.Model):
    """One opt-in or opt-out of automated WhatsApp messages: who, when, how,
    and the message that caused it. Written once, never edited."""

    _name = "wa.consent"
    _description = "WhatsApp Consent Change"
    _order = "date desc, id desc"
    _rec_name = "action"

    partner_id = fields.Many2one("res.partner", required=True, index=True, ondelete="cascade",
                                 readonly=True)
    company_id = fields.Many2one("res.company", index=True, readonly=True)
    action = fields.Selection(ACTIONS, "Consent", required=True, readonly=True)
    source = fields.Selection(SOURCES, "Consent Source", required=True, readonly=True)
    date = fields.Datetime("Changed On", default=fields.Datetime.now, required=True, readonly=True)
    user_id = fields.Many2one("res.users", "Changed By", default=lambda self: self.env.user,
                              readonly=True)
    message_id = fields.Many2one("wa.message", "WhatsApp Message", ondelete="set null",
                                 readonly=True)
    body = fields.Char("Customer's Words", readonly=True)
