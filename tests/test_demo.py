"""The end-to-end demo: every step must happen, and a broken step must say so."""

import io
import subprocess
import sys
from pathlib import Path

from campotech_whatsapp.cloud import demo

ROOT = Path(__file__).resolve().parent.parent


def test_demo_main_returns_zero_after_every_step():
    out = io.StringIO()
    assert demo.main([], out=out) == 0
    log = out.getvalue()
    assert log.count("[ ok ]") == 11 and "[FAIL]" not in log
    assert "131047 (window_closed)" in log
    assert "sent -> delivered -> read" in log
    assert "confirmamos tu visita técnica para el martes 14 a las 10:00" in log


def test_demo_stops_with_a_clear_message_when_a_step_fails():
    out = io.StringIO()
    # An account without the approved template: the loop runs until the template step.
    run = demo.Demo(out, sim_options={"seed_templates": False})
    try:
        assert run.run() == 1
    finally:
        run.close()
    log = out.getvalue()
    assert "[FAIL] 10. Send the approved template instead" in log
    assert "turno_confirmado is not approved" in log
    assert "Demo FAILED at step 10 of 11." in log
    assert log.count("[ ok ]") == 9


def test_demo_runs_as_a_module():
    done = subprocess.run([sys.executable, "-m", "campotech_whatsapp.cloud.demo"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "All 11 steps happened" in done.stdout
