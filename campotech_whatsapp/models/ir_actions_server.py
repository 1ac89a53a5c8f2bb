from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..cloud import notifications as N
from .wa_notification import EVENTS


class IrActionsServer(models.Model):
    """A "Send WhatsApp template" server action, for automation rules and
    any record's Action menu (as Community's sms adds "Send SMS")."""

    _inherit = "ir.actions.server"

    state = fields.Selection(selection_add=[("wa_template", "Send WhatsApp Template")],
                             ondelete={"wa_template": "cascade"})
    wa_event = fields.Selection(
        [event for event in EVENTS if event[0] in N.EVENTS] + [(N.CUSTOM, "Any Template")],
        "WhatsApp Notification", default=N.CUSTOM,
        help="A standard event follows its switch and template in Settings and is sent "
             "once per occurrence; Any Template sends the template below.")
    wa_template_id = fields.Many2one(
        "wa.template", "WhatsApp Template", ondelete="set null",
        help="Empty for a standard event: the company's template from Settings.")
    wa_recipient_field = fields.Char(
        "WhatsApp Recipient", help="Field path to the customer on the record, e.g. partner_id or "
                          "project_id.partner_id. Empty: the record's customer (partner_id).")
    wa_variable_mapping = fields.Text(
        "Template Variables",
        help="One per line: name = field.path (on the record) or name = \"fixed text\". "
             "Variables not listed use the template's own mapping.")

    @api.depends("state")
    def _compute_available_model_ids(self):
        wa_actions = self.filtered(lambda action: action.state == "wa_template")
        if wa_actions:
            models_ = self.env["ir.model"].search(
                [("is_mail_thread", "=", True), ("transient", "=", False)])
            for action in wa_actions:
                action.available_model_ids = models_.ids
        return super(IrActionsServer, self - wa_actions)._compute_available_model_ids()

    @api.constrains("state", "wa_event", "wa_template_id", "wa_variable_mapping", "wa_recipient_field")
    def _check_wa_template_action(self):
        for action in self.filtered(lambda a: a.state == "wa_template"):
            if action.wa_event == N.CUSTOM and not action.wa_template_id:
                raise ValidationError(self.env._("Choose the WhatsApp template to send."))
            try:
                mapping = N.parse_mapping(action.wa_variable_mapping)
            except N.MappingError as error:
                raise ValidationError(str(error)) from error
            model = self.env[action.model_id.model] if action.model_id.model in self.env else None
            paths = [value for kind, value in mapping.values() if kind == N.FIELD]
            if action.wa_recipient_field:
                paths.append(action.wa_recipient_field)
            for path in paths:
                if model is not None and not self._wa_path_exists(model, path):
                    raise ValidationError(self.env._(
                        "%(model)s has no field path %(path)s.", model=action.model_id.name, path=path))

    @staticmethod
    def _wa_path_exists(model, path):
        for name in path.split("."):
            field = model._fields.get(name)
            if field is None:
                return False
            model = model.env[field.comodel_name] if field.relational else model
        return True

    def _wa_values(self, record):
        """The mapping's values on record, as text."""
        self.ensure_one()
        values = {}
        for name, (kind, value) in N.parse_mapping(self.wa_variable_mapping).items():
            if kind == N.TEXT:
                values[name] = value
                continue
            if not self._wa_path_exists(record, value):
                raise UserError(self.env._("%(model)s has no field path %(path)s.",
                                           model=record._description, path=value))
            # Formatted as the template's own variables are: Argentine dates
            # in the customer's time zone, amounts with their currency.
            values[name] = self.env["wa.template.variable"].new({
                "name": name, "source": "field", "field_path": value,
                "template_id": self.wa_template_id.id,
            })._field_value(record) or ""
        return values

    def _run_action_wa_template_multi(self, eval_context=None):
        records = eval_context.get("records") or eval_context.get("record")
        if not records:
            return False
        self.env["wa.notification"]._run_server_action(self, records)
        return False
