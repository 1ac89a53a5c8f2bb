"""tools/odoo_tests.py: how it reads an Odoo 18 test log, and how it behaves unconfigured."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("odoo_tests", ROOT / "tools" / "odoo_tests.py")
ot = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = ot  # dataclasses look their module up by name
_spec.loader.exec_module(ot)

DB = "campotech_test_1"
PREFIX = "2026-11-25 12:52:31,194 17288"


def line(level, logger, msg, db=DB):
    return f"{PREFIX} {level} {db} {logger}: {msg} "


LOADED = line("INFO", "odoo.modules.loading", "Loading module campotech_whatsapp (45/51)")
STARTS = [line("INFO", "odoo.addons.campotech_whatsapp.tests.test_a", f"Starting TestA.test_{i} ...") for i in range(3)]


def summary(failed, errors, run, level="INFO"):
    return line(level, "odoo.tests.result",
                f"{failed} failed, {errors} error(s) of {run} tests when loading database '{DB}'")


def test_clean_run_passes_and_counts_tests():
    verdict = ot.judge([LOADED, *STARTS, summary(0, 0, 3)], returncode=0)
    assert verdict.ok, verdict.reasons()
    assert (verdict.passed, verdict.failed, verdict.errors) == (3, 0, 0)
    assert len(verdict.started) == 3


def test_failures_and_errors_fail_the_run_and_name_the_tests():
    log = [
        LOADED, *STARTS,
        line("ERROR", "odoo.addons.campotech_whatsapp.tests.test_a", "FAIL: TestA.test_1"),
        "Traceback (most recent call last):",
        "AssertionError: 1 != 2",
        line("ERROR", "odoo.addons.campotech_whatsapp.tests.test_a", "ERROR: TestA.test_2"),
        line("ERROR", "odoo.modules.loading", "Module campotech_whatsapp: 1 failures, 1 errors of 3 tests"),
        summary(1, 1, 3, level="ERROR"),
    ]
    verdict = ot.judge(log, returncode=1)
    assert not verdict.ok
    assert verdict.problems == ["FAIL: TestA.test_1", "ERROR: TestA.test_2"]
    assert (verdict.passed, verdict.failed, verdict.errors) == (1, 1, 1)
    assert verdict.other_error_lines == []
    assert "1 failed, 1 error(s) of 3 tests" in "; ".join(verdict.reasons())


def test_zero_tests_is_a_failure_even_with_exit_zero():
    verdict = ot.judge([LOADED, summary(0, 0, 0, level="WARNING")], returncode=0)
    assert not verdict.ok
    assert any("0 tests ran" in r for r in verdict.reasons())


def test_error_log_line_fails_a_run_whose_tests_passed():
    log = [LOADED, *STARTS, line("ERROR", "odoo.addons.campotech_whatsapp.models.wa_message", "send crashed"),
           summary(0, 0, 3)]
    verdict = ot.judge(log, returncode=0)
    assert not verdict.ok
    assert len(verdict.other_error_lines) == 1 and "send crashed" in verdict.other_error_lines[0]


def test_critical_install_failure_without_summary_fails():
    log = [LOADED,
           line("ERROR", "odoo.modules.registry", "Failed to load registry"),
           line("CRITICAL", "odoo.service.server", f"Failed to initialize database `{DB}`."),
           "Traceback (most recent call last):",
           "FileNotFoundError: File not found: campotech_whatsapp/views/x.xml"]
    verdict = ot.judge(log, returncode=255)
    reasons = "; ".join(verdict.reasons())
    assert "exited with code 255" in reasons
    assert "no test result summary" in reasons
    assert len(verdict.other_error_lines) == 2


def test_module_missing_from_addons_path_is_named():
    log = [line("WARNING", "odoo.modules.loading", "invalid module names, ignored: campotech_whatsapp"),
           summary(0, 0, 0, level="WARNING")]
    verdict = ot.judge(log, returncode=0)
    assert any("did not find module(s) campotech_whatsapp" in r for r in verdict.reasons())


def test_skipped_tests_are_not_counted_as_passed():
    log = [LOADED, *STARTS,
           line("INFO", "odoo.addons.campotech_whatsapp.tests.test_a", "skipped TestA.test_2 : needs a second company"),
           summary(0, 0, 3)]
    verdict = ot.judge(log, returncode=0)
    assert verdict.ok and verdict.skipped == 1 and verdict.passed == 2


def test_timeout_fails():
    verdict = ot.judge([LOADED, *STARTS], returncode=-15, timed_out=True)
    assert any("killed" in r for r in verdict.reasons())


def test_condensed_output_keeps_problems_and_drops_chatter():
    state = {}
    shown = [ot.condensed(raw, state) for raw in [
        line("INFO", "odoo.modules.registry", "some chatter"),
        "continuation of chatter",
        STARTS[0],
        line("ERROR", "odoo.addons.campotech_whatsapp.tests.test_a", "FAIL: TestA.test_0"),
        "Traceback (most recent call last):",
        summary(0, 0, 3),
    ]]
    assert shown[0] is None and shown[1] is None
    assert shown[2] == "    . TestA.test_0"
    assert shown[3].startswith("  ERROR ") and shown[4] == "Traceback (most recent call last):"
    assert "0 failed, 0 error(s) of 3 tests" in shown[5]


def _run(env_extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAMPOTECH_")}
    env.update(env_extra)
    return subprocess.run([sys.executable, str(ROOT / "tools" / "odoo_tests.py")], env=env,
                          capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL)


def test_unconfigured_skips_with_one_line_and_exit_zero():
    proc = _run({})
    assert proc.returncode == 0
    assert proc.stdout.strip() == ot.SKIP_LINE


@pytest.mark.parametrize("env_extra, fragment", [
    ({"CAMPOTECH_ODOO_BIN": "/nonexistent/odoo-bin"}, "CAMPOTECH_ODOO_BIN=/nonexistent/odoo-bin is not a file"),
    ({"CAMPOTECH_ODOO_BIN": __file__, "CAMPOTECH_ODOO_CONFIG": "/nonexistent.conf"}, "is not a file"),
    ({"CAMPOTECH_ODOO_BIN": __file__, "CAMPOTECH_ODOO_PYTHON": "/nonexistent/python"}, "not an executable"),
])
def test_configured_but_broken_fails_loudly(env_extra, fragment):
    proc = _run(env_extra)
    assert proc.returncode == 1
    assert fragment in proc.stdout
    assert proc.stdout.strip().splitlines()[-1] == "odoo tests: 0 passed, 0 failed"


def test_addons_path_takes_odoo_layouts_extra_dirs_and_the_repo(tmp_path):
    (tmp_path / "addons").mkdir()
    (tmp_path / "odoo" / "addons").mkdir(parents=True)
    odoo_bin = tmp_path / "odoo-bin"
    odoo_bin.write_text("")
    paths = ot.addons_path(odoo_bin, " /extra/one, ,/extra/two")
    assert paths == [str(tmp_path / "addons"), str(tmp_path / "odoo" / "addons"),
                     "/extra/one", "/extra/two", str(ROOT)]


# What odoo/tests/result.py's addSkip logs (INFO, 'skipped %s : %s', on the test module's logger)
# when HttpCase.browser_js / start_tour raise unittest.SkipTest in odoo/tests/common.py.
TOUR_LOGGER = "odoo.addons.campotech_whatsapp.tests.test_tours"


@pytest.mark.parametrize("reason", [
    "Chrome executable not found",                       # _find_executable: no chrome/chromium
    "websocket-client module is not installed",          # ChromeBrowser.__init__
    "Failed to detect chrome devtools port after 10.0s.",  # _spawn_chrome
    "/usr/bin/chromium not found",                       # _chrome_start: OSError on spawn
    "Error during Chrome headless connection",           # _json_command
    "Cannot connect to chrome dev tools",                # _open_websocket
])
def test_a_tour_skipped_for_want_of_a_browser_fails_the_run(reason):
    log = [LOADED, *STARTS,
           line("INFO", TOUR_LOGGER, "Starting TestTours.test_inbox_tour ..."),
           line("INFO", TOUR_LOGGER, f"skipped TestTours.test_inbox_tour : {reason}"),
           summary(0, 0, 4)]
    verdict = ot.judge(log, returncode=0)
    assert not verdict.ok
    assert verdict.browser_skips == [f"TestTours.test_inbox_tour: {reason}"]
    why = "; ".join(verdict.reasons())
    assert "1 browser test(s) skipped" in why
    assert ("pip install websocket-client" if "websocket" in reason else "install Debian's chromium") in why
    assert (verdict.passed, verdict.skipped) == (3, 1)


def test_a_skip_for_another_reason_is_counted_but_not_a_browser_failure():
    log = [LOADED, *STARTS,
           line("INFO", TOUR_LOGGER, "skipped TestTours.test_pdf : wkhtmltopdf is not installed"),
           summary(0, 0, 3)]
    verdict = ot.judge(log, returncode=0)
    assert verdict.ok, verdict.reasons()
    assert verdict.browser_skips == [] and verdict.skipped == 1


def test_a_tour_that_ran_is_not_a_skip():
    log = [LOADED,
           line("INFO", TOUR_LOGGER, "Starting TestTours.test_inbox_tour ..."),
           line("INFO", TOUR_LOGGER, "Chrome pid: 4242"),
           line("INFO", TOUR_LOGGER, 'Open "http://127.0.0.1:8069/odoo/action-x" in browser'),
           line("INFO", f"{TOUR_LOGGER}.browser", "tour succeeded"),
           summary(0, 0, 1)]
    verdict = ot.judge(log, returncode=0)
    assert verdict.ok, verdict.reasons()
    assert verdict.browser_skips == [] and verdict.passed == 1


def test_browser_skips_are_shown_in_the_console_and_the_report(tmp_path, capsys):
    skip = line("INFO", TOUR_LOGGER, "skipped TestTours.test_inbox_tour : Chrome executable not found")
    assert "skipped TestTours.test_inbox_tour" in ot.condensed(skip, {})
    verdict = ot.judge([LOADED, *STARTS, skip, summary(0, 0, 4)], returncode=0)
    assert ot.report(verdict, tmp_path / "odoo.log") == 1
    out = capsys.readouterr().out
    assert "TestTours.test_inbox_tour: Chrome executable not found" in out
    assert out.strip().splitlines()[-1] == "odoo tests: 3 passed, 0 failed, 1 skipped"


# Verbatim from two real Odoo 18 runs of an HttpCase calling browser_js: one with Odoo's
# virtualenv lacking websocket-client, one with no chromium on PATH. Both "passed" for Odoo.
REAL_SKIPPED_RUNS = {
    "no websocket-client": """\
2026-12-01 23:41:06,486 7549 INFO campotech_test_20261201_234034_7196 odoo.modules.loading: Loading module campotech_whatsapp (30/30)
2026-12-01 23:45:51,415 7549 INFO campotech_test_20261201_234034_7196 odoo.addons.campotech_whatsapp.tests.test_zz_browser_probe: Starting TestBrowserProbe.test_browser_runs ...
2026-12-01 23:45:52,464 7549 WARNING campotech_test_20261201_234034_7196 odoo.addons.campotech_whatsapp.tests.test_zz_browser_probe.TestBrowserProbe.test_browser_runs: websocket-client module is not installed
2026-12-01 23:45:52,464 7549 INFO campotech_test_20261201_234034_7196 odoo.addons.campotech_whatsapp.tests.test_zz_browser_probe: skipped TestBrowserProbe.test_browser_runs : websocket-client module is not installed
2026-12-01 23:45:52,706 7549 INFO campotech_test_20261201_234034_7196 odoo.tests.result: 0 failed, 0 error(s) of 1 tests when loading database 'campotech_test_20261201_234034_7196'
""",
    "no chromium": """\
2026-12-01 23:53:15,878 20583 INFO campotech_test_20261201_235235_19270 odoo.modules.loading: Loading module campotech_whatsapp (30/30)
2026-12-01 23:58:36,412 20583 INFO campotech_test_20261201_235235_19270 odoo.addons.campotech_whatsapp.tests.test_zz_browser_probe: Starting TestBrowserProbe.test_browser_runs ...
2026-12-01 23:58:37,300 20583 INFO campotech_test_20261201_235235_19270 odoo.addons.campotech_whatsapp.tests.test_zz_browser_probe: skipped TestBrowserProbe.test_browser_runs : Chrome executable not found
2026-12-01 23:58:37,451 20583 INFO campotech_test_20261201_235235_19270 odoo.tests.result: 0 failed, 0 error(s) of 1 tests when loading database 'campotech_test_20261201_235235_19270'
""",
}


@pytest.mark.parametrize("case", sorted(REAL_SKIPPED_RUNS))
def test_real_odoo_logs_of_a_skipped_browser_test_fail_the_run(case):
    verdict = ot.judge(REAL_SKIPPED_RUNS[case].splitlines(keepends=True), returncode=0)
    assert verdict.summary_seen and verdict.tests_run == 1 and verdict.module_loaded
    assert not verdict.ok
    assert len(verdict.browser_skips) == 1
    assert verdict.browser_skips[0].startswith("TestBrowserProbe.test_browser_runs: ")
    assert verdict.passed == 0
