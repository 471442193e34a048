"""The shipped semantic calibration is the fit of the current code.

``scripts/calibrate_semantic.py`` fits the logistic model on features that ``TextSemantic.features``
computes. Changes to those features (normalisation, keyword spelling, the ordinary prompts) without
a refit left the shipped coefficients fitted on features the code no longer computes: on
2026-12-05 a refit of the unchanged code moved a coefficient from 0.15 to 0.09 and the review
threshold from 0.53 to 0.57, and blocked one more dev indirect prompt. Serving and calibration must
not drift apart, so the fit is rerun here and compared with the package data.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from clearance.signals.text_semantic import calibration
from tests.conftest import PROBES

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "calibrate_semantic.py"


def test_the_shipped_calibration_is_the_fit_of_the_current_features(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "calibration.json"
    run = subprocess.run([sys.executable, str(SCRIPT), "--data", str(data_dir), "--probes", str(PROBES),
                          "--out", str(out)], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    fitted, shipped = json.loads(out.read_text()), calibration()
    assert (fitted["features"], fitted["review_p"], fitted["block_p"]) == (
        shipped["features"], shipped["review_p"], shipped["block_p"]), "refit: python scripts/calibrate_semantic.py"
    for key in ("mean", "scale", "coef"):  # int8 kernels differ a little between CPUs: not bit for bit
        assert max(abs(a - b) for a, b in zip(fitted[key], shipped[key], strict=True)) < 2e-3, key
    assert abs(fitted["intercept"] - shipped["intercept"]) < 2e-3
