"""Live reload in a real `show` window (Xvfb): an edit shows up, a broken edit keeps the last
good version drawing with the error on screen, and the next good save recovers."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.window


def still_blue(now: np.ndarray, blue: np.ndarray) -> None:
    """Still the blue version drawing (the strands move, so compare hue and rough level)."""
    assert now[2] > 2 * now[0] + 1
    assert 0.6 * blue[2] < now[2] < 1.5 * blue[2]


def test_edit_broken_edit_and_recovery(x_display, tmp_path):
    res = subprocess.run([sys.executable, str(ROOT / "tests" / "reload_driver.py"), str(tmp_path)],
                         cwd=ROOT, capture_output=True, text=True, timeout=240,
                         env={**os.environ, "DISPLAY": x_display})
    assert res.returncode == 0, res.stderr[-3000:]
    seen = json.loads(res.stdout.strip().splitlines()[-1])
    assert seen["drawn"] > 0
    red, blue = np.array(seen["red"]), np.array(seen["blue"])
    assert red[0] > 2 * red[2] and blue[2] > 2 * blue[0], "the edit changed the picture"
    # a syntax error: the last good (blue) version keeps drawing, the error names file and line
    assert "SyntaxError" in seen["broken_error"] and "tint.py:" in seen["broken_error"]
    still_blue(np.array(seen["broken"]), blue)
    assert seen["error_on_screen"], "the error is shown in the window"
    # an exception in update(): the previous version comes back, still blue, error reported
    assert "RuntimeError: boom" in seen["update_error"] and "tint.py:" in seen["update_error"]
    still_blue(np.array(seen["after_update_error"]), blue)
    # a good save recovers by itself
    rec = np.array(seen["recovered"])
    assert rec[0] < 0.5 * blue[0] + 5 and rec[2] < 0.5 * blue[2]
