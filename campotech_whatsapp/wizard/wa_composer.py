from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..cloud import templates
from ..cloud.errors import PayloadError


class WaComposer(models.TransientModel):
    """Send an approved template to a record's customer, or to a typed number.

    Opened from a contact, a job or an invoice (the record fills the template's
    variables) or from the WhatsApp menu with a number. The message goes
    through the conversation's send_template, so the outbound queue.
    """

    _name = "wa.composer"
    _description = "Send a WhatsApp Template"

    res_model = fields.Char("Record Model", readonly=True)
    res_id = fields.Many2oneReference("Record ID", model_field="res_model", readonly=True)
    record_name = fields.Char("Record", compute="_compute_record_name")
    account_id = fields.Many2one(
        "wa.account", required=True,
        default=lambda self: self.env["wa.account"].search(
            [("company_id", "=", self.env.company.id)], limit=1))
    partner_id = fields.Many2one("res.partner", "Customer",
                                 compute="_compute_partner_id", store=True, readonly=False)
    phone = fields.Char("Number", help="A number as typed, when the customer is not a contact.")
    template_id = fields.Many2one(
        "wa.template", required=True,
        domain="[('account_id', '=', account_id), ('status', '=', 'approved')]")
    variable_ids = fields.One2many("wa.composer.variable", "composer_id",
                                   compute="_compute_variable_ids", store=True, readonly=False)
    preview = fields.Text(compute="_compute_preview")
    opt_out = fields.Boolean(related="partner_id.wa_opt_out")
    opt_out_confirmed = fields.Boolean(
        "Send anyway", help="The customer asked not to receive WhatsApp messages; tick to send "
                            "this one all the same.")

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        model, res_id = self.env.context.get("active_model"), self.env.context.get("active_id")
        if model and res_id and model != self._name and model in self.env:
            values.setdefault("res_model", model)
            values.setdefault("res_id", res_id)
        return values

    def _record(self):
        self.ensure_one()
        if self.res_model and self.res_id:
            return self.env[self.res_model].browse(self.res_id).exists() or None
        return None

    @api.depends("res_model", "res_id")
    def _compute_record_name(self):
        for composer in self:
            record = composer._record()
            composer.record_name = record.display_name if record else False

    @api.depends("res_model", "res_id")
    def _compute_partner_id(self):
        for composer in self:
            record = composer._record()
            if record is None:
                composer.partner_id = composer.partner_id
            elif record._name == "res.partner":
                composer.partner_id = record
            elif "partner_id" in record._fields:
                composer.partner_id = record.partner_id

    @api.depends("template_id")
    def _compute_variable_ids(self):
        for composer in self:
            commands = [(5, 0, 0)]
            template = composer.template_id
            record = composer._record()
            for var in template.variable_ids.filtered(lambda v: v.kind == "text"):
                try:
                    mapped = template._variable_values(record).get(var.key)
                except UserError:
                    mapped = None
                text = template.header_text if var.component == "header" else template.body_text
                commands.append((0, 0, {
                    "sequence": var.sequence, "key": var.key, "name": var.name,
                    "excerpt": templates.placeholder_context(text, var.name) or False,
                    "component": var.component, "mapped_value": mapped or False}))
            composer.variable_ids = commands

    def _values(self):
        return {var.key: var.value for var in self.variable_ids if var.value}

    @api.depends("template_id", "variable_ids.value")
    def _compute_preview(self):
        for composer in self:
            if not composer.template_id:
                composer.preview = False
                continue
            try:
                composer.preview = composer.template_id._render_preview(
                    composer._record(), composer._values())
            except (UserError, PayloadError) as error:
                composer.preview = str(error)

    def action_send(self):
        self.ensure_one()
        if not self.partner_id and not self.phone:
            raise UserError(_("Choose a customer or type a number."))
        if self.opt_out and not self.opt_out_confirmed:
            raise UserError(_("%s asked not to receive WhatsApp messages. Tick \"Send anyway\" "
                              "to send this one.", self.partner_id.display_name))
        conversation = self.env["wa.conversation"]._for_recipient(
            partner=self.partner_id, phone=self.phone or False, account=self.account_id)
        if self.opt_out_confirmed:
            conversation = conversation.with_context(wa_opt_out_confirmed=True)
        record = self._record()
        conversation.send_template(
            self.template_id.id, record._name if record else False,
            record.id if record else False, self._values() or False)
        return {"type": "ir.actions.act_window_close"}
