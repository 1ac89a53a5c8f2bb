#!/usr/bin/env python3
"""Check that a database installed with an older commit upgrades to this tree's addon.

    python tools/upgrade_check.py OLD_COMMIT [--keep-db] [--without-migration]

With the Odoo kit's variables set (CAMPOTECH_ODOO_BIN, _PYTHON, _CONFIG, _TEMPLATE_DB, as
for tools/odoo_tests.py), it:

1. installs campotech_whatsapp as OLD_COMMIT has it (``git archive``) on a fresh database
   (a copy of the template database, made by ``odoo-bin db duplicate``);
2. stores, through ``odoo-bin shell`` and the old field names, a customer with a WhatsApp
   number who opted out, a webhook log with an error, a message whose media failed, a queue
   item with Meta's error, and notes the ids of their ``ir.model.fields`` rows;
3. upgrades it with this tree's code (``-u campotech_whatsapp --stop-after-init``);
4. checks, through ``odoo-bin shell`` and the new names, that every value is there, the
   old columns are gone, each field kept its ``ir.model.fields`` row (so tracked values and
   defaults tied to it survive) and its xmlid follows the new name, then runs the rename
   migration a second time and checks it changes nothing;
5. drops the database (kept with --keep-db) and says ``upgrade check: ok`` or what failed.

The upgrade log must hold no ERROR/CRITICAL line, and no WARNING naming the renamed fields.
OLD_COMMIT must predate the 18.0.1.2.0 rename (the seed writes the old names): main's
b793e30 does. --without-migration upgrades to this tree minus that migration, to see the
check fail. It starts no HTTP server (--no-http) and no cron.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import odoo_tests  # noqa: E402  (tools/ is not a package)

REPO_ROOT = odoo_tests.REPO_ROOT
MODULE = odoo_tests.MODULE
MIGRATION = REPO_ROOT / MODULE / "migrations" / "18.0.1.2.0" / "pre-rename-fields.py"
RESULT_MARK = "UPGRADE-CHECK-RESULT "

# (model, old name, new name): what the migration renames, and what is checked.
RENAMED = [
    ("res.partner", "whatsapp_number", "wa_number"),
    ("res.partner", "whatsapp_opt_out", "wa_opt_out"),
    ("res.users", "whatsapp_number", "wa_number"),
    ("res.users", "whatsapp_opt_out", "wa_opt_out"),
    ("wa.webhook.log", "error", "error_message"),
    ("wa.message", "media_error", "media_error_message"),
    ("wa.notification", "message_error", "message_error_message"),
    ("wa.composer", "opted_out", "opt_out"),
]

# Runs in `odoo-bin shell` on the old code: old field names.
SEED = r"""
import json
company = env.company
account = env["wa.account"].create({
    "name": "Upgrade check", "company_id": company.id,
    "phone_number_id": "990001", "waba_id": "990002", "webhook_verify_token": "upgrade-check"})
partner = env["res.partner"].create({
    "name": "Cliente upgrade", "whatsapp_number": "+5491155556666"})
# Opted out as a customer's STOP does it (the consent log is written too).
partner._wa_set_consent(True, "whatsapp")
log = env["wa.webhook.log"].create({
    "account_id": account.id, "company_id": company.id, "event_type": "messages",
    "payload": "{}", "error": "Status not applied: upgrade check"})
conversation = env["wa.conversation"].create({
    "account_id": account.id, "partner_id": partner.id, "wa_id": "5491155556666",
    "customer_phone": "+5491155556666"})
message = env["wa.message"].create({
    "conversation_id": conversation.id, "direction": "inbound", "message_type": "image",
    "media_id": "upgrade-media", "media_state": "failed", "media_attempts": 3,
    "media_error": "Meta answered 503 three times"})
queue = env["wa.outbound.queue"].create({
    "account_id": account.id, "conversation_id": conversation.id, "phone": "5491155556666",
    "content": {"type": "text"}, "state": "failed", "error_code": 131047,
    "error_message": "Re-engagement message"})
# What people build on the fields: a saved filter, an automation rule, a view of their own.
saved_filter = env["ir.filters"].create({
    "name": "Opted out", "model_id": "res.partner",
    "domain": "[('whatsapp_opt_out', '=', True), ('whatsapp_number', '!=', False)]",
    "context": "{'group_by': ['country_id', 'whatsapp_opt_out']}"})
log_filter = env["ir.filters"].create({
    "name": "Failed logs", "model_id": "wa.webhook.log",
    "domain": "[('error', '!=', False), ('state', '=', 'error')]"})
automation = env["base.automation"].create({
    "name": "Upgrade check rule", "model_id": env["ir.model"]._get_id("res.partner"),
    "trigger": "on_create_or_write", "filter_domain": "[('whatsapp_opt_out', '=', True)]"})
custom_view = env["ir.ui.view"].create({
    "name": "upgrade check partner form", "model": "res.partner", "type": "form",
    "inherit_id": env.ref("base.view_partner_form").id,
    "arch": '<xpath expr="//field[@name=\'whatsapp_number\']" position="after">'
            '<field name="whatsapp_opt_out" invisible="not whatsapp_number"/></xpath>'})
fields = {"%s.%s" % (f.model, f.name): f.id for f in env["ir.model.fields"].search(
    [("model", "in", MODELS), ("name", "in", OLD_NAMES)])}
env.cr.commit()
print(MARK + json.dumps({"partner": partner.id, "log": log.id,
                         "message": message.id, "queue": queue.id, "fields": fields,
                         "filter": saved_filter.id, "log_filter": log_filter.id,
                         "automation": automation.id, "view": custom_view.id}))
"""

# Runs in `odoo-bin shell` on this tree's code: new field names.
VERIFY = r"""
import importlib.util, json
from odoo.tools.sql import column_exists
seed = SEED_IDS
problems = []

def expect(what, got, wanted):
    if got != wanted:
        problems.append("%s: %r, expected %r" % (what, got, wanted))

def values():
    partner = env["res.partner"].browse(seed["partner"])
    log = env["wa.webhook.log"].browse(seed["log"])
    message = env["wa.message"].browse(seed["message"])
    queue = env["wa.outbound.queue"].browse(seed["queue"])
    return {
        "res.partner.wa_number": partner.wa_number,
        "res.partner.wa_opt_out": partner.wa_opt_out,
        "wa.webhook.log.error_message": log.error_message,
        "wa.webhook.log.state": log.state,
        "wa.message.media_error_message": message.media_error_message,
        "wa.outbound.queue.error_code": queue.error_code,
        "wa.outbound.queue.error_message": queue.error_message,
    }

wanted = {
    "res.partner.wa_number": "+5491155556666",
    "res.partner.wa_opt_out": True,
    "wa.webhook.log.error_message": "Status not applied: upgrade check",
    "wa.webhook.log.state": "error",
    "wa.message.media_error_message": "Meta answered 503 three times",
    "wa.outbound.queue.error_code": 131047,
    "wa.outbound.queue.error_message": "Re-engagement message",
}
for key, value in values().items():
    expect(key, value, wanted[key])
for table, old, new in COLUMNS:
    expect("column %s.%s exists" % (table, old), bool(column_exists(env.cr, table, old)), False)
    expect("column %s.%s exists" % (table, new), bool(column_exists(env.cr, table, new)), True)
for model, old, new in RENAMED:
    key = "%s.%s" % (model, old)
    field = env["ir.model.fields"]._get(model, new)
    expect("ir.model.fields row of %s.%s" % (model, new), field.id, seed["fields"].get(key))
    expect("old row %s" % key, bool(env["ir.model.fields"]._get(model, old)), False)
    prefix = "%s.field_%s__" % (MODULE, model.replace(".", "_"))
    expect("xmlid %s%s" % (prefix, new), env.ref(prefix + new, raise_if_not_found=False), field)
    expect("xmlid %s%s" % (prefix, old), env.ref(prefix + old, raise_if_not_found=False), None)
saved_filter = env["ir.filters"].browse(seed["filter"])
expect("saved filter domain", saved_filter.domain,
       "[('wa_opt_out', '=', True), ('wa_number', '!=', False)]")
expect("saved filter context", saved_filter.context, "{'group_by': ['country_id', 'wa_opt_out']}")
expect("webhook log filter domain", env["ir.filters"].browse(seed["log_filter"]).domain,
       "[('error_message', '!=', False), ('state', '=', 'error')]")
expect("automation rule domain", env["base.automation"].browse(seed["automation"]).filter_domain,
       "[('wa_opt_out', '=', True)]")
view = env["ir.ui.view"].browse(seed["view"])
expect("custom view arch", view.arch_db,
       '<xpath expr="//field[@name=\'wa_number\']" position="after">'
       '<field name="wa_opt_out" invisible="not wa_number"/></xpath>')
expect("partner form renders", "wa_opt_out" in env["res.partner"].get_view(view_type="form")["arch"], True)
expect("opt-out consent log", env["wa.consent"].search_count(
    [("partner_id", "=", seed["partner"]), ("action", "=", "opt_out")]), 1)

# Run the rename a second time: it must find nothing to do.
spec = importlib.util.spec_from_file_location("pre_rename_fields", MIGRATION)
migration = importlib.util.module_from_spec(spec)
spec.loader.exec_module(migration)
before = values()
migration.migrate(env.cr, "18.0.1.1.0")
env.invalidate_all()
expect("values after a second run", values(), before)
for model, old, new in RENAMED:
    expect("%s.%s after a second run" % (model, new),
           env["ir.model.fields"]._get(model, new).id, seed["fields"].get("%s.%s" % (model, old)))
env.cr.rollback()
print(MARK + json.dumps({"values": values(), "problems": problems}, default=str))
"""

WARNING_OR_WORSE = ("WARNING", "ERROR", "CRITICAL")


class Failed(Exception):
    pass


def odoo(settings, addons, db, *args, stdin=None, log=None, timeout=1200):
    """Run odoo-bin (no HTTP, no cron) and return its output; raise Failed on a non-zero exit."""
    cmd = [settings["python"], str(settings["bin"]), *args[:1]]
    if settings["config"]:
        cmd += ["-c", settings["config"]]
    cmd += [f"--addons-path={','.join(addons)}", "-d", db, "--db-filter", f"^{db}$",
            "--no-http", "--workers=0", "--max-cron-threads=0", "--without-demo=all",
            "--logfile=", *args[1:]]
    proc = subprocess.run(cmd, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, errors="replace", timeout=timeout, check=False)
    if log:
        log.write_text(proc.stdout, encoding="utf-8")
    if proc.returncode != 0:
        tail = "\n".join(proc.stdout.strip().splitlines()[-20:])
        raise Failed(f"exit {proc.returncode}: {shlex.join(cmd)}\n{tail}")
    return proc.stdout


def odoo_db(settings, what, *args):
    """`odoo-bin db duplicate|drop`, as tools/odoo_tests.py copies and drops its databases."""
    print(f"upgrade check: {what}", flush=True)
    proc = subprocess.run(odoo_tests.odoo_db_command(settings, *args), stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=600, check=False)
    if proc.returncode != 0:
        raise Failed(f"{what}: exit {proc.returncode}\n{proc.stdout.strip()[-2000:]}")


def shell(settings, addons, db, script, log):
    output = odoo(settings, addons, db, "shell", stdin=script, log=log)
    for line in output.splitlines():
        if line.startswith(RESULT_MARK):
            return json.loads(line[len(RESULT_MARK):])
    tail = "\n".join(output.strip().splitlines()[-20:])
    raise Failed(f"the shell script printed no result (log {log}):\n{tail}")


def log_problems(text):
    """ERROR/CRITICAL lines, and WARNING lines naming a renamed field."""
    names = {name for _model, old, new in RENAMED for name in (old, new)}
    named = re.compile(r"\b(%s)\b" % "|".join(sorted(names - {"error"})) + r"|\.error\b")
    problems, other_warnings = [], []
    for line in text.splitlines():
        match = odoo_tests.LOG_LINE.match(line)
        if not match or match["level"] not in WARNING_OR_WORSE:
            continue
        if match["level"] != "WARNING" or named.search(match["msg"]):
            problems.append(line)
        else:
            other_warnings.append(line)
    return problems, other_warnings


def extract(commit, target):
    """The addon as ``commit`` has it, under target/campotech_whatsapp."""
    archive = target / "old.tar"
    with open(archive, "wb") as out:
        subprocess.run(["git", "-C", str(REPO_ROOT), "archive", "--format=tar", commit, MODULE],
                       stdout=out, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(target, filter="data")
    archive.unlink()
    manifest = (target / MODULE / "__manifest__.py").read_text(encoding="utf-8")
    version = re.search(r"""["']version["']\s*:\s*["']([^"']+)""", manifest)[1]
    if tuple(int(p) for p in version.split(".")) >= (18, 0, 1, 2, 0):
        raise Failed(f"{commit} has version {version}: it already has the 18.0.1.2.0 rename")
    return version


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("old_commit", help="commit to install first (before 18.0.1.2.0), e.g. b793e30")
    parser.add_argument("--keep-db", action="store_true", help="keep the database at the end")
    parser.add_argument("--without-migration", action="store_true",
                        help="upgrade to a copy of this tree without the 18.0.1.2.0 migration "
                             "(shows what the check catches: it must fail)")
    args = parser.parse_args(argv)
    if not os.environ.get("CAMPOTECH_ODOO_BIN"):
        print("upgrade check: CAMPOTECH_ODOO_BIN is not set (eval \"$(../shared/odoo18/provision)\")")
        return 2
    settings = odoo_tests.read_settings(os.environ)
    odoo_addons = settings["addons"][:-1]  # without this tree
    work = Path(tempfile.mkdtemp(prefix="campotech-upgrade-check-"))
    db = f"campotech_upgrade_{time.strftime('%Y%m%d_%H%M%S')}_{os.getpid()}"
    created = False
    try:
        old_version = extract(args.old_commit, work)
        old_addons = odoo_addons + [str(work)]
        new_addons = odoo_addons + [str(REPO_ROOT)]
        if args.without_migration:
            shutil.copytree(REPO_ROOT / MODULE, work / "new" / MODULE,
                            ignore=shutil.ignore_patterns("__pycache__", "18.0.1.2.0"))
            new_addons = odoo_addons + [str(work / "new")]
        print(f"upgrade check: {args.old_commit} ({MODULE} {old_version}) -> this tree, database {db}")
        if settings["template"]:
            odoo_db(settings, f"copying template database {settings['template']} -> {db}",
                    "duplicate", settings["template"], db)
        created = True
        print(f"upgrade check: installing {MODULE} {old_version}", flush=True)
        odoo(settings, old_addons, db, "server", "-i", MODULE, "--stop-after-init",
             log=work / "install.log")
        models = sorted({model for model, _old, _new in RENAMED})
        old_names = sorted({old for _model, old, _new in RENAMED})
        seed = shell(settings, old_addons, db, "\n".join([
            f"MARK = {RESULT_MARK!r}", f"MODELS = {models!r}", f"OLD_NAMES = {old_names!r}",
            SEED]), work / "seed.log")
        print(f"upgrade check: stored with the old names: {json.dumps(seed, sort_keys=True)}")
        print(f"upgrade check: upgrading to this tree (-u {MODULE})", flush=True)
        upgrade_log = work / "upgrade.log"
        odoo(settings, new_addons, db, "server", "-u", MODULE, "--stop-after-init",
             "--log-level=info", log=upgrade_log)
        text = upgrade_log.read_text(encoding="utf-8")
        for line in text.splitlines():
            match = odoo_tests.LOG_LINE.match(line)
            if match and (match["logger"] == "pre-rename-fields" or "Running migration" in match["msg"]):
                print(f"  {match['level']} {match['logger']}: {match['msg'].strip()}")
        bad_lines, other_warnings = log_problems(text)
        columns = [(model.replace(".", "_"), old, new) for model, old, new in RENAMED
                   if model in ("res.partner", "wa.webhook.log", "wa.message")]
        result = shell(settings, new_addons, db, "\n".join([
            f"MARK = {RESULT_MARK!r}", f"MODULE = {MODULE!r}", f"SEED_IDS = {json.dumps(seed)}",
            f"RENAMED = {RENAMED!r}", f"COLUMNS = {columns!r}", f"MIGRATION = {str(MIGRATION)!r}",
            VERIFY]), work / "verify.log")
        print(f"upgrade check: read with the new names: {json.dumps(result['values'], sort_keys=True)}")
        problems = result["problems"] + [f"upgrade log: {line}" for line in bad_lines]
        print(f"upgrade check: upgrade log: {len(bad_lines)} ERROR/CRITICAL or WARNING lines about "
              f"the renamed fields, {len(other_warnings)} other WARNING lines")
        for line in other_warnings[:10]:
            print(f"  (other) {line[:300]}")
        if problems:
            print("upgrade check: FAILED")
            for problem in problems:
                print(f"  {problem[:500]}")
            print(f"upgrade check: logs in {work}")
            return 1
        print(f"upgrade check: ok — values, columns, ir.model.fields rows and xmlids checked, "
              f"second migration run changed nothing")
        shutil.rmtree(work, ignore_errors=True)
        return 0
    except (Failed, odoo_tests.Setup, subprocess.SubprocessError, OSError) as exc:
        print(f"upgrade check: FAILED — {exc}")
        print(f"upgrade check: logs in {work}")
        return 1
    finally:
        if created and args.keep_db:
            print(f"upgrade check: keeping database {db}")
        elif created:
            try:
                odoo_db(settings, f"dropping database {db}", "drop", db)
            except (Failed, OSError, subprocess.SubprocessError) as exc:
                print(f"upgrade check: warning: could not drop {db}: {exc}")


if __name__ == "__main__":
    sys.exit(main())
