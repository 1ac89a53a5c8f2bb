from odoo import api, fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    wa_account_ids = fields.One2many("wa.account", "company_id")
    wa_account_id = fields.Many2one(
        "wa.account", "WhatsApp Account", compute="_compute_wa_account_id")

    @api.depends("wa_account_ids")
    def _compute_wa_account_id(self):
        for company in self:
            company.wa_account_id = company.with_context(active_test=False).wa_account_ids[:1]
