from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import html2plaintext

from ..cloud import formatting

SOURCES = [
    ("field", "Field of the record"),
    ("fixed", "Fixed value"),
    ("report", "PDF report of the record"),
    ("portal_url", "Portal link of the record"),
]
MEDIA_KINDS = ("image", "video", "document")


class WaTemplateVariable(models.Model):
    """Where one value of a template comes from when it is sent."""

    _name = "wa.template.variable"
    _description = "WhatsApp Template Variable"
    _order = "template_id, sequence, id"

    template_id = fields.Many2one("wa.template", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="template_id.company_id", store=True)
    sequence = fields.Integer(default=10)
    key = fields.Char(required=True, readonly=True,
                      help="The engine's key of the value: 1, customer_name, header.1, button.0…")
    name = fields.Char(required=True, readonly=True, help="1, 2… or the variable's name.")
    component = fields.Selection(
        [("header", "Header"), ("body", "Body"), ("button", "Button")],
        required=True, readonly=True)
    kind = fields.Char(default="text", readonly=True)
    button_index = fields.Integer(readonly=True)
    source = fields.Selection(SOURCES, default="field", required=True)
    field_path = fields.Char(
        help="Field of the record, dotted through relations: partner_id.name, name, "
             "date_deadline, amount_total, invoice_date_due…")
    fixed_value = fields.Char()
    report_id = fields.Many2one("ir.actions.report", ondelete="set null",
                                domain="[('report_type', '=', 'qweb-pdf')]")
    attachment_id = fields.Many2one("ir.attachment", "Fixed File", ondelete="set null")
    sample_value = fields.Char(
        "Sample", help="Shown in previews and sent to Meta as the example of this variable.")

    _sql_constraints = [
        ("template_key_uniq", "unique(template_id, key)", "A template has one row per variable."),
    ]

    @api.constrains("source", "kind", "component")
    def _check_source(self):
        for var in self:
            media = var.kind in MEDIA_KINDS
            if var.source == "report" and var.kind != "document":
                raise ValidationError(_("Variable %s: only a document header can be a PDF report.",
                                  var.name))
            if var.source == "portal_url" and var.component != "button":
                raise ValidationError(_("Variable %s: a portal link fills a URL button.", var.name))
            if media and var.source == "field":
                raise ValidationError(_("Variable %s: a media header is a report or a fixed file.",
                                  var.name))

    # --- Values --------------------------------------------------------------

    def _value(self, record=None, render_media=True):
        """The value for record: text, or for a media header a dict
        {kind, attachment_id, filename}; None when there is none."""
        self.ensure_one()
        if self.kind in MEDIA_KINDS:
            return self._media_value(record, render_media)
        if self.source == "fixed":
            return self.fixed_value or None
        if not record:
            return None
        if self.source == "portal_url":
            return self._portal_suffix(record)
        if self.source == "field" and self.field_path:
            return self._field_value(record)
        return None

    def _media_value(self, record, render):
        if self.source == "fixed" and self.attachment_id:
            return {"kind": self.kind, "attachment_id": self.attachment_id.id,
                    "filename": self.attachment_id.name}
        if self.source != "report" or not record or not self.report_id:
            return None
        if self.report_id.model != record._name:
            raise UserError(_("Report %(report)s prints %(model)s records, not %(record)s.",
                              report=self.report_id.name, model=self.report_id.model,
                              record=record.display_name))
        if not render:
            base = (record._get_report_base_filename()
                    if hasattr(record, "_get_report_base_filename") else record.display_name)
            return {"kind": self.kind, "filename": "%s.pdf" % base}
        attachment = self.template_id._report_attachment(self.report_id, record)
        return {"kind": self.kind, "attachment_id": attachment.id, "filename": attachment.name}

    def _portal_suffix(self, record):
        """The part of record's portal link after the button's fixed URL:
        Meta's URL buttons take only the dynamic end."""
        if not hasattr(record, "get_portal_url"):
            raise UserError(_("%s has no portal page to link to.", record.display_name))
        button = self.template_id._engine_template().buttons[self.button_index]
        base = (button.get("url") or "").split("{{", 1)[0]
        url = record.get_base_url().rstrip("/") + record.sudo().get_portal_url()
        if not url.startswith(base):
            raise UserError(_("The button's URL %(base)s is not the start of the portal link "
                              "%(url)s.", base=base, url=url))
        return url[len(base):] or None

    def _field_value(self, record):
        path = self.field_path.strip().split(".")
        current = record
        for step, part in enumerate(path[:-1]):
            field = current._fields.get(part)
            if not field or not field.relational:
                raise UserError(_("Variable %(name)s: %(path)s is not a field path of %(model)s.",
                                  name=self.name, path=self.field_path, model=record._name))
            current = current[part] if len(current) == 1 else current.mapped(part)
            if not step and part == "company_id" and not current:
                # A job without a project has no company: the sender's is meant.
                current = self.template_id.company_id
        last = path[-1]
        field = current._fields.get(last)
        if not field:
            raise UserError(_("Variable %(name)s: %(path)s is not a field path of %(model)s.",
                              name=self.name, path=self.field_path, model=record._name))
        tz = self._timezone(record)
        texts = [text for text in (self._format(rec, field, tz) for rec in current) if text]
        return ", ".join(texts) or None

    def _timezone(self, record):
        """The customer's time zone, else the company's, else Buenos Aires."""
        partner = self.env["res.partner"]
        if record._name == "res.partner":
            partner = record
        elif "partner_id" in record._fields and record._fields["partner_id"].comodel_name == \
                "res.partner":
            partner = record.partner_id
        company = record.company_id if "company_id" in record._fields else self.env.company
        company = company[:1] or self.template_id.company_id or self.env.company
        return formatting.timezone(partner.tz, company.partner_id.tz)

    def _format(self, record, field, tz):
        value = record[field.name]
        if field.type == "boolean":
            return _("Yes") if value else _("No")
        if field.type in ("integer", "float", "monetary") and value is not False:
            if field.type == "integer":
                return str(value)
            if field.type == "monetary":
                currency = record[field.get_currency_field(record)] or record.env.company.currency_id
                return formatting.format_amount(value, currency.symbol, currency.position,
                                                currency.decimal_places)
            return formatting.format_number(value)
        if not value:
            return None
        if field.relational:
            return ", ".join(name for name in value.mapped("display_name") if name)
        if field.type == "datetime":
            return formatting.format_datetime(value, tz)
        if field.type == "date":
            return formatting.format_date(value)
        if field.type == "selection":
            return dict(field._description_selection(record.env)).get(value, value)
        if field.type == "html":
            value = html2plaintext(value)
        # Meta refuses newlines in parameters: an address reads "street, city".
        return ", ".join(line.strip() for line in str(value).splitlines() if line.strip())
