from odoo import fields, models


class WaComposerVariable(models.TransientModel):
    """One value of the template being composed, as the record fills it or
    as the user types it."""

    _name = "wa.composer.variable"
    _description = "WhatsApp Composer Variable"
    _order = "sequence, id"

    composer_id = fields.Many2one("wa.composer", required=True, ondelete="cascade")
    sequence = fields.Integer()
    key = fields.Char(required=True, readonly=True)
    name = fields.Char("Variable", readonly=True)
    component = fields.Char(readonly=True)
    value = fields.Char(help="Leave empty to use the value the template maps from the record.")
    mapped_value = fields.Char("From the Record", readonly=True)
