import json

from odoo import api, fields, models

from ..cloud import templates
CATEGORIES = [("marketing", "Marketing"), ("utility", "Utility"), ("authentication", "Authentication")]
STATUSES = [
    ("pending", "Pending"), ("approved", "Approved"), ("rejected", "Rejected"),
    ("paused", "Paused"), ("disabled", "Disabled"),
]


class WaTemplate(models.Model):
    _name = "wa.template"
    _inherit = ["wa.company.guard"]
    _wa_company_parents = ("account_id",)
    _description = "WhatsApp Template"
    _order = "name, language"

    account_id = fields.Many2one("wa.account", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="account_id.company_id", store=True, index=True)
    name = fields.Char(required=True, index=True)
    language = fields.Char(required=True, default="es_AR")
    category = fields.Selection(CATEGORIES, default="utility", required=True)
    status = fields.Selection(STATUSES, default="pending", required=True, index=True)
    meta_template_id = fields.Char("Meta Template ID", index=True, copy=False)
    components = fields.Json(default=list)
    body_preview = fields.Text(compute="_compute_body_preview", store=True)
    rejection_reason = fields.Char()
    active = fields.Boolean(default=True)

    _sql_constraints = [
        ("name_language_uniq", "unique(account_id, name, language)",
         "A template name exists once per language and account."),
    ]

    @api.depends("components")
    def _compute_body_preview(self):
        for template in self:
            template.body_preview = "\n".join(
                component.get("text", "") for component in template.components or []
                if isinstance(component, dict) and component.get("type", "").upper() == "BODY")

    def _definition(self):
        self.ensure_one()
        return {"name": self.name, "language": self.language, "category": self.category.upper(),
                "status": self.status.upper(), "components": self.components or []}

    @api.model
    def _sync_from_meta(self, account, definitions):
        """Create or update the account's templates from Meta's list."""
        for definition in definitions:
            parsed = templates.Template.from_definition(definition)
            values = {
                "account_id": account.id,
                "name": parsed.name,
                "language": parsed.language,
                "category": parsed.category if parsed.category in dict(CATEGORIES) else "utility",
                "status": parsed.status if parsed.status in dict(STATUSES) else "pending",
                "meta_template_id": str(definition.get("id") or "") or False,
                "components": json.loads(json.dumps(definition.get("components") or [])),
                "rejection_reason": definition.get("rejected_reason") or False,
            }
            existing = self.with_context(active_test=False).search([
                ("account_id", "=", account.id), ("name", "=", parsed.name),
                ("language", "=", parsed.language)], limit=1)
            if existing:
                existing.write(values)
            else:
                self.create(values)
        return len(definitions)

    @api.model
    def _apply_status_update(self, account, update):
        """Apply a message_template_status_update webhook; returns the templates changed."""
        domain = [("account_id", "=", account.id)]
        if update.template_id:
            found = self.with_context(active_test=False).search(
                domain + [("meta_template_id", "=", update.template_id)])
        else:
            found = self.browse()
        if not found and update.name:
            found = self.with_context(active_test=False).search(
                domain + [("name", "=", update.name)]
                + ([("language", "=", update.language)] if update.language else []))
        if found and update.status in dict(STATUSES):
            found.write({"status": update.status, "rejection_reason": update.reason or False})
        return found
