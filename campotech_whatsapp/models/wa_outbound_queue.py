from odoo import fields, models


class WaOutboundQueue(models.Model):
    """Messages waiting to be sent to Meta.

    An item is written in the same transaction as the wa.message it sends,
    so a crash between the two loses nothing; a failed send stays here with
    Meta's error until it is retried or given up.
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
    phone = fields.Char(required=True, help="Recipient wa_id or E.164 number.")
    message_type = fields.Char(required=True, default="text")
    content = fields.Json(help="The Cloud API payload to send.")
    priority = fields.Integer(default=10, help="Higher goes first.")
    attempts = fields.Integer(default=0)
    max_attempts = fields.Integer(default=8)
    scheduled_at = fields.Datetime(default=fields.Datetime.now, index=True)
    last_attempt_at = fields.Datetime()
    state = fields.Selection(
        [("pending", "Pending"), ("processing", "Processing"), ("done", "Done"), ("failed", "Failed")],
        default="pending", required=True, index=True)
    error_message = fields.Text()
