#!/usr/bin/env python3
"""Static checks for the campotech_whatsapp Odoo addon, without Odoo.

Catches the mistakes that otherwise only show up when Odoo installs the
module: malformed XML/CSV, manifest entries pointing at missing files, data
files nobody loads, models without access rules, Odoo 17/18 view syntax that
no longer loads, Odoo imports leaking into the pure-Python engine, broken
translation files.

Standard library only, so it runs before any dependency is installed.

    python tools/static_checks.py [ADDON_DIR]

Prints one line per check and exits 1 if any check failed.
"""

from __future__ import annotations

import ast
import csv
import glob
import io
import re
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ADDON = REPO_ROOT / "campotech_whatsapp"

ENGINE_DIR = "cloud"
# Folders whose .xml/.csv files Odoo only knows about through the manifest.
DATA_DIRS = ("views", "data", "security", "wizard", "wizards", "report", "reports", "demo")
# Python packages whose modules must each be imported by the package __init__.
IMPORTED_PACKAGES = ("models", "controllers", "wizard", "wizards", "report", "reports")
# Never scanned: generated or vendored content.
SKIP_DIRS = {"__pycache__", ".git", "node_modules"}

MANIFEST_REQUIRED = ("name", "version", "license", "depends", "data")
VERSION_RE = re.compile(r"^18\.0\.\d+\.\d+\.\d+$")
ACCESS_HEADER = [
    "id", "name", "model_id:id", "group_id:id",
    "perm_read", "perm_write", "perm_create", "perm_unlink",
]
GLOB_CHARS = re.compile(r"[*?\[]")
ASSET_DIRECTIVES_WITH_TARGET = {"after", "before", "replace"}
ASSET_DIRECTIVES_ONE_PATH = {"prepend", "append", "remove"}


@dataclass
class Result:
    name: str
    errors: list[str] = field(default_factory=list)
    detail: str = ""

    @property
    def ok(self) -> bool:
        return not self.errors


class Addon:
    """The addon tree plus its parsed manifest, shared by all checks."""

    def __init__(self, path: Path):
        self.path = Path(path).resolve()
        self.name = self.path.name
        self.manifest: dict | None = None
        self.manifest_error: str | None = None
        manifest_file = self.path / "__manifest__.py"
        if not manifest_file.is_file():
            self.manifest_error = f"{self.rel(manifest_file)}: missing"
            return
        try:
            value = ast.literal_eval(manifest_file.read_text(encoding="utf-8"))
        except (ValueError, SyntaxError) as exc:
            self.manifest_error = f"{self.rel(manifest_file)}: not a Python literal: {exc}"
            return
        if not isinstance(value, dict):
            self.manifest_error = f"{self.rel(manifest_file)}: is a {type(value).__name__}, not a dict"
            return
        self.manifest = value

    def rel(self, path: Path) -> str:
        try:
            return str(Path(path).resolve().relative_to(self.path.parent))
        except ValueError:
            return str(path)

    def files(self, *suffixes: str, under: str | None = None) -> list[Path]:
        root = self.path / under if under else self.path
        if not root.is_dir():
            return []
        found = []
        for path in sorted(root.rglob("*")):
            if any(part in SKIP_DIRS for part in path.relative_to(self.path).parts):
                continue
            if path.is_file() and path.name.endswith(suffixes):
                found.append(path)
        return found

    def manifest_list(self, key: str) -> list:
        value = (self.manifest or {}).get(key) or []
        return value if isinstance(value, list) else []

    def loaded_data_files(self) -> list[str]:
        return [p for p in self.manifest_list("data") + self.manifest_list("demo") if isinstance(p, str)]


def parse_python(path: Path) -> ast.Module | None:
    try:
        return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (SyntaxError, UnicodeDecodeError, ValueError):
        return None


# --------------------------------------------------------------------------- checks


def check_python_syntax(addon: Addon) -> Result:
    result = Result("python files parse")
    files = addon.files(".py")
    for path in files:
        try:
            ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        except SyntaxError as exc:
            result.errors.append(f"{addon.rel(path)}:{exc.lineno}: syntax error: {exc.msg}")
        except (UnicodeDecodeError, ValueError) as exc:
            result.errors.append(f"{addon.rel(path)}: unreadable: {exc}")
    result.detail = f"{len(files)} files"
    return result


def check_xml_csv_wellformed(addon: Addon) -> Result:
    result = Result("xml/csv well-formed")
    xml_files = addon.files(".xml")
    csv_files = addon.files(".csv")
    for path in xml_files:
        try:
            ET.parse(path)
        except ET.ParseError as exc:
            result.errors.append(f"{addon.rel(path)}:{exc.position[0]}: XML not well-formed: {exc}")
    for path in csv_files:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            result.errors.append(f"{addon.rel(path)}: not UTF-8: {exc}")
            continue
        try:
            rows = list(csv.reader(io.StringIO(text), strict=True))
        except csv.Error as exc:
            result.errors.append(f"{addon.rel(path)}: CSV error: {exc}")
            continue
        if not rows:
            result.errors.append(f"{addon.rel(path)}: empty CSV (no header)")
            continue
        width = len(rows[0])
        for lineno, row in enumerate(rows[1:], start=2):
            if row and len(row) != width:
                result.errors.append(
                    f"{addon.rel(path)}:{lineno}: {len(row)} fields, header has {width}")
    result.detail = f"{len(xml_files)} xml, {len(csv_files)} csv"
    return result


def check_manifest(addon: Addon) -> Result:
    result = Result("manifest keys and version")
    if addon.manifest is None:
        result.errors.append(addon.manifest_error or "manifest unreadable")
        return result
    manifest = addon.manifest
    for key in MANIFEST_REQUIRED:
        if key not in manifest:
            result.errors.append(f"{addon.name}/__manifest__.py: missing key {key!r}")
    version = manifest.get("version")
    if "version" in manifest and not (isinstance(version, str) and VERSION_RE.match(version)):
        result.errors.append(f"{addon.name}/__manifest__.py: version {version!r} does not match 18.0.x.y.z")
    for key in ("name", "license"):
        if key in manifest and not (isinstance(manifest[key], str) and manifest[key].strip()):
            result.errors.append(f"{addon.name}/__manifest__.py: {key!r} must be a non-empty string")
    for key in ("depends", "data", "demo"):
        if key in manifest:
            value = manifest[key]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                result.errors.append(f"{addon.name}/__manifest__.py: {key!r} must be a list of strings")
    for key in ("data", "demo"):
        seen = set()
        for entry in addon.manifest_list(key):
            if entry in seen:
                result.errors.append(f"{addon.name}/__manifest__.py: {key!r} lists {entry!r} twice")
            seen.add(entry)
    if "assets" in manifest and not isinstance(manifest["assets"], dict):
        result.errors.append(f"{addon.name}/__manifest__.py: 'assets' must be a dict of bundle -> list")
    result.detail = f"version {version}" if version else ""
    return result


def _asset_paths(entries) -> list[str]:
    """File paths named by one bundle's entries (directives' bundle names excluded)."""
    paths = []
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, str):
            paths.append(entry)
        elif isinstance(entry, (tuple, list)) and entry:
            directive = entry[0]
            if directive in ASSET_DIRECTIVES_WITH_TARGET and len(entry) == 3:
                paths.append(entry[2])
            elif directive in ASSET_DIRECTIVES_ONE_PATH and len(entry) == 2:
                paths.append(entry[1])
    return [p for p in paths if isinstance(p, str)]


def check_manifest_files_exist(addon: Addon) -> Result:
    result = Result("manifest files exist")
    if addon.manifest is None:
        result.errors.append("skipped: manifest unreadable")
        return result
    count = 0
    for key in ("data", "demo"):
        for entry in addon.manifest_list(key):
            if not isinstance(entry, str):
                continue
            count += 1
            if not (addon.path / entry).is_file():
                result.errors.append(f"{addon.name}/__manifest__.py: {key} file {entry!r} does not exist")
    assets = addon.manifest.get("assets")
    for bundle, entries in (assets.items() if isinstance(assets, dict) else []):
        for entry in _asset_paths(entries):
            if entry.startswith(("http://", "https://", "//")):
                continue
            # Assets are named from the addons root; another module's files are not ours to check.
            if not entry.startswith(addon.name + "/"):
                continue
            count += 1
            target = addon.path.parent / entry
            if GLOB_CHARS.search(entry):
                if not glob.glob(str(target), recursive=True):
                    result.errors.append(f"{addon.name}/__manifest__.py: assets[{bundle!r}] glob {entry!r} matches no file")
            elif not target.is_file():
                result.errors.append(f"{addon.name}/__manifest__.py: assets[{bundle!r}] file {entry!r} does not exist")
    result.detail = f"{count} entries"
    return result


def check_data_files_listed(addon: Addon) -> Result:
    result = Result("data files listed in manifest")
    if addon.manifest is None:
        result.errors.append("skipped: manifest unreadable")
        return result
    listed = {str(Path(p)) for p in addon.loaded_data_files()}
    count = 0
    for folder in DATA_DIRS:
        for path in addon.files(".xml", ".csv", under=folder):
            count += 1
            rel = str(path.relative_to(addon.path))
            if rel not in listed:
                result.errors.append(f"{addon.name}/{rel}: not listed in manifest 'data' or 'demo' (Odoo never loads it)")
    result.detail = f"{count} files"
    return result


def check_data_xml_roots(addon: Addon) -> Result:
    """Odoo 18 data files must use <odoo> as root; the old <openerp> no longer loads."""
    result = Result("data xml root is <odoo>")
    count = 0
    for entry in addon.loaded_data_files():
        path = addon.path / entry
        if not entry.endswith(".xml") or not path.is_file():
            continue
        count += 1
        try:
            root = ET.parse(path).getroot()
        except ET.ParseError:
            continue  # reported by the well-formedness check
        if root.tag != "odoo":
            result.errors.append(f"{addon.name}/{entry}: root element is <{root.tag}>, expected <odoo>")
    result.detail = f"{count} files"
    return result


def _class_assignments(node: ast.ClassDef) -> dict[str, ast.expr]:
    values = {}
    for stmt in node.body:
        if isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                if isinstance(target, ast.Name):
                    values[target.id] = stmt.value
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value:
            values[stmt.target.id] = stmt.value
    return values


def _base_kind(base: ast.expr) -> str | None:
    name = base.attr if isinstance(base, ast.Attribute) else base.id if isinstance(base, ast.Name) else None
    return name if name in ("Model", "TransientModel", "AbstractModel") else None


def _string_values(node: ast.expr | None) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, (ast.List, ast.Tuple)):
        return [e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
    return []


def find_new_models(addon: Addon) -> dict[str, str]:
    """Models this addon creates (Model and TransientModel, not AbstractModel): name -> where."""
    models = {}
    for path in addon.files(".py"):
        rel_parts = path.relative_to(addon.path).parts
        if rel_parts[0] in (ENGINE_DIR, "tests"):
            continue
        tree = parse_python(path)
        if tree is None:
            continue
        for node in ast.walk(tree):
            if not isinstance(node, ast.ClassDef):
                continue
            kinds = {_base_kind(b) for b in node.bases} - {None}
            if not kinds or "AbstractModel" in kinds:
                continue
            values = _class_assignments(node)
            names = _string_values(values.get("_name"))
            if not names:
                continue
            name = names[0]
            if name in _string_values(values.get("_inherit")):
                continue  # _name == _inherit: extends an existing model
            models[name] = f"{addon.rel(path)}:{node.lineno} ({node.name})"
    return models


def check_access_rules(addon: Addon) -> Result:
    result = Result("access rules cover every model")
    models = find_new_models(addon)
    csv_path = addon.path / "security" / "ir.model.access.csv"
    if not csv_path.is_file():
        if models:
            result.errors.append(
                f"{addon.name}/security/ir.model.access.csv missing; models needing access: {', '.join(sorted(models))}")
        result.detail = f"{len(models)} models"
        return result
    try:
        rows = list(csv.reader(io.StringIO(csv_path.read_text(encoding="utf-8")), strict=True))
    except (csv.Error, UnicodeDecodeError) as exc:
        result.errors.append(f"{addon.rel(csv_path)}: unreadable: {exc}")
        return result
    if not rows or [c.strip() for c in rows[0]] != ACCESS_HEADER:
        result.errors.append(
            f"{addon.rel(csv_path)}:1: header is {','.join(rows[0]) if rows else '(empty)'!s}, "
            f"expected {','.join(ACCESS_HEADER)}")
        return result
    covered: set[str] = set()
    ids: set[str] = set()
    local_xmlids = {"model_" + m.replace(".", "_"): m for m in models}
    for lineno, row in enumerate(rows[1:], start=2):
        if not row or not any(c.strip() for c in row):
            continue
        if len(row) != len(ACCESS_HEADER):
            result.errors.append(f"{addon.rel(csv_path)}:{lineno}: {len(row)} fields, expected {len(ACCESS_HEADER)}")
            continue
        rec = dict(zip(ACCESS_HEADER, (c.strip() for c in row)))
        if rec["id"] in ids:
            result.errors.append(f"{addon.rel(csv_path)}:{lineno}: duplicate id {rec['id']!r}")
        ids.add(rec["id"])
        for perm in ACCESS_HEADER[4:]:
            if rec[perm] not in ("0", "1"):
                result.errors.append(f"{addon.rel(csv_path)}:{lineno}: {perm} is {rec[perm]!r}, expected 0 or 1")
        model_ref = rec["model_id:id"]
        module, _, xmlid = model_ref.rpartition(".")
        if module in ("", addon.name):
            if xmlid in local_xmlids:
                covered.add(local_xmlids[xmlid])
            elif xmlid.startswith("model_"):
                result.errors.append(
                    f"{addon.rel(csv_path)}:{lineno}: model_id {model_ref!r} names no model defined in this addon "
                    f"(another module's model needs its prefix, e.g. base.model_res_partner)")
            else:
                result.errors.append(f"{addon.rel(csv_path)}:{lineno}: model_id {model_ref!r} is not a model_* reference")
    for name in sorted(set(models) - covered):
        result.errors.append(
            f"model {name!r} ({models[name]}) has no line in security/ir.model.access.csv "
            f"(expected model_id:id model_{name.replace('.', '_')})")
    result.detail = f"{len(models)} models, {len(ids)} rules"
    return result


def check_engine_isolation(addon: Addon) -> Result:
    """cloud/ is imported without Odoo (tests, simulator) and as odoo.addons.<name>.cloud
    inside Odoo: it may import neither odoo nor the addon by absolute name, nor climb out of itself."""
    result = Result(f"no odoo import in {ENGINE_DIR}/")
    engine = addon.path / ENGINE_DIR
    files = addon.files(".py", under=ENGINE_DIR)
    for path in files:
        tree = parse_python(path)
        if tree is None:
            continue
        depth = len(path.relative_to(engine).parts) - 1  # package levels below cloud/
        where = addon.rel(path)
        for node in ast.walk(tree):
            modules: list[str] = []
            if isinstance(node, ast.Import):
                modules = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    if node.level > depth + 1:
                        result.errors.append(
                            f"{where}:{node.lineno}: relative import leaves {ENGINE_DIR}/ "
                            f"({'.' * node.level}{node.module or ''})")
                    continue
                modules = [node.module or ""]
            elif (isinstance(node, ast.Call) and node.args
                  and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)
                  and ((isinstance(node.func, ast.Name) and node.func.id == "__import__")
                       or (isinstance(node.func, ast.Attribute) and node.func.attr == "import_module"))):
                modules = [node.args[0].value]
            for module in modules:
                top = module.split(".")[0]
                if top == "odoo":
                    result.errors.append(f"{where}:{node.lineno}: imports {module!r}; the engine must not import odoo")
                elif top == addon.name:
                    result.errors.append(
                        f"{where}:{node.lineno}: absolute import {module!r}; use relative imports inside {ENGINE_DIR}/")
    result.detail = f"{len(files)} files"
    return result


VIEW_MODE_TREE = re.compile(r"(^|,)\s*tree\s*(,|$)")


def check_odoo18_views(addon: Addon) -> Result:
    """Odoo 18 renamed tree views to list; Odoo 17 removed attrs/states in views."""
    result = Result("views use Odoo 18 syntax (<list>, no attrs/states)")
    files = [p for p in addon.files(".xml") if "static" not in p.relative_to(addon.path).parts]
    for path in files:
        try:
            root = ET.parse(path).getroot()
        except ET.ParseError:
            continue
        where = addon.rel(path)
        for elem in root.iter():
            if elem.tag == "tree":
                result.errors.append(f"{where}: <tree> element; Odoo 18 uses <list>")
            if elem.tag == "field" and elem.get("name") == "view_mode" and VIEW_MODE_TREE.search(elem.text or ""):
                result.errors.append(f"{where}: view_mode {elem.text.strip()!r}; Odoo 18 uses 'list'")
            if elem.tag == "xpath" and re.search(r"\btree\b", elem.get("expr", "")):
                result.errors.append(f"{where}: xpath {elem.get('expr')!r} targets <tree>; Odoo 18 uses list")
            for attr in ("attrs", "states"):
                if attr in elem.attrib and elem.tag != "record" and _inside_arch(root, elem):
                    result.errors.append(
                        f"{where}: <{elem.tag} {attr}=...>; removed in Odoo 17, use invisible/readonly/required expressions")
    for path in addon.files(".py"):
        if ENGINE_DIR == path.relative_to(addon.path).parts[0]:
            continue
        tree = parse_python(path)
        for node in ast.walk(tree) if tree else ():
            if isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values):
                    if (isinstance(key, ast.Constant) and key.value == "view_mode"
                            and isinstance(value, ast.Constant) and isinstance(value.value, str)
                            and VIEW_MODE_TREE.search(value.value)):
                        result.errors.append(f"{addon.rel(path)}:{node.lineno}: view_mode {value.value!r}; Odoo 18 uses 'list'")
    result.detail = f"{len(files)} xml files"
    return result


def _inside_arch(root: ET.Element, target: ET.Element) -> bool:
    for arch in root.iter("field"):
        if arch.get("name") == "arch":
            for elem in arch.iter():
                if elem is target:
                    return True
    for template in root.iter("template"):
        for elem in template.iter():
            if elem is target:
                return True
    return False


def _imported_submodules(init: Path) -> set[str]:
    tree = parse_python(init)
    names: set[str] = set()
    for node in ast.walk(tree) if tree else ():
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                names.add(node.module.split(".")[0])
            else:
                names.update(a.name for a in node.names)
    return names


def check_packages_import_modules(addon: Addon) -> Result:
    """A module a package __init__ does not import is dead: its models never register,
    its tests never run."""
    result = Result("package __init__ imports every module")
    count = 0
    for package in IMPORTED_PACKAGES + ("tests",):
        folder = addon.path / package
        if not folder.is_dir():
            continue
        modules = sorted(p.stem for p in folder.glob("*.py") if p.name != "__init__.py")
        if package == "tests":
            modules = [m for m in modules if m.startswith("test_")]
        if not modules:
            continue
        init = folder / "__init__.py"
        if not init.is_file():
            result.errors.append(f"{addon.name}/{package}/__init__.py missing (modules: {', '.join(modules)})")
            continue
        imported = _imported_submodules(init)
        for module in modules:
            count += 1
            if module not in imported:
                result.errors.append(f"{addon.name}/{package}/{module}.py: not imported by {package}/__init__.py")
        if package != "tests" and not (addon.path / "__init__.py").is_file():
            result.errors.append(f"{addon.name}/__init__.py missing")
    result.detail = f"{count} modules"
    return result


_PO_KEYWORD = re.compile(r'^(msgctxt|msgid|msgid_plural|msgstr(?:\[\d+\])?)\s+(".*")\s*$')
_PO_CONTINUATION = re.compile(r'^(".*")\s*$')


def _po_string(literal: str) -> str | None:
    try:
        value = ast.literal_eval(literal)
    except (ValueError, SyntaxError):
        return None
    return value if isinstance(value, str) else None


def parse_po(text: str) -> tuple[list[dict], list[str]]:
    """Entries (keyword -> string) and errors "line N: ..." of a .po/.pot file."""
    entries: list[dict] = []
    errors: list[str] = []
    current: dict = {}
    last_key: str | None = None
    start_line = 0

    def finish():
        nonlocal current, last_key
        if current:
            if "msgid" not in current:
                errors.append(f"line {start_line}: entry without msgid")
            elif not any(k.startswith("msgstr") for k in current):
                errors.append(f"line {start_line}: msgid without msgstr")
            elif "msgid_plural" in current and "msgstr" in current:
                errors.append(f"line {start_line}: plural entry uses msgstr instead of msgstr[n]")
            elif "msgid_plural" not in current and any(k.startswith("msgstr[") for k in current):
                errors.append(f"line {start_line}: msgstr[n] without msgid_plural")
            else:
                current["_line"] = start_line
                entries.append(current)
        current, last_key = {}, None

    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            finish()
            continue
        if line.startswith("#"):
            if current and any(k.startswith("msgstr") for k in current):
                finish()
            continue
        match = _PO_KEYWORD.match(line)
        if match:
            key, literal = match.groups()
            if key in ("msgctxt", "msgid") and any(k.startswith("msgstr") for k in current):
                finish()  # entries not separated by a blank line
            if not current:
                start_line = lineno
            if key in current:
                errors.append(f"line {lineno}: {key} repeated in one entry")
            value = _po_string(literal)
            if value is None:
                errors.append(f"line {lineno}: bad string literal {literal}")
                value = ""
            if key.startswith("msgstr") and "msgid" not in current:
                errors.append(f"line {lineno}: {key} without a preceding msgid")
            current[key] = value
            last_key = key
            continue
        match = _PO_CONTINUATION.match(line)
        if match and last_key:
            value = _po_string(match.group(1))
            if value is None:
                errors.append(f"line {lineno}: bad string literal {line}")
            else:
                current[last_key] += value
            continue
        errors.append(f"line {lineno}: unexpected text: {line[:60]}")
    finish()
    seen: dict[tuple, int] = {}
    for entry in entries:
        key = (entry.get("msgctxt"), entry["msgid"])
        if key in seen:
            errors.append(f"line {entry['_line']}: duplicate msgid {entry['msgid'][:40]!r} (first at line {seen[key]})")
        else:
            seen[key] = entry["_line"]
    return entries, errors


def check_translations(addon: Addon) -> Result:
    result = Result("i18n .po/.pot files parse")
    files = addon.files(".po", ".pot")
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            result.errors.append(f"{addon.rel(path)}: not UTF-8: {exc}")
            continue
        _, errors = parse_po(text)
        result.errors.extend(f"{addon.rel(path)}: {e}" for e in errors)
    result.detail = f"{len(files)} files"
    return result


CHECKS = (
    check_python_syntax,
    check_xml_csv_wellformed,
    check_manifest,
    check_manifest_files_exist,
    check_data_files_listed,
    check_data_xml_roots,
    check_access_rules,
    check_engine_isolation,
    check_odoo18_views,
    check_packages_import_modules,
    check_translations,
)


def run_checks(addon_dir: Path) -> list[Result]:
    addon = Addon(addon_dir)
    return [check(addon) for check in CHECKS]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) > 1 or (args and args[0] in ("-h", "--help")):
        print(__doc__.strip())
        return 2
    addon_dir = Path(args[0]) if args else DEFAULT_ADDON
    if not addon_dir.is_dir():
        print(f"static checks: addon directory {addon_dir} not found")
        return 1
    results = run_checks(addon_dir)
    for res in results:
        status = "ok  " if res.ok else "FAIL"
        detail = f" ({res.detail})" if res.detail else ""
        print(f"[{status}] {res.name}{detail}")
        for error in res.errors:
            print(f"         - {error}")
    failed = [r for r in results if not r.ok]
    print(f"static checks: {len(results) - len(failed)} of {len(results)} checks ok"
          + (f", {len(failed)} failed" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
