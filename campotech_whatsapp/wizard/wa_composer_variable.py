from odoo import fields, models


class WaComposerVariable(models.TransientModel):
    """One value of the template being composed, as the record fills it or
    as the user types it. Only ``value`` is for the user; the view shows the
    rest read-only (and saves it: the rows are computed in the form)."""

    _name = "wa.composer.variable"
    _description = "WhatsApp Composer Variable"
    _order = "sequence, id"

    composer_id = fields.Many2one("wa.composer", required=True, ondelete="cascade")
    sequence = fields.Integer()
    key = fields.Char(required=True)
    name = fields.Char("Variable")
    # "{{2}}" alone tells a dispatcher nothing: the words around it say what it is.
    excerpt = fields.Char("In the Text")
    component = fields.Char()
    value = fields.Char(help="Leave empty to use the value the template maps from the record.")
    mapped_value = fields.Char("From the Record")
