from datetime import timedelta

from odoo import api, fields, models

from ..cloud import builders, constants as C
from ..cloud.errors import PayloadError


class WaMediaUpload(models.Model):
    """A file uploaded to Meta, so the same file is not uploaded twice.

    Keyed by the attachment's content checksum: sending one file again (the
    same attachment, or a copy of it) reuses Meta's media id while it lives.
    """

    _name = "wa.media.upload"
    _description = "WhatsApp Uploaded Media"
    _order = "id desc"

    account_id = fields.Many2one("wa.account", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="account_id.company_id", store=True, index=True)
    attachment_id = fields.Many2one("ir.attachment", index=True, ondelete="set null")
    checksum = fields.Char(required=True, index=True)
    media_id = fields.Char("Media ID", required=True)
    mime_type = fields.Char()
    expires_at = fields.Datetime(required=True, index=True)

    @api.model
    def _media_id_for(self, account, attachment_id, client):
        """Meta's media id for an attachment: a still-valid upload, or a new one.

        Raises the engine's MediaTooLargeError for a file Meta would refuse,
        PayloadError for an attachment that is gone.
        """
        attachment = self.env["ir.attachment"].sudo().browse(attachment_id).exists()
        if not attachment:
            raise PayloadError("attachment %s no longer exists" % attachment_id)
        mime_type = attachment.mimetype or "application/octet-stream"
        builders.check_media_file(builders.media_kind(mime_type), mime_type, attachment.file_size)
        now = fields.Datetime.now()
        upload = self.sudo().search([
            ("account_id", "=", account.id), ("checksum", "=", attachment.checksum),
            ("expires_at", ">", now + timedelta(seconds=C.MEDIA_REUSE_MARGIN_SECONDS))], limit=1)
        if upload:
            return upload.media_id
        media_id = client.upload_media(attachment.raw, mime_type, attachment.name)
        self.sudo().create({
            "account_id": account.id, "attachment_id": attachment.id,
            "checksum": attachment.checksum, "media_id": media_id, "mime_type": mime_type,
            # Counted from before the upload: never later than Meta's own expiry.
            "expires_at": now + timedelta(seconds=C.MEDIA_UPLOAD_TTL_SECONDS),
        })
        return media_id

    @api.autovacuum
    def _gc_expired(self):
        self.sudo().search([("expires_at", "<", fields.Datetime.now())]).unlink()
