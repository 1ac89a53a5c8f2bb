from odoo import fields, models


class WaTemplateButton(models.Model):
    """A button of a template: a quick reply, a link or a phone number."""

    _name = "wa.template.button"
    _description = "WhatsApp Template Button"
    _order = "template_id, sequence, id"

    template_id = fields.Many2one("wa.template", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="template_id.company_id", store=True)
    sequence = fields.Integer(default=10)
    button_type = fields.Selection(
        [("quick_reply", "Quick Reply"), ("url", "Link"), ("phone_number", "Phone Number")],
        "Type", default="quick_reply", required=True)
    text = fields.Char(required=True)
    url = fields.Char(
        "URL", help="Ends with {{1}} for a link that varies per record, e.g. "
                    "https://example.com/{{1}}: the variable then takes the rest of the link.")
    phone_number = fields.Char()

    def _meta_button(self):
        self.ensure_one()
        button = {"type": self.button_type.upper(), "text": self.text}
        if self.button_type == "url":
            button["url"] = self.url or ""
        elif self.button_type == "phone_number":
            button["phone_number"] = self.phone_number or ""
        return button
