import json
import re

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import file_open

from ..cloud import constants as C, template_seeds, templates
from ..cloud.errors import CloudApiError, PayloadError
from ..cloud.template_compose import compose_definition

# "draft" is ours: written in Odoo, not yet submitted. The others are Meta's.
DRAFT = "draft"
STATUSES = [(DRAFT, "Draft")] + [(status, status.capitalize()) for status in C.TEMPLATE_STATUSES]
CATEGORIES = [(category, category.capitalize()) for category in C.TEMPLATE_CATEGORIES]
PARAMETER_FORMATS = [(fmt.lower(), fmt.capitalize()) for fmt in C.TEMPLATE_PARAMETER_FORMATS]
HEADER_FORMATS = [("none", "None")] + [
    (fmt.lower(), fmt.capitalize()) for fmt in C.TEMPLATE_HEADER_FORMATS]
SEEDED_PARAM = "campotech_whatsapp.templates_seeded"
# Shipped sample files for Meta's review of a media header (no record to print).
SAMPLE_FILES = {
    "document": ("campotech_whatsapp/static/samples/header_sample.pdf", "application/pdf",
                 "muestra.pdf"),
    "image": ("campotech_whatsapp/static/samples/header_sample.jpg", "image/jpeg", "muestra.jpg"),
}
# What a form may write on a template Meta has not seen yet.
CONTENT_FIELDS = ("name", "language", "category", "parameter_format", "header_format",
                  "header_text", "header_handle", "body_text", "footer_text", "button_ids")


def _clean_filename(name):
    return re.sub(r"[\\/:*?\"<>|\s]+", "-", name or "").strip("-") or "document"


class WaTemplate(models.Model):
    _name = "wa.template"
    _inherit = ["wa.company.guard"]
    _wa_company_parents = ("account_id",)
    _description = "WhatsApp Template"
    _order = "name, language"

    account_id = fields.Many2one("wa.account", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="account_id.company_id", store=True, index=True)
    name = fields.Char(required=True, index=True,
                       help="Lowercase letters, digits and underscores, as Meta requires.")
    language = fields.Char(required=True, default=template_seeds.LANGUAGE)
    category = fields.Selection(CATEGORIES, default="utility", required=True)
    status = fields.Selection(STATUSES, default=DRAFT, required=True, index=True, copy=False)
    meta_template_id = fields.Char("Meta Template ID", index=True, copy=False)
    components = fields.Json(default=list, copy=False,
                             help="The definition Meta approved (or was sent for review).")
    body_preview = fields.Text(compute="_compute_body_preview", store=True)
    rejection_reason = fields.Char(
        "Reason", copy=False,
        help="Why Meta rejected, paused or disabled the template, as Meta said it.")
    active = fields.Boolean(default=True)

    model_id = fields.Many2one(
        "ir.model", "Record Model", ondelete="set null",
        domain=[("transient", "=", False)],
        help="The kind of record (job, invoice, contact) the variables read their values from.")
    model = fields.Char(related="model_id.model", string="Record Model Name")
    parameter_format = fields.Selection(
        PARAMETER_FORMATS, default="positional", required=True,
        help="Positional: {{1}}, {{2}}… Named: {{customer_name}}…")
    header_format = fields.Selection(HEADER_FORMATS, "Header", default="none", required=True)
    header_text = fields.Char()
    header_handle = fields.Char(
        "Header Sample Handle",
        help="Meta's handle of a sample file for a media header (Resumable Upload API); "
             "Meta's review needs one.")
    body_text = fields.Text("Body")
    footer_text = fields.Char("Footer")
    button_ids = fields.One2many("wa.template.button", "template_id", copy=True)
    variable_ids = fields.One2many("wa.template.variable", "template_id", copy=True)
    preview_ref = fields.Reference(
        selection="_selection_preview_models", string="Preview Record",
        help="A record to render the preview with; the samples fill what it lacks.")
    preview_text = fields.Text("Preview", compute="_compute_preview_text")

    _sql_constraints = [
        ("name_language_uniq", "unique(account_id, name, language)",
         "A template name exists once per language and account."),
    ]

    @api.model
    def _selection_preview_models(self):
        models_ = self.env["ir.model"].sudo().search([
            ("model", "in", ("res.partner", "project.task", "account.move"))])
        return [(m.model, m.name) for m in models_]

    @api.depends("components", "body_text", "status")
    def _compute_body_preview(self):
        for template in self:
            if template.status == DRAFT or not template.components:
                template.body_preview = template.body_text or False
                continue
            template.body_preview = "\n".join(
                component.get("text", "") for component in template.components or []
                if isinstance(component, dict) and component.get("type", "").upper() == "BODY")

    @api.depends("preview_ref", "body_text", "header_text", "footer_text", "header_format",
                 "components", "variable_ids.source", "variable_ids.field_path",
                 "variable_ids.fixed_value", "variable_ids.sample_value", "button_ids.text")
    def _compute_preview_text(self):
        for template in self:
            try:
                template.preview_text = template._render_preview(template.preview_ref or None)
            except (UserError, PayloadError) as error:
                template.preview_text = str(error)

    # --- The definition --------------------------------------------------------

    def _samples(self):
        return {var.key: var.sample_value for var in self.variable_ids if var.sample_value}

    def _compose(self):
        """Meta's definition from the form's fields, samples as examples."""
        self.ensure_one()
        return compose_definition(
            self.name, self.language, self.category, self.body_text or "",
            parameter_format=self.parameter_format,
            header_format=None if self.header_format == "none" else self.header_format,
            header_text=self.header_text, header_handle=self.header_handle,
            footer=self.footer_text, samples=self._samples(),
            buttons=[button._meta_button() for button in self.button_ids])

    def _send_definition(self):
        """The definition a send is checked against: Meta's, or the draft's own."""
        self.ensure_one()
        if self.components and self.status != DRAFT:
            definition = {"name": self.name, "language": self.language,
                          "category": self.category.upper(), "components": self.components}
            if self.parameter_format:
                definition["parameter_format"] = self.parameter_format.upper()
            return definition
        return self._compose()

    def _engine_template(self):
        try:
            return templates.Template.from_definition(self._send_definition())
        except PayloadError as error:
            raise UserError(str(error)) from None

    def _sync_variables(self):
        """One variable row per value the template needs, keeping the mappings
        of rows that still exist."""
        for template in self:
            wanted = template._engine_template().variables()
            rows = {var.key: var for var in template.variable_ids}
            for sequence, var in enumerate(wanted):
                values = {"sequence": sequence, "name": var.name, "component": var.component,
                          "kind": var.kind, "button_index": var.index or 0}
                row = rows.pop(var.key, None)
                if row:
                    row.write({k: v for k, v in values.items() if row[k] != v})
                else:
                    values.update(template_id=template.id, key=var.key,
                                  **template._default_mapping(var))
                    self.env["wa.template.variable"].create(values)
            if rows:
                self.env["wa.template.variable"].browse(r.id for r in rows.values()).unlink()

    def _default_mapping(self, var):
        if var.component == "button" and var.kind == "text":
            button = self.button_ids.sorted("sequence")[var.index:var.index + 1]
            if button.button_type == "url" and self.model and hasattr(
                    self.env[self.model], "get_portal_url"):
                return {"source": "portal_url"}
        if var.component == "header" and var.kind == "document" and self.model == "account.move":
            report = self.env.ref("account.account_invoices", raise_if_not_found=False)
            if report:
                return {"source": "report", "report_id": report.id}
        if var.component == "header" and var.kind != "text":
            return {"source": "fixed"}
        return {"source": "field" if self.model else "fixed"}

    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        records._sync_variables()
        return records

    def write(self, vals):
        if not self.env.context.get("wa_template_sync"):
            locked = self.filtered(lambda t: t.status != DRAFT)
            edited = set(vals) & set(CONTENT_FIELDS)
            if locked and edited:
                raise UserError(_(
                    "Template %s was already submitted to Meta: its content can no longer be "
                    "changed here. Create a new template (or a copy) instead.", locked[0].name))
        result = super().write(vals)
        if set(vals) & (set(CONTENT_FIELDS) | {"components", "status"}):
            self._sync_variables()
        return result

    def copy_data(self, default=None):
        vals_list = super().copy_data(default)
        for template, vals in zip(self, vals_list):
            if "name" not in (default or {}):
                vals["name"] = "%s_copy" % template.name
            vals.setdefault("status", DRAFT)
        return vals_list

    # --- Meta's side: sync, status webhooks, submission --------------------------

    @api.model
    def _content_from_components(self, definition):
        """Form fields of a definition Meta sent (so a synced template reads like
        a written one), the buttons as commands."""
        parsed = templates.Template.from_definition(definition)
        header = parsed.component("HEADER") or {}
        buttons = [(5, 0, 0)]
        for sequence, button in enumerate(parsed.buttons):
            kind = (button.get("type") or "").lower()
            if kind in dict(self.env["wa.template.button"]._fields["button_type"].selection):
                buttons.append((0, 0, {
                    "sequence": sequence, "button_type": kind, "text": button.get("text"),
                    "url": button.get("url") or False,
                    "phone_number": button.get("phone_number") or False}))
        header_format = parsed.header_format or "none"
        return {
            "parameter_format": parsed.parameter_format.lower(),
            "header_format": header_format if header_format in dict(HEADER_FORMATS) else "none",
            "header_text": parsed.header_text or False,
            "header_handle": ((header.get("example") or {}).get("header_handle") or [False])[0],
            "body_text": parsed.body_text or False,
            "footer_text": parsed.footer_text or False,
            "button_ids": buttons,
        }

    @api.model
    def _sync_from_meta(self, account, definitions):
        """Create or update the account's templates from Meta's list."""
        synced = self.with_context(wa_template_sync=True, active_test=False)
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
                **self._content_from_components(definition),
            }
            if values["rejection_reason"] == "NONE":
                values["rejection_reason"] = False
            existing = synced.search([
                ("account_id", "=", account.id), ("name", "=", parsed.name),
                ("language", "=", parsed.language)], limit=1)
            if existing:
                existing.write(values)
            else:
                synced.create(values)
        return len(definitions)

    @api.model
    def _apply_status_update(self, account, update):
        """Apply a message_template_status_update webhook; returns the templates changed."""
        domain = [("account_id", "=", account.id)]
        found = self.browse()
        if update.template_id:
            found = self.with_context(active_test=False).search(
                domain + [("meta_template_id", "=", update.template_id)])
        if not found and update.name:
            found = self.with_context(active_test=False).search(
                domain + [("name", "=", update.name)]
                + ([("language", "=", update.language)] if update.language else []))
        if found and update.status in dict(STATUSES):
            values = {"status": update.status, "rejection_reason": update.reason or False}
            if update.template_id:
                values["meta_template_id"] = update.template_id
            found.with_context(wa_template_sync=True).write(values)
        return found

    def action_submit(self):
        """Submit drafts to Meta for review ("Submit to Meta")."""
        for template in self:
            if template.status != DRAFT:
                raise UserError(_("Template %(name)s is %(status)s; only drafts are submitted.",
                                  name=template.name, status=template.status))
            if template.header_format in ("image", "video", "document") \
                    and not template.header_handle:
                template.header_handle = template._upload_header_sample()
            definition = template._compose()
            try:
                templates.validate_definition(definition)
            except PayloadError as error:
                raise UserError(_("Meta would refuse this template: %s", error)) from None
            try:
                answer = template.account_id._client().create_template(definition)
            except (CloudApiError, PayloadError, ValueError) as error:
                raise UserError(_("Meta refused template %(name)s: %(error)s",
                                  name=template.name, error=error)) from None
            status = str(answer.get("status") or "pending").lower()
            category = str(answer.get("category") or template.category).lower()
            template.with_context(wa_template_sync=True).write({
                "status": status if status in dict(STATUSES) else "pending",
                "category": category if category in dict(CATEGORIES) else template.category,
                "meta_template_id": str(answer.get("id") or "") or False,
                "components": definition["components"],
                "rejection_reason": False,
            })
        return True

    def _header_sample(self):
        """(bytes, mime type, file name) of a sample for the media header: the
        report of a document header printed for the preview record or the
        newest record it prints, else the file the addon ships."""
        self.ensure_one()
        header = self.variable_ids.filtered(
            lambda v: v.component == "header" and v.source == "report" and v.report_id)[:1]
        if self.header_format == "document" and header:
            report = header.report_id
            record = self.preview_ref if self.preview_ref and \
                self.preview_ref._name == report.model else None
            if record is None:
                model = self.env[report.model]
                domain = ([("move_type", "in", ("out_invoice", "out_refund"))]
                          if "move_type" in model._fields else [])
                record = model.search(domain, order="id desc", limit=1) or None
            if record:
                content, report_type = self.env["ir.actions.report"].sudo()._render_qweb_pdf(
                    report.report_name, [record.id])
                # Without wkhtmltopdf (tests) Odoo renders HTML, which Meta refuses.
                if report_type == "pdf" and content:
                    return content, "application/pdf", "%s.pdf" % _clean_filename(
                        record.display_name)
        if self.header_format not in SAMPLE_FILES:
            raise UserError(_("Template %(name)s has a %(format)s header: paste the Header "
                              "Sample Handle of a sample file uploaded to Meta.",
                              name=self.name, format=self.header_format))
        path, mimetype, filename = SAMPLE_FILES[self.header_format]
        with file_open(path, "rb") as sample:
            return sample.read(), mimetype, filename

    def _upload_header_sample(self):
        """Meta's handle for a sample of the media header (Resumable Upload API)."""
        self.ensure_one()
        account = self.account_id
        if not account.app_id:
            raise UserError(_("Template %(name)s has a media header: Meta's review needs a "
                              "sample file, uploaded to your Meta app. Set the Meta App ID of "
                              "WhatsApp account %(account)s (Settings > WhatsApp) first.",
                              name=self.name, account=account.name))
        content, mimetype, filename = self._header_sample()
        try:
            return account._client().upload_sample(account.app_id, content, mimetype, filename)
        except (CloudApiError, ValueError) as error:
            raise UserError(_("Meta refused the header sample of template %(name)s: %(error)s",
                              name=self.name, error=error)) from None

    # --- Seeds -------------------------------------------------------------------

    @api.model
    def _seed_existing_accounts(self):
        """Once per database (install, or the upgrade from 18.0.1.0.0): seed the
        accounts that exist, and fill the form fields of templates read from
        Meta before the form had them. Accounts created later are seeded by
        wa.account.create."""
        params = self.env["ir.config_parameter"].sudo()
        if params.get_param(SEEDED_PARAM):
            return
        synced = self.sudo().with_context(active_test=False, wa_template_sync=True)
        for template in synced.search([("body_text", "=", False)]):
            if template.components:
                definition = {"name": template.name, "language": template.language,
                              "components": template.components}
                template.write(self._content_from_components(definition))
        accounts = self.env["wa.account"].sudo().with_context(active_test=False).search([])
        synced._seed_accounts(accounts)
        params.set_param(SEEDED_PARAM, "1")

    @api.model
    def _seed_accounts(self, accounts):
        """Give accounts the five seed templates as drafts (those they lack)."""
        base_url = self.env["ir.config_parameter"].sudo().get_param("web.base.url", "")
        created = self.browse()
        for account in accounts:
            existing = set(self.with_context(active_test=False).search(
                [("account_id", "=", account.id)]).mapped(lambda t: (t.name, t.language)))
            for seed in template_seeds.SEEDS:
                if (seed["name"], template_seeds.LANGUAGE) in existing:
                    continue
                created |= self._create_seed(account, seed, base_url)
        return created

    def _create_seed(self, account, seed, base_url):
        model = self.env["ir.model"]._get(seed["model"])
        template = self.create({
            "account_id": account.id, "name": seed["name"],
            "language": template_seeds.LANGUAGE, "category": template_seeds.CATEGORY,
            "parameter_format": "named", "model_id": model.id,
            "header_format": (seed.get("header") or "none").lower(),
            "body_text": seed["body"],
            "button_ids": [(0, 0, {"sequence": i, "button_type": b["type"].lower(),
                                   "text": b["text"], "url": b.get("url") or False})
                           for i, b in enumerate(template_seeds.seed_buttons(seed, base_url))],
        })
        for spec in seed["variables"]:
            key = ("button.%d" % spec["button_index"] if spec.get("component") == "button"
                   else spec["name"])
            row = template.variable_ids.filtered(lambda v, key=key: v.key == key)
            values = {"sample_value": spec["sample"], "source": spec.get("source", "field"),
                      "field_path": spec.get("field") or False}
            if spec.get("report"):
                report = self.env.ref(spec["report"], raise_if_not_found=False)
                values["report_id"] = report.id if report else False
            row.write(values)
        return template

    # --- Sending ------------------------------------------------------------------

    def _variable_values(self, record=None, values=None, samples=False):
        """Value per variable key: the override in values (by key, or by name
        for body and named variables), else the mapping on record; with
        samples, the sample fills what is still missing (previews)."""
        self.ensure_one()
        values = {str(k): v for k, v in (values or {}).items() if v not in (None, False, "")}
        if record and self.model and record._name != self.model:
            record = None  # the mappings read another model: the values must say it all
        out = {}
        for var in self.variable_ids:
            if var.key in values:
                out[var.key] = values[var.key]
            elif var.component == "body" and var.name in values:
                out[var.key] = values[var.name]
            elif var.component == "header" and var.kind == "text" and self.parameter_format == "named" \
                    and var.name in values:
                out[var.key] = values[var.name]
            else:
                value = var._value(record, render_media=not samples)
                if value is None and samples and var.sample_value:
                    value = var.sample_value
                if value is not None:
                    out[var.key] = value
        return out

    def _render_preview(self, record=None, values=None):
        """The message as the customer will read it, for record."""
        self.ensure_one()
        shown = {}
        for key, value in self._variable_values(record, values, samples=True).items():
            if isinstance(value, dict):  # a media header: show its file name
                value = value.get("filename") or value.get("kind")
            shown[key] = value
        return templates.render(self._send_definition(), shown)

    def _prepare_send(self, record=None, values=None):
        """What the queue sends: name, language, Meta's components, the text shown
        in the chat and the parameters filled in (JSON).

        values (variable name/position → text) override the mapped ones;
        "button.<index>" gives a quick-reply button its payload. A media
        header is {"attachment_id", "filename"} in place of Meta's id: the queue
        uploads it when it sends. Raises UserError with the engine's message.
        """
        self.ensure_one()
        if self.status != "approved":
            raise UserError(_("Template %(name)s (%(language)s) is %(status)s at Meta; only "
                              "approved templates can be sent.", name=self.name,
                              language=self.language,
                              status=dict(self._fields["status"]._description_selection(
                                  self.env))[self.status]))
        record = record or None
        filled = self._variable_values(record, values)
        definition = self._send_definition()
        # Quick-reply payloads are no variable: they come only from values
        # ("button.0": "confirm-task-12"), so a tap can name its record.
        for key in templates.Template.from_definition(definition).optional_keys():
            if (values or {}).get(key):
                filled[key] = values[key]
        engine_values, media = {}, {}
        for key, value in filled.items():
            if isinstance(value, dict):
                media[key] = value
                engine_values[key] = templates.Media(value["kind"], id=str(value["attachment_id"]),
                                                     filename=value.get("filename"))
            else:
                engine_values[key] = value
        try:
            components = templates.build_components(definition, engine_values)
        except PayloadError as error:
            raise UserError(str(error)) from None
        for component in components:
            if component["type"] != "header":
                continue
            for param in component["parameters"]:
                kind = param["type"]
                if kind in ("image", "video", "document") and "header" in media:
                    obj = {"attachment_id": media["header"]["attachment_id"]}
                    if kind == "document" and media["header"].get("filename"):
                        obj["filename"] = media["header"]["filename"]
                    param[kind] = obj
        params = {}
        for key, value in filled.items():
            if isinstance(value, dict):
                params[key] = {k: value[k] for k in ("attachment_id", "filename") if value.get(k)}
            else:
                params[key] = str(value)
        shown = {k: (v.get("filename") if isinstance(v, dict) else v) for k, v in filled.items()}
        return {
            "name": self.name,
            "language": self.language,
            "components": components,
            "body": templates.render(definition, shown),
            "params": params,
        }

    def _report_attachment(self, report, record):
        """The record's report rendered into an attachment (PDF; HTML while
        tests run without force_report_rendering)."""
        content, report_type = self.env["ir.actions.report"].sudo()._render_qweb_pdf(
            report.report_name, [record.id])
        base = (record._get_report_base_filename() if hasattr(record, "_get_report_base_filename")
                else record.display_name)
        extension, mimetype = ("pdf", "application/pdf") if report_type == "pdf" else (
            "html", "text/html")
        if isinstance(content, str):
            content = content.encode()
        return self.env["ir.attachment"].sudo().create({
            "name": "%s.%s" % (_clean_filename(base), extension), "raw": content,
            "mimetype": mimetype, "res_model": record._name, "res_id": record.id,
        })
