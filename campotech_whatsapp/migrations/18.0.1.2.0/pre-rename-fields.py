"""Rename the fields whose names broke the addon's naming rule (18.0.1.2.0).

The rule (README, "Field names"): a field we add to another addon's model
starts with ``wa_``; error text is ``error_message`` (beside ``error_code``),
with the prefix of what failed (``media_error_message``).

Without this script the upgrade would see old fields gone and new ones
added: Odoo would create empty columns for the new names and, at the end of
the upgrade, delete the old fields' ``ir.model.fields`` rows, which drops
their columns with the customers' numbers and opt-outs in them, and with
the rows everything tied to them by id (tracked values, defaults, automation
triggers). So, before the module's models load (a ``pre-`` script):

- the column is renamed (and its index, if it has one);
- the ``ir_model_fields`` row is renamed, so it keeps its id;
- its xmlid ``field_<model>__<old>`` becomes ``field_<model>__<new>``: the
  upgrade then finds the field under its new xmlid and deletes nothing;
- the views of the model (ours and any other addon's or customisation's) say
  the new name: an upgrade validates each view it loads together with the
  views inheriting the same parent, which still hold the old arch until their
  turn comes (our two partner form extensions), so one stale name fails it;
- saved filters, export lists and automation rules of the model that name the
  old field are updated (as OpenUpgrade's ``rename_fields`` does for the
  first two; field paths through another model, e.g.
  ``partner_id.whatsapp_number``, and Python code of server actions are not
  rewritten).

Each step checks what is there first, so running the script again, or on a
database where a step is already done, changes nothing.
"""

import logging
import re

from odoo.tools import SQL
from odoo.tools.sql import column_exists, index_exists, make_index_name, rename_column

_logger = logging.getLogger(__name__)

MODULE = "campotech_whatsapp"

# (model, old name, new name, models that show the field through _inherits)
RENAMES = [
    ("res.partner", "whatsapp_number", "wa_number", ("res.users",)),
    ("res.partner", "whatsapp_opt_out", "wa_opt_out", ("res.users",)),
    ("wa.webhook.log", "error", "error_message", ()),
    ("wa.message", "media_error", "media_error_message", ()),
    # Related fields (no column): their rows and xmlids keep their ids.
    ("wa.notification", "message_error", "message_error_message", ()),
    ("wa.composer", "opted_out", "opt_out", ()),
]
# Too common a word to replace in a view's arch ("state == 'error'", CSS
# classes): the webhook log's views are reloaded from the addon's files, and
# no view inherits them.
NOT_IN_VIEWS = {"error"}

# A domain leaf naming the field: ('old', <operator>, ...) or ["old", <operator>, ...].
# The operator is required so that a value equal to the old name (the webhook
# log's state 'error') is left alone.
_OPERATORS = r"(?:=|!=|<>|<=|>=|<|>|=\?|=?like|=?ilike|not like|not ilike|in|not in" \
             r"|child_of|parent_of|any|not any)"
_GROUPBY_KEYS = ("group_by", "col_group_by", "graph_groupbys", "pivot_row_groupby",
                 "pivot_column_groupby", "pivot_measures", "graph_measure")


def migrate(cr, version):
    if not version:
        return
    for model, old, new, inheriting in RENAMES:
        _rename_column(cr, model.replace(".", "_"), old, new)
        for field_model in (model, *inheriting):
            _rename_field_row(cr, field_model, old, new)
            _rename_field_xmlid(cr, field_model, old, new)
            if old not in NOT_IN_VIEWS:
                _rename_in_views(cr, field_model, old, new)
        _rename_references(cr, model, old, new)


def _rename_column(cr, table, old, new):
    if not column_exists(cr, table, old):
        return  # a related field, or already renamed
    if column_exists(cr, table, new):
        # Not made by this script: leave both for a person rather than guess
        # which holds the data.
        _logger.warning("%s: %s.%s and %s.%s both exist; the column %s is not renamed",
                        MODULE, table, old, table, new, old)
        return
    rename_column(cr, table, old, new)
    old_index, new_index = make_index_name(table, old), make_index_name(table, new)
    if index_exists(cr, old_index) and not index_exists(cr, new_index):
        cr.execute(SQL("ALTER INDEX %s RENAME TO %s",
                       SQL.identifier(old_index), SQL.identifier(new_index)))
    _logger.info("%s: renamed column %s.%s to %s", MODULE, table, old, new)


def _rename_field_row(cr, model, old, new):
    cr.execute(SQL(
        """UPDATE ir_model_fields SET name = %(new)s
            WHERE model = %(model)s AND name = %(old)s
              AND NOT EXISTS (SELECT 1 FROM ir_model_fields
                               WHERE model = %(model)s AND name = %(new)s)""",
        model=model, old=old, new=new))
    if cr.rowcount:
        _logger.info("%s: renamed field %s.%s to %s", MODULE, model, old, new)
        return
    cr.execute(SQL("SELECT 1 FROM ir_model_fields WHERE model = %s AND name = %s", model, old))
    if cr.rowcount:
        # Both rows exist: the upgrade deletes the old one as a field gone from the code.
        _logger.warning("%s: fields %s.%s and %s.%s both exist; %s is not renamed",
                        MODULE, model, old, model, new, old)


def _rename_field_xmlid(cr, model, old, new):
    prefix = "field_%s__" % model.replace(".", "_")
    cr.execute(SQL(
        """UPDATE ir_model_data SET name = %(new)s
            WHERE module = %(module)s AND model = 'ir.model.fields' AND name = %(old)s
              AND NOT EXISTS (SELECT 1 FROM ir_model_data
                               WHERE module = %(module)s AND name = %(new)s)""",
        module=MODULE, old=prefix + old, new=prefix + new))


def _rename_in_views(cr, model, old, new):
    # arch_db is translatable (jsonb); a field name needs no JSON escaping.
    # \m and \M: PostgreSQL's word boundaries (an underscore is part of a word).
    cr.execute(SQL(
        r"""UPDATE ir_ui_view
               SET arch_db = regexp_replace(arch_db::text, %(pattern)s, %(new)s, 'g')::jsonb
             WHERE model = %(model)s AND arch_db::text ~ %(pattern)s""",
        model=model, pattern=r"\m%s\M" % old, new=new))
    if cr.rowcount:
        _logger.info("%s: %s view(s) of %s now name %s instead of %s",
                     MODULE, cr.rowcount, model, new, old)


def _rename_references(cr, model, old, new):
    """Saved filters (domain, grouping) and export lists of ``model`` naming the field."""
    cr.execute(SQL("UPDATE ir_exports_line l SET name = %s FROM ir_exports e "
                   "WHERE l.export_id = e.id AND e.resource = %s AND l.name = %s",
                   new, model, old))
    leaf = re.compile(r"""([(\[]\s*)(['"])%s\2(\s*,\s*['"]%s['"])""" % (re.escape(old), _OPERATORS))
    # 'group_by': 'old' or 'group_by': ['other', 'old:month'], and the like.
    grouping = re.compile(r"""(['"](?:%s)['"]\s*:\s*)(\[[^\]]*\]|'[^']*'|"[^"]*")""" % (
        "|".join(_GROUPBY_KEYS)))
    element = re.compile(r"""(['"])%s((?::\w+)?)\1""" % re.escape(old))

    def rename_leaf(match):
        return match[1] + match[2] + new + match[2] + match[3]

    def rename_grouping(match):
        return match[1] + element.sub(lambda e: e[1] + new + e[2] + e[1], match[2])

    cr.execute(SQL("SELECT id, domain, context FROM ir_filters WHERE model_id = %s", model))
    for filter_id, domain, context in cr.fetchall():
        new_domain = leaf.sub(rename_leaf, domain) if domain else domain
        new_context = grouping.sub(rename_grouping, context) if context else context
        if (new_domain, new_context) != (domain, context):
            cr.execute(SQL("UPDATE ir_filters SET domain = %s, context = %s WHERE id = %s",
                           new_domain, new_context, filter_id))
            _logger.info("%s: saved filter %s now names %s instead of %s",
                         MODULE, filter_id, new, old)
    cr.execute(SQL(
        """SELECT a.id, a.filter_domain, a.filter_pre_domain
             FROM base_automation a JOIN ir_model m ON m.id = a.model_id
            WHERE m.model = %s""", model))
    for rule_id, domain, pre_domain in cr.fetchall():
        new_domain = leaf.sub(rename_leaf, domain) if domain else domain
        new_pre_domain = leaf.sub(rename_leaf, pre_domain) if pre_domain else pre_domain
        if (new_domain, new_pre_domain) != (domain, pre_domain):
            cr.execute(SQL(
                "UPDATE base_automation SET filter_domain = %s, filter_pre_domain = %s WHERE id = %s",
                new_domain, new_pre_domain, rule_id))
            _logger.info("%s: automation rule %s now names %s instead of %s",
                         MODULE, rule_id, new, old)
