from odoo import models
from odoo.exceptions import AccessError


class WaCompanyGuard(models.AbstractModel):
    """Refuses a write that moves records to a company the user does not work in.

    Record rules are checked before a write, not after: without this, an
    agent could move a message or a conversation of their company into
    another company's inbox by changing its parent. Models name the fields
    that carry their company in ``_wa_company_parents``.
    """

    _name = "wa.company.guard"
    _description = "WhatsApp company guard"
    _wa_company_parents = ()

    def write(self, vals):
        result = super().write(vals)
        if not self.env.su and set(self._wa_company_parents) & set(vals):
            if self.filtered(lambda record: record.company_id not in self.env.companies):
                raise AccessError(self.env._(
                    "You cannot move %(model)s records to a company you do not work in.",
                    model=self._description))
        return result
