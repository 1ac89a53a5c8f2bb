"""tools/upgrade_check.py: what it counts against an upgrade log, and what it refuses."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("upgrade_check", ROOT / "tools" / "upgrade_check.py")
uc = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = uc
_spec.loader.exec_module(uc)

PREFIX = "2026-12-02 04:35:24,194 17288"


def line(level, logger, msg):
    return f"{PREFIX} {level} campotech_upgrade_1 {logger}: {msg} "


def test_errors_and_warnings_naming_a_renamed_field_are_problems():
    log = "\n".join([
        line("INFO", "pre-rename-fields", "campotech_whatsapp: renamed field res.partner.whatsapp_number"),
        line("WARNING", "odoo.models", "res.partner.whatsapp_opt_out: field not found"),
        line("WARNING", "odoo.fields", "Field wa.webhook.log.error: unknown"),
        line("ERROR", "odoo.sql_db", "bad query: anything at all"),
        line("WARNING", "odoo.modules.loading", "The model foo has no access rules"),
    ])
    problems, others = uc.log_problems(log)
    assert [p.split(": ", 1)[1] for p in problems] == [
        "res.partner.whatsapp_opt_out: field not found ",
        "Field wa.webhook.log.error: unknown ",
        "bad query: anything at all ",
    ]
    assert len(others) == 1 and "no access rules" in others[0]


def test_a_warning_about_an_error_state_is_not_about_the_field():
    problems, others = uc.log_problems(line("WARNING", "odoo.models", "3 logs in state error"))
    assert problems == [] and len(others) == 1


def test_a_commit_that_already_has_the_rename_is_refused(tmp_path):
    with pytest.raises(uc.Failed, match="already has the 18.0.1.2.0 rename"):
        uc.extract("HEAD", tmp_path)


def test_without_the_odoo_kit_it_says_what_to_set():
    env = {"PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "upgrade_check.py"), "b793e30"],
                          env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 2
    assert "CAMPOTECH_ODOO_BIN is not set" in proc.stdout
