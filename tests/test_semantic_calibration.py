"""The shipped semantic calibration is the fit of the current code.

``scripts/calibrate_semantic.py`` fits the logistic model on features that ``TextSemantic.features``
computes. Changes to those features (normalisation, keyword spelling, the ordinary prompts) without
a refit left the shipped coefficients fitted on features the code no longer computes: on
2026-12-05 a refit of the unchanged code moved a coefficient from 0.15 to 0.09 and the review
threshold from 0.53 to 0.57, and blocked one more dev indirect prompt. Serving and calibration must
not drift apart, so the fit is rerun here and compared with the package data.

The comparison is of what the two models decide, not of their coefficients: MiniLM's int8 kernels
differ between CPU families (AVX2 against AVX-512 VNNI), and the trait features are collinear, so a
refit on an AVX2-only EPYC moved one coefficient by 0.12 from the Xeon's while the probabilities of
the 4,234 candidate rows moved by 0.0008 on average and no decision moved by more than 0.025 from
its threshold (2026-12-07).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from clearance.signals.text_semantic import calibration, probability
from tests.conftest import PROBES

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "calibrate_semantic.py"
MEAN_SHIFT = 0.005
"""Largest mean change of a candidate's probability that CPU kernels explain (0.0008 measured)."""
NEAR = 0.04
"""How close to a threshold a candidate must be for CPU kernels to move it across (0.025 measured)."""


def calibration_script():
    spec = importlib.util.spec_from_file_location("calibrate_semantic", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def levels(p: np.ndarray, thresholds: tuple[float, ...]) -> np.ndarray:
    return np.searchsorted(np.asarray(thresholds), p, side="right")


def test_the_shipped_calibration_is_the_fit_of_the_current_features(data_dir: Path) -> None:
    shipped = calibration()
    fitted, rows = calibration_script().calibrate(data_dir, PROBES, shipped["l2"])
    assert (fitted["features"], fitted["review_p"], fitted["block_p"]) == (
        shipped["features"], shipped["review_p"], shipped["block_p"]), "refit: python scripts/calibrate_semantic.py"
    x = np.array([r[3] for r in rows])
    p_fitted, p_shipped = probability(x, fitted), probability(x, shipped)
    assert np.abs(p_fitted - p_shipped).mean() < MEAN_SHIFT, "refit: python scripts/calibrate_semantic.py"
    thresholds = (shipped["review_p"], shipped["block_p"])
    moved = levels(p_fitted, thresholds) != levels(p_shipped, thresholds)
    far = np.min(np.abs(p_shipped[moved, None] - np.asarray(thresholds)), axis=1, initial=1.0) > NEAR
    assert not far.any(), [rows[i][:3] for i in np.flatnonzero(moved)[far]]
