"""The project's commands as a newcomer runs them: scripts/test's summary, the wrappers that
need no activated .venv, the README's variable table, and the ecosystem files (OCA readme
fragments, pre-commit, the manifest's external dependencies)."""

import ast
import os
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def clean_env(**extra):
    """The environment of a fresh shell: no CAMPOTECH_* variables, no activated virtualenv."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("CAMPOTECH_") and k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if not p.startswith(str(ROOT / ".venv")))
    env.update(extra)
    return env


def run(*argv, timeout=300):
    return subprocess.run(list(argv), cwd=ROOT, env=clean_env(), capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL, check=False)


def test_scripts_test_counts_a_skipped_odoo_step_as_skipped_not_ok():
    done = run("bash", "scripts/test", "static", "odoo")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "odoo tests: skipped" in done.stdout
    assert "scripts/test: ok — 1 of 2 steps ok, 1 skipped (odoo tests skipped)" in done.stdout
    assert re.search(r"^  odoo tests +skipped ", done.stdout, re.M)


def test_scripts_test_names_an_unknown_step():
    done = run("bash", "scripts/test", "odo")
    assert done.returncode == 2 and "unknown step 'odo'" in done.stderr


def test_simulator_wrapper_runs_without_an_activated_venv():
    done = run("bash", "scripts/simulator", "--help", timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: python -m campotech_whatsapp.cloud.simulator")
    assert "ModuleNotFoundError" not in done.stderr


def test_simulator_wrapper_passes_exit_codes_and_errors_through():
    done = run("bash", "scripts/simulator", "fault", "--sim", "http://127.0.0.1:9", "--code", "131026")
    assert done.returncode == 2 and "cannot reach the simulator" in done.stderr


def test_bench_wrapper_runs_without_an_activated_venv():
    done = run("bash", "scripts/bench", "--help", timeout=120)
    assert done.returncode == 0, done.stderr
    assert "--quick" in done.stdout and "ModuleNotFoundError" not in done.stderr


def test_readme_table_lists_every_campotech_variable_the_scripts_read():
    readme = (ROOT / "README.md").read_text()
    used = set()
    for path in [*(ROOT / "scripts").iterdir(), ROOT / "tools" / "odoo_tests.py", ROOT / ".ci" / "run"]:
        if path.is_file():
            used |= set(re.findall(r"\bCAMPOTECH_[A-Z_]+[A-Z]\b", path.read_text()))
    used -= {"CAMPOTECH_WHATSAPP_KEY"}  # the encryption key: documented in the install steps
    table = {v for row in readme.splitlines() if row.startswith("| `CAMPOTECH_")
             for v in re.findall(r"`(CAMPOTECH_[A-Z_]+)`", row.split("|")[1])}
    assert used and not used - table, sorted(used - table)


# --- ecosystem conventions --------------------------------------------------------------------

def _requirement_names(path):
    names = set()
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            names.add(re.split(r"[<>=!~;\[ ]", line, 1)[0].lower())
    return names


def test_manifest_external_dependencies_match_requirements_txt():
    manifest = ast.literal_eval((ROOT / "campotech_whatsapp" / "__manifest__.py").read_text())
    declared = {name.lower() for name in manifest["external_dependencies"]["python"]}
    assert declared == _requirement_names(ROOT / "requirements.txt")


def test_oca_readme_fragments_exist_and_say_something():
    fragments = ROOT / "campotech_whatsapp" / "readme"
    for name in ("DESCRIPTION.md", "CONFIGURE.md", "USAGE.md", "CONTRIBUTORS.md"):
        text = (fragments / name).read_text()
        assert not text.lstrip().startswith("#"), "%s: OCA fragments carry no title" % name
        if name == "CONTRIBUTORS.md":  # a list of people and companies
            assert text.strip() and all(line.lstrip().startswith("- ")
                                        for line in text.strip().splitlines()), text
        else:
            assert len(text.split()) > 50, name


def test_pre_commit_runs_ruff_and_pylint_odoo_on_the_addon():
    config = (ROOT / ".pre-commit-config.yaml").read_text()
    assert "repo: https://github.com/astral-sh/ruff-pre-commit" in config
    assert "id: ruff" in config
    assert "repo: https://github.com/OCA/pylint-odoo" in config
    assert "id: pylint_odoo" in config and "--rcfile=.pylintrc" in config
    revs = re.findall(r"rev: (\S+)", config)
    assert revs and all(rev not in ("master", "main", "HEAD") for rev in revs)
