"""The static checker, run against small fake addons written to a temp dir."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("static_checks", ROOT / "tools" / "static_checks.py")
sc = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = sc  # dataclasses look their module up by name
_spec.loader.exec_module(sc)

MANIFEST = {
    "name": "Fake",
    "version": "18.0.1.0.0",
    "license": "LGPL-3",
    "depends": ["mail"],
    "data": ["security/ir.model.access.csv", "views/fake_views.xml"],
    "assets": {"web.assets_backend": ["fake_addon/static/src/**/*.js", "fake_addon/static/src/fake.scss"]},
}
ACCESS = (
    "id,name,model_id:id,group_id:id,perm_read,perm_write,perm_create,perm_unlink\n"
    "access_fake_thing,fake.thing,model_fake_thing,base.group_user,1,1,1,0\n"
    "access_fake_wizard,fake.wizard,model_fake_wizard,base.group_user,1,1,1,1\n"
)
MODELS = '''
from odoo import fields, models


class FakeThing(models.Model):
    _name = "fake.thing"
    _inherit = ["mail.thread"]
    _description = "Thing"
    name = fields.Char()


class FakeWizard(models.TransientModel):
    _name = "fake.wizard"
    _description = "Wizard"


class FakeMixin(models.AbstractModel):
    _name = "fake.mixin"
    _description = "Mixin, needs no access rule"


class ResPartner(models.Model):
    _name = "res.partner"
    _inherit = "res.partner"
'''
VIEWS = """<?xml version="1.0" encoding="utf-8"?>
<odoo>
    <record id="fake_thing_view_list" model="ir.ui.view">
        <field name="name">fake.thing.list</field>
        <field name="model">fake.thing</field>
        <field name="arch" type="xml">
            <list><field name="name" invisible="not name"/></list>
        </field>
    </record>
    <record id="fake_thing_action" model="ir.actions.act_window">
        <field name="name">Things</field>
        <field name="res_model">fake.thing</field>
        <field name="view_mode">list,form</field>
    </record>
</odoo>
"""
PO = '''# Translation
msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\\n"

#. module: fake_addon
#: model:ir.model,name:fake_addon.model_fake_thing
msgid "Thing"
msgstr "Cosa"

msgid "One message"
msgid_plural "%d messages"
msgstr[0] "Un mensaje"
msgstr[1] "%d mensajes"
'''


def good_files():
    return {
        "__init__.py": "from . import models\n",
        "__manifest__.py": repr(MANIFEST),
        "models/__init__.py": "from . import fake_thing\n",
        "models/fake_thing.py": MODELS,
        "security/ir.model.access.csv": ACCESS,
        "views/fake_views.xml": VIEWS,
        "static/src/fake.scss": ".o_fake { color: red; }\n",
        "static/src/js/fake.js": "/** @odoo-module */\n",
        "static/src/xml/fake.xml": '<templates><t t-name="fake.Tree"><div/></t></templates>\n',
        "cloud/__init__.py": "",
        "cloud/client.py": "import requests\n\nfrom .errors import CloudError\n",
        "cloud/errors.py": "class CloudError(Exception):\n    pass\n",
        "cloud/simulator/__init__.py": "from ..errors import CloudError\n",
        "tests/__init__.py": "from . import test_thing\n",
        "tests/test_thing.py": "from odoo.tests import TransactionCase\n",
        "i18n/es.po": PO,
    }


def make_addon(tmp_path, overrides=None, remove=()):
    files = good_files()
    files.update(overrides or {})
    root = tmp_path / "fake_addon"
    for rel, content in files.items():
        if rel in remove:
            continue
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    return root


def manifest_with(**changes):
    manifest = dict(MANIFEST)
    for key, value in changes.items():
        if value is None:
            manifest.pop(key, None)
        else:
            manifest[key] = value
    return {"__manifest__.py": repr(manifest)}


def errors_of(addon_dir, check_name):
    results = {r.name: r for r in sc.run_checks(addon_dir)}
    assert check_name in results, f"unknown check {check_name!r}: {sorted(results)}"
    return results[check_name].errors


def all_errors(addon_dir):
    return [e for r in sc.run_checks(addon_dir) for e in r.errors]


def test_good_addon_passes_every_check(tmp_path):
    addon = make_addon(tmp_path)
    assert all_errors(addon) == []
    assert sc.main([str(addon)]) == 0


def test_cli_exits_one_and_names_the_problem(tmp_path):
    addon = make_addon(tmp_path, {"views/fake_views.xml": "<odoo><record></odoo>"})
    proc = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "static_checks.py"), str(addon)],
        capture_output=True, text=True, check=False)
    assert proc.returncode == 1
    assert "[FAIL] xml/csv well-formed" in proc.stdout
    assert "fake_addon/views/fake_views.xml:1: XML not well-formed" in proc.stdout


def test_malformed_csv_row_is_reported(tmp_path):
    addon = make_addon(tmp_path, {"security/ir.model.access.csv": ACCESS + "access_x,x,model_fake_thing,,1\n"})
    assert any(":4: 5 fields, header has 8" in e for e in errors_of(addon, "xml/csv well-formed"))


def test_python_syntax_error_is_reported(tmp_path):
    addon = make_addon(tmp_path, {"models/fake_thing.py": MODELS + "\ndef broken(:\n"})
    assert any("fake_addon/models/fake_thing.py" in e and "syntax error" in e
               for e in errors_of(addon, "python files parse"))


@pytest.mark.parametrize("version", ["17.0.1.0.0", "18.0.1.0", "1.0", 18])
def test_manifest_version_must_be_18_0_x_y_z(tmp_path, version):
    addon = make_addon(tmp_path, manifest_with(version=version))
    assert any("does not match 18.0.x.y.z" in e for e in errors_of(addon, "manifest keys and version"))


@pytest.mark.parametrize("key", ["name", "version", "license", "depends", "data"])
def test_manifest_missing_required_key_fails(tmp_path, key):
    addon = make_addon(tmp_path, manifest_with(**{key: None}))
    assert f"fake_addon/__manifest__.py: missing key {key!r}" in errors_of(addon, "manifest keys and version")


def test_manifest_that_is_not_a_literal_fails(tmp_path):
    addon = make_addon(tmp_path, {"__manifest__.py": "{'name': 'x', 'data': open('f').read()}"})
    assert any("not a Python literal" in e for e in errors_of(addon, "manifest keys and version"))


def test_manifest_listing_a_file_twice_fails(tmp_path):
    data = MANIFEST["data"] + ["views/fake_views.xml"]
    addon = make_addon(tmp_path, manifest_with(data=data))
    assert any("lists 'views/fake_views.xml' twice" in e for e in errors_of(addon, "manifest keys and version"))


def test_manifest_data_file_missing_on_disk_fails(tmp_path):
    addon = make_addon(tmp_path, manifest_with(data=MANIFEST["data"] + ["views/ghost_views.xml"]))
    assert errors_of(addon, "manifest files exist") == [
        "fake_addon/__manifest__.py: data file 'views/ghost_views.xml' does not exist"]


def test_manifest_asset_missing_or_unmatched_glob_fails(tmp_path):
    assets = {"web.assets_backend": [
        "fake_addon/static/src/missing.js",
        "fake_addon/static/nothing/**/*.js",
        ("include", "web._assets_helpers"),
        ("remove", "web/static/src/other.js"),
        ("after", "web/static/src/x.js", "fake_addon/static/src/after.js"),
    ]}
    addon = make_addon(tmp_path, manifest_with(assets=assets))
    errors = errors_of(addon, "manifest files exist")
    assert len(errors) == 3, errors
    assert any("'fake_addon/static/src/missing.js' does not exist" in e for e in errors)
    assert any("glob 'fake_addon/static/nothing/**/*.js' matches no file" in e for e in errors)
    assert any("'fake_addon/static/src/after.js' does not exist" in e for e in errors)


def test_unlisted_data_file_fails(tmp_path):
    addon = make_addon(tmp_path, {"data/ir_cron_data.xml": "<odoo/>"})
    assert errors_of(addon, "data files listed in manifest") == [
        "fake_addon/data/ir_cron_data.xml: not listed in manifest 'data' or 'demo' (Odoo never loads it)"]


def test_demo_file_listed_under_demo_is_fine(tmp_path):
    addon = make_addon(tmp_path, {"demo/fake_demo.xml": "<odoo/>", **manifest_with(demo=["demo/fake_demo.xml"])})
    assert all_errors(addon) == []


def test_data_file_with_openerp_root_fails(tmp_path):
    addon = make_addon(tmp_path, {"views/fake_views.xml": VIEWS.replace("odoo>", "openerp>")})
    assert errors_of(addon, "data xml root is <odoo>") == [
        "fake_addon/views/fake_views.xml: root element is <openerp>, expected <odoo>"]


def test_model_without_access_line_fails(tmp_path):
    access = "\n".join(line for line in ACCESS.splitlines() if "wizard" not in line) + "\n"
    addon = make_addon(tmp_path, {"security/ir.model.access.csv": access})
    errors = errors_of(addon, "access rules cover every model")
    assert len(errors) == 1, errors
    assert "model 'fake.wizard'" in errors[0] and "model_fake_wizard" in errors[0]


def test_abstract_and_inherited_models_need_no_access_line(tmp_path):
    addon = make_addon(tmp_path)
    models = sc.find_new_models(sc.Addon(addon))
    assert sorted(models) == ["fake.thing", "fake.wizard"]


def test_access_line_prefixed_with_own_module_counts(tmp_path):
    access = ACCESS.replace(",model_fake_thing,", ",fake_addon.model_fake_thing,")
    addon = make_addon(tmp_path, {"security/ir.model.access.csv": access})
    assert errors_of(addon, "access rules cover every model") == []


def test_access_csv_with_wrong_header_fails(tmp_path):
    access = ACCESS.replace("model_id:id,group_id:id", "model_id,group_id")
    addon = make_addon(tmp_path, {"security/ir.model.access.csv": access})
    errors = errors_of(addon, "access rules cover every model")
    assert len(errors) == 1 and "expected id,name,model_id:id,group_id:id" in errors[0]


def test_access_line_for_unknown_local_model_fails(tmp_path):
    access = ACCESS + "access_ghost,ghost,model_fake_ghost,,1,0,0,0\n"
    addon = make_addon(tmp_path, {"security/ir.model.access.csv": access})
    errors = errors_of(addon, "access rules cover every model")
    assert len(errors) == 1 and "'model_fake_ghost' names no model defined in this addon" in errors[0]


def test_access_bad_permission_and_duplicate_id_fail(tmp_path):
    access = ACCESS + "access_fake_thing,again,model_fake_thing,,1,yes,0,0\n"
    addon = make_addon(tmp_path, {"security/ir.model.access.csv": access})
    errors = errors_of(addon, "access rules cover every model")
    assert any("duplicate id 'access_fake_thing'" in e for e in errors)
    assert any("perm_write is 'yes'" in e for e in errors)


def test_missing_access_csv_with_models_fails(tmp_path):
    addon = make_addon(tmp_path, manifest_with(data=["views/fake_views.xml"]),
                       remove=("security/ir.model.access.csv",))
    errors = errors_of(addon, "access rules cover every model")
    assert len(errors) == 1 and "fake.thing, fake.wizard" in errors[0]


@pytest.mark.parametrize("source, fragment", [
    ("import odoo\n", "imports 'odoo'"),
    ("from odoo import fields\n", "imports 'odoo'"),
    ("from odoo.tools import config\n", "imports 'odoo.tools'"),
    ("import importlib\nimportlib.import_module('odoo.http')\n", "imports 'odoo.http'"),
    ("from fake_addon.cloud import errors\n", "absolute import"),
    ("from .. import models\n", "relative import leaves cloud/"),
])
def test_engine_importing_odoo_or_leaving_cloud_fails(tmp_path, source, fragment):
    addon = make_addon(tmp_path, {"cloud/client.py": source})
    errors = errors_of(addon, "no odoo import in cloud/")
    assert len(errors) == 1 and fragment in errors[0], errors
    assert "fake_addon/cloud/client.py:" in errors[0]


def test_engine_subpackage_may_import_sibling_modules(tmp_path):
    addon = make_addon(tmp_path, {"cloud/simulator/server.py": "from ..errors import CloudError\nfrom . import x\n"})
    assert errors_of(addon, "no odoo import in cloud/") == []


def test_engine_subpackage_climbing_out_fails(tmp_path):
    addon = make_addon(tmp_path, {"cloud/simulator/server.py": "from ...models import fake_thing\n"})
    assert len(errors_of(addon, "no odoo import in cloud/")) == 1


@pytest.mark.parametrize("old, new, fragment", [
    ("<list>", "<tree>", "<tree> element"),
    ("list,form", "tree,form", "view_mode 'tree,form'"),
    ('invisible="not name"', "attrs=\"{'invisible': [('name', '=', False)]}\"", "attrs=...>; removed in Odoo 17"),
])
def test_pre_odoo18_view_syntax_fails(tmp_path, old, new, fragment):
    views = VIEWS.replace(old, new).replace("</list>", "</tree>" if new == "<tree>" else "</list>")
    addon = make_addon(tmp_path, {"views/fake_views.xml": views})
    errors = errors_of(addon, "views use Odoo 18 syntax (<list>, no attrs/states)")
    assert errors and all(fragment in e for e in errors), errors


def test_python_action_with_tree_view_mode_fails(tmp_path):
    source = MODELS + "\n\ndef action():\n    return {'type': 'ir.actions.act_window', 'view_mode': 'tree,form'}\n"
    addon = make_addon(tmp_path, {"models/fake_thing.py": source})
    errors = errors_of(addon, "views use Odoo 18 syntax (<list>, no attrs/states)")
    assert len(errors) == 1 and "view_mode 'tree,form'" in errors[0]


def test_qweb_template_named_tree_in_static_is_not_a_view(tmp_path):
    addon = make_addon(tmp_path, {"static/src/xml/fake.xml": "<templates><tree/></templates>"})
    assert errors_of(addon, "views use Odoo 18 syntax (<list>, no attrs/states)") == []


def test_model_module_not_imported_by_package_init_fails(tmp_path):
    addon = make_addon(tmp_path, {"models/fake_other.py": "x = 1\n"})
    assert errors_of(addon, "package __init__ imports every module") == [
        "fake_addon/models/fake_other.py: not imported by models/__init__.py"]


def test_test_module_not_imported_by_tests_init_fails(tmp_path):
    addon = make_addon(tmp_path, {"tests/test_forgotten.py": "x = 1\n", "tests/common.py": "y = 2\n"})
    assert errors_of(addon, "package __init__ imports every module") == [
        "fake_addon/tests/test_forgotten.py: not imported by tests/__init__.py"]


@pytest.mark.parametrize("po, fragment", [
    ('msgid "Thing"\n', "msgid without msgstr"),
    ('msgstr "Cosa"\n', "without a preceding msgid"),
    ('msgid "a"b"\nmsgstr "x"\n', "bad string literal"),
    ('msgid "Thing\nmsgstr "x"\n', "unexpected text"),
    ('msgid "A"\nmsgstr "a"\n\nmsgid "A"\nmsgstr "b"\n', "duplicate msgid 'A'"),
    ('msgid "A"\nmsgid_plural "As"\nmsgstr "a"\n', "uses msgstr instead of msgstr[n]"),
    ('msgid "A"\nmsgstr "a"\nrandom words\n', "unexpected text"),
])
def test_broken_po_file_fails(tmp_path, po, fragment):
    addon = make_addon(tmp_path, {"i18n/es.po": PO + "\n" + po})
    errors = errors_of(addon, "i18n .po/.pot files parse")
    assert errors and any(fragment in e for e in errors), errors


def test_po_parser_joins_continuation_lines():
    entries, errors = sc.parse_po('msgid ""\n"Hello "\n"world"\nmsgstr "Hola mundo"\n')
    assert errors == []
    assert entries[0]["msgid"] == "Hello world" and entries[0]["msgstr"] == "Hola mundo"


def test_missing_manifest_fails_without_crashing_other_checks(tmp_path):
    addon = make_addon(tmp_path, remove=("__manifest__.py",))
    errors = errors_of(addon, "manifest keys and version")
    assert errors == ["fake_addon/__manifest__.py: missing"]


def test_real_addon_checker_runs(tmp_path):
    # The repository's own addon may be mid-construction; this only proves the CLI handles it.
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "static_checks.py")],
                          capture_output=True, text=True, check=False, cwd=tmp_path)
    assert proc.returncode in (0, 1)
    assert proc.stdout.strip().splitlines()[-1].startswith("static checks: ")

