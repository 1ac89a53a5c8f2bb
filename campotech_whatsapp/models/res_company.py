from odoo import api, fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    wa_account_ids = fields.One2many("wa.account", "company_id")
    wa_account_id = fields.Many2one(
        "wa.account", "WhatsApp Account", compute="_compute_wa_account_id")
    wa_reopen_template_id = fields.Many2one(
        "wa.template", "WhatsApp Reopen Template",
        domain="[('company_id', '=', id), ('status', '=', 'approved')]",
        help="Offered (or sent) when a message cannot go because the customer's 24 h window "
             "is closed; the held messages follow once the customer answers.")
    wa_reopen_auto = fields.Boolean(
        "Send Reopen Template Automatically",
        help="Send the reopen template as soon as a message is held by a closed window.")

    @api.depends("wa_account_ids")
    def _compute_wa_account_id(self):
        for company in self:
            company.wa_account_id = company.with_context(active_test=False).wa_account_ids[:1]
