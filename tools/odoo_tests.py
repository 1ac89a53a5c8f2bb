#!/usr/bin/env python3
"""Run the campotech_whatsapp Odoo tests in a real Odoo 18, or say why not.

Configured only through the environment, so CI never picks up a developer's Odoo by accident:

  CAMPOTECH_ODOO_BIN           path to odoo-bin; unset -> the step is skipped (exit 0)
  CAMPOTECH_ODOO_PYTHON        python of Odoo's virtualenv (default: this interpreter)
  CAMPOTECH_ODOO_CONFIG        odoo.conf holding the database connection (db_host, db_user, ...)
  CAMPOTECH_ODOO_TEMPLATE_DB   optional database that already has the dependencies installed;
                               copied (with its filestore) instead of installing them from scratch
  CAMPOTECH_ODOO_ADDONS_PATH   optional extra addons directories, comma separated
  CAMPOTECH_ODOO_TEST_TAGS     optional, default /campotech_whatsapp
  CAMPOTECH_ODOO_TIMEOUT       optional, seconds for the whole Odoo run (default 2400)
  CAMPOTECH_KEEP_DB=1          keep the test database when the run fails

A fresh database (campotech_test_<timestamp>_<pid>) receives `-i campotech_whatsapp
--test-enable`; the log goes to a file and, condensed, to the console. The run fails on a
non-zero exit, any failed/erroring test, any ERROR/CRITICAL log line, a browser test (tour)
that Odoo skipped for want of a usable browser (no Chrome/Chromium, or no websocket-client in
Odoo's virtualenv), or when no test ran.
The last line is `odoo tests: N passed, M failed`.

    python tools/odoo_tests.py                 run (or skip)
    python tools/odoo_tests.py --addons-path   print the addons path it would use
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
MODULE = "campotech_whatsapp"
DEFAULT_TIMEOUT = 2400

SKIP_LINE = ("odoo tests: skipped — no Odoo 18 configured "
             "(set CAMPOTECH_ODOO_BIN, CAMPOTECH_ODOO_CONFIG to run them)")

# 2026-11-25 12:46:04,443 3256 INFO dbname logger.name: message
LOG_LINE = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ \d+ (?P<level>[A-Z]+) (?P<db>\S+) (?P<logger>[^:\s]+): (?P<msg>.*)$")
RESULT = re.compile(r"(?P<failed>\d+) failed, (?P<errors>\d+) error\(s\) of (?P<run>\d+) tests when loading database")
TEST_START = re.compile(r"^Starting (?P<test>\S+) \.\.\.")
TEST_PROBLEM = re.compile(r"^(?P<kind>FAIL|ERROR): (?P<test>.+)$")
SKIPPED = re.compile(r"^skipped (?P<test>\S+)(?: : (?P<reason>.*))?")
# HttpCase.browser_js (start_tour's engine) raises unittest.SkipTest when it finds or reaches no
# browser: "Chrome executable not found", "websocket-client module is not installed",
# "Failed to detect chrome devtools port after …", "Error during Chrome headless connection",
# "Cannot connect to chrome dev tools", "/usr/bin/chromium not found". Odoo logs each as an INFO
# "skipped Class.test : reason" and counts the test as run: a tour that never ran would pass.
BROWSER_SKIP = re.compile(r"chrome|chromium|browser|devtools|websocket-client", re.IGNORECASE)
INVALID_MODULES = re.compile(r"invalid module names, ignored: (?P<names>.*)")
BAD_LEVELS = ("ERROR", "CRITICAL")
# ERROR lines that only repeat what the test counts already say.
TEST_ERROR_ECHOES = re.compile(
    r"odoo\.tests\.result: \d+ failed|Module \S+: \d+ failures, \d+ errors of \d+ tests"
    r"|At least one test failed when loading the modules")
# INFO lines worth showing in the condensed console output.
SHOWN_INFO = (
    re.compile(r"odoo\.modules\.loading: (init db|loading \d+ modules|\d+ modules loaded|Modules loaded)"),
    re.compile(r"odoo\.service\.server: (Starting post tests|\d+ post-tests)"),
    re.compile(r"odoo\.tests\.(result|stats): "),
    re.compile(rf"odoo\.modules\.loading: Loading module {MODULE} "),
    re.compile(rf"odoo\.modules\.registry: module {MODULE}: "),
    re.compile(r": skipped \S+ : "),
)


@dataclass
class Verdict:
    returncode: int | None
    tests_run: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    browser_skips: list[str] = field(default_factory=list)  # "Class.test: reason"
    started: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)      # FAIL:/ERROR: test names
    error_lines: list[str] = field(default_factory=list)   # ERROR/CRITICAL log lines
    summary_seen: bool = False
    module_loaded: bool = False
    invalid_modules: str = ""
    timed_out: bool = False

    @property
    def other_error_lines(self) -> list[str]:
        """ERROR/CRITICAL lines that are not a failing test or its summary."""
        return [line for line in self.error_lines
                if not TEST_ERROR_ECHOES.search(line)
                and not TEST_PROBLEM.match((LOG_LINE.match(line) or {"msg": ""})["msg"])]

    @property
    def passed(self) -> int:
        return max(self.tests_run - self.failed - self.errors - self.skipped, 0)

    def reasons(self) -> list[str]:
        why = []
        if self.timed_out:
            why.append("Odoo did not finish in time and was killed")
        if self.returncode not in (0, None):
            why.append(f"odoo-bin exited with code {self.returncode}")
        if self.invalid_modules:
            why.append(f"Odoo did not find module(s) {self.invalid_modules} in the addons path")
        elif not self.module_loaded:
            why.append(f"module {MODULE} was never loaded")
        if not self.summary_seen:
            why.append("no test result summary in the log (Odoo stopped before the tests finished)")
        elif self.tests_run == 0:
            why.append("0 tests ran: a run must execute at least one test")
        if self.failed or self.errors:
            why.append(f"{self.failed} failed, {self.errors} error(s) of {self.tests_run} tests")
        if self.browser_skips:
            fix = ("pip install websocket-client into Odoo's virtualenv"
                   if "websocket-client" in self.browser_skips[0] else "install Debian's chromium")
            why.append(f"{len(self.browser_skips)} browser test(s) skipped for want of a usable "
                       f"browser ({self.browser_skips[0]}): {fix}")
        if self.other_error_lines:
            why.append(f"{len(self.other_error_lines)} ERROR/CRITICAL log line(s) besides test failures")
        elif self.error_lines and not (self.failed or self.errors):
            why.append(f"{len(self.error_lines)} ERROR/CRITICAL log line(s)")
        return why

    @property
    def ok(self) -> bool:
        return not self.reasons()


def judge(lines, returncode: int | None, timed_out: bool = False) -> Verdict:
    """Read an Odoo --test-enable log and decide. Pure: used by the runner and its tests."""
    verdict = Verdict(returncode=returncode, timed_out=timed_out)
    for raw in lines:
        line = raw.rstrip()
        match = LOG_LINE.match(line)
        if not match:
            continue
        level, logger, msg = match["level"], match["logger"], match["msg"]
        if level in BAD_LEVELS:
            verdict.error_lines.append(line)
        if (res := RESULT.search(msg)) and logger == "odoo.tests.result":
            # One line per database; the run has only ours. The last one wins.
            verdict.summary_seen = True
            verdict.failed, verdict.errors, verdict.tests_run = (
                int(res["failed"]), int(res["errors"]), int(res["run"]))
        elif (start := TEST_START.match(msg)) and level == "INFO":
            verdict.started.append(start["test"])
        elif (problem := TEST_PROBLEM.match(msg)) and level == "ERROR":
            verdict.problems.append(f"{problem['kind']}: {problem['test']}")
        elif (skip := SKIPPED.match(msg)) and level == "INFO":
            verdict.skipped += 1
            if BROWSER_SKIP.search(skip["reason"] or ""):
                verdict.browser_skips.append(f"{skip['test']}: {skip['reason'].strip()}")
        elif invalid := INVALID_MODULES.search(msg):
            if MODULE in invalid["names"]:
                verdict.invalid_modules = invalid["names"].strip()
        if f"Loading module {MODULE} " in msg or f"module {MODULE}: creating or updating" in msg:
            verdict.module_loaded = True
    return verdict


def condensed(line: str, state: dict) -> str | None:
    """What the console shows of one log line; state carries 'inside a shown record'."""
    match = LOG_LINE.match(line)
    if not match:
        # Continuation of a multi-line record (traceback): shown if its record was.
        return line if state.get("showing") else None
    level, logger, msg = match["level"], match["logger"], match["msg"]
    show = level not in ("INFO", "DEBUG") or any(p.search(f"{logger}: {msg}") for p in SHOWN_INFO)
    if level == "INFO" and (start := TEST_START.match(msg)):
        state["showing"] = False
        return f"    . {start['test']}"
    state["showing"] = show and level != "INFO"
    if not show:
        return None
    return f"  {level} {logger}: {msg}"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def addons_path(odoo_bin: Path, extra: str) -> list[str]:
    src = odoo_bin.resolve().parent
    paths = [str(p) for p in (src / "addons", src / "odoo" / "addons") if p.is_dir()]
    paths += [p.strip() for p in extra.split(",") if p.strip()]
    paths.append(str(REPO_ROOT))
    return paths


class Setup(Exception):
    """The configuration is present but unusable."""


def read_settings(env) -> dict:
    odoo_bin = Path(env["CAMPOTECH_ODOO_BIN"]).expanduser()
    if not odoo_bin.is_file():
        raise Setup(f"CAMPOTECH_ODOO_BIN={odoo_bin} is not a file")
    python = Path(env.get("CAMPOTECH_ODOO_PYTHON") or sys.executable).expanduser()
    if not (python.is_file() and os.access(python, os.X_OK)):
        raise Setup(f"CAMPOTECH_ODOO_PYTHON={python} is not an executable file")
    config = env.get("CAMPOTECH_ODOO_CONFIG", "")
    if config and not Path(config).expanduser().is_file():
        raise Setup(f"CAMPOTECH_ODOO_CONFIG={config} is not a file")
    for extra in (env.get("CAMPOTECH_ODOO_ADDONS_PATH") or "").split(","):
        if extra.strip() and not Path(extra.strip()).is_dir():
            raise Setup(f"CAMPOTECH_ODOO_ADDONS_PATH entry {extra.strip()} is not a directory")
    if not (REPO_ROOT / MODULE / "__manifest__.py").is_file():
        raise Setup(f"{REPO_ROOT / MODULE}/__manifest__.py not found")
    try:
        timeout = int(env.get("CAMPOTECH_ODOO_TIMEOUT") or DEFAULT_TIMEOUT)
    except ValueError as exc:
        raise Setup(f"CAMPOTECH_ODOO_TIMEOUT is not a number of seconds: {exc}") from exc
    return {
        "bin": odoo_bin,
        "python": str(python),
        "config": str(Path(config).expanduser()) if config else "",
        "template": env.get("CAMPOTECH_ODOO_TEMPLATE_DB", "").strip(),
        "addons": addons_path(odoo_bin, env.get("CAMPOTECH_ODOO_ADDONS_PATH", "")),
        "tags": env.get("CAMPOTECH_ODOO_TEST_TAGS") or f"/{MODULE}",
        "timeout": timeout,
        "keep_db": env.get("CAMPOTECH_KEEP_DB") == "1",
    }


def odoo_db_command(settings: dict, *args: str) -> list[str]:
    """`odoo-bin db ...`: Odoo's own filestore-aware duplicate/drop, using the same config."""
    cmd = [settings["python"], str(settings["bin"]), "db"]
    if settings["config"]:
        cmd += ["-c", settings["config"]]
    cmd += ["--addons-path", ",".join(settings["addons"])]
    return cmd + list(args)


def run_quiet(cmd: list[str], what: str, timeout: int = 600) -> None:
    print(f"odoo tests: {what}", flush=True)
    proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        tail = "\n".join(proc.stdout.strip().splitlines()[-15:])
        raise Setup(f"{what} failed (exit {proc.returncode}): {shlex.join(cmd)}\n{tail}")


def stream(cmd: list[str], log_path: Path, timeout: int) -> tuple[int | None, bool]:
    """Run Odoo, copy every line to log_path and a condensed view to the console.
    A watchdog stops Odoo after `timeout` seconds even if it hangs without printing."""
    state: dict = {}
    timed_out = threading.Event()
    with open(log_path, "w", encoding="utf-8") as log:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, errors="replace",
                                bufsize=1, start_new_session=True)

        def kill_group(sig):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                pass

        def watchdog():
            timed_out.set()
            kill_group(signal.SIGTERM)  # Odoo shuts down gracefully on the first one
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                kill_group(signal.SIGKILL)

        timer = threading.Timer(timeout, watchdog)
        timer.daemon = True
        timer.start()
        try:
            for line in proc.stdout:
                log.write(line)
                shown = condensed(line.rstrip("\n"), state)
                if shown is not None:
                    print(shown, flush=True)
            returncode = proc.wait()
        except BaseException:
            kill_group(signal.SIGKILL)
            proc.wait()
            raise
        finally:
            timer.cancel()
    return returncode, timed_out.is_set()


def report(verdict: Verdict, log_path: Path) -> int:
    if verdict.problems:
        print("odoo tests: failing tests:")
        for problem in verdict.problems:
            print(f"  {problem}")
    if verdict.browser_skips:
        print("odoo tests: browser tests skipped (Odoo could not drive Chrome/Chromium):")
        for skip in verdict.browser_skips:
            print(f"  {skip}")
    others = verdict.other_error_lines
    if others:
        print("odoo tests: ERROR/CRITICAL log lines besides test failures:")
        for line in others[:20]:
            print(f"  {line[:300]}")
        if len(others) > 20:
            print(f"  ... and {len(others) - 20} more")
    print(f"odoo tests: full log {log_path}")
    status = "ok" if verdict.ok else "FAILED — " + "; ".join(verdict.reasons())
    print(f"odoo tests: {status}")
    skipped = f", {verdict.skipped} skipped" if verdict.skipped else ""
    print(f"odoo tests: {verdict.passed} passed, {verdict.failed + verdict.errors} failed{skipped}", flush=True)
    return 0 if verdict.ok else 1


def main(env=None, argv=None) -> int:
    env = os.environ if env is None else env
    argv = sys.argv[1:] if argv is None else argv
    if argv == ["--addons-path"]:
        # For scripts/run: the same addons path the tests use.
        if not env.get("CAMPOTECH_ODOO_BIN"):
            print("CAMPOTECH_ODOO_BIN is not set", file=sys.stderr)
            return 1
        print(",".join(addons_path(Path(env["CAMPOTECH_ODOO_BIN"]), env.get("CAMPOTECH_ODOO_ADDONS_PATH", ""))))
        return 0
    if argv:
        print(__doc__.strip())
        return 0 if argv in (["-h"], ["--help"]) else 2
    if not env.get("CAMPOTECH_ODOO_BIN"):
        print(SKIP_LINE)
        return 0
    try:
        settings = read_settings(env)
    except Setup as exc:
        print(f"odoo tests: FAILED — configuration: {exc}")
        print("odoo tests: 0 passed, 0 failed")
        return 1

    db = f"campotech_test_{time.strftime('%Y%m%d_%H%M%S')}_{os.getpid()}"
    workdir = Path(tempfile.mkdtemp(prefix="campotech-odoo-tests-"))
    log_path = workdir / "odoo-tests.log"
    cmd = [settings["python"], str(settings["bin"])]
    if settings["config"]:
        cmd += ["-c", settings["config"]]
    cmd += [
        f"--addons-path={','.join(settings['addons'])}",
        "-d", db, "--db-filter", f"^{db}$",
        "-i", MODULE,
        "--test-enable", "--test-tags", settings["tags"],
        "--stop-after-init", "--log-level=test", "--without-demo=all",
        "--http-interface=127.0.0.1", f"--http-port={free_port()}",
        "--workers=0", "--max-cron-threads=0", "--logfile=",
    ]
    print(f"odoo tests: database {db}, addons path {','.join(settings['addons'])}")
    print(f"odoo tests: {shlex.join(cmd)}", flush=True)

    db_created = False
    verdict = None
    started = time.monotonic()
    try:
        if settings["template"]:
            run_quiet(odoo_db_command(settings, "duplicate", settings["template"], db),
                      f"copying template database {settings['template']} -> {db}")
        db_created = True  # Odoo creates it itself when there is no template
        returncode, timed_out = stream(cmd, log_path, settings["timeout"])
        with open(log_path, encoding="utf-8", errors="replace") as log:
            verdict = judge(log, returncode, timed_out)
    except Setup as exc:
        print(f"odoo tests: FAILED — {exc}")
        print("odoo tests: 0 passed, 0 failed")
        return 1
    except (OSError, subprocess.SubprocessError) as exc:
        print(f"odoo tests: FAILED — could not run Odoo: {exc}")
        print("odoo tests: 0 passed, 0 failed")
        return 1
    finally:
        keep = settings["keep_db"] and (verdict is None or not verdict.ok)
        if db_created and keep:
            print(f"odoo tests: keeping database {db} (CAMPOTECH_KEEP_DB=1)")
        elif db_created:
            try:
                run_quiet(odoo_db_command(settings, "drop", db), f"dropping database {db}", timeout=300)
            except (Setup, OSError, subprocess.SubprocessError) as exc:
                print(f"odoo tests: warning: could not drop {db}: {exc}")
    print(f"odoo tests: Odoo ran {time.monotonic() - started:.0f}s, {len(verdict.started)} tests started")
    return report(verdict, log_path)


if __name__ == "__main__":
    sys.exit(main())
