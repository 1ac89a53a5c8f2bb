from odoo import models


class IrHttp(models.AbstractModel):
    _inherit = "ir.http"

    def session_info(self):
        result = super().session_info()
        # The web client shows the WhatsApp icon only to WhatsApp users.
        result["campotech_whatsapp_user"] = self.env.user.has_group("campotech_whatsapp.group_wa_user")
        return result
