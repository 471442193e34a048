"""Fit the ``text.semantic`` calibration on the dev prompts and write it as package data.

Usage: python scripts/calibrate_semantic.py [--data ../shared/data] [--out src/clearance/data/semantic_calibration.json]

Positives are the indirect dev prompts against their labelled work; negatives are every
candidate work of the benign, hard-negative and negative-only prompts, and the other
candidate works of the indirect prompts. The features are computed by the production
signal (``TextSemantic.features``), so training and serving cannot drift apart. The fit is
an L2-regularised, class-balanced logistic regression (Newton steps in numpy). Reported
figures come from leave-one-work-out cross-validation: the model scoring a work never saw
that work's prompts, which is the held-out situation (other characters, other prompts).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

from clearance.db.engine import session_factory
from clearance.home import Home
from clearance.registry.media_store import MediaStore
from clearance.registry.store import Registry
from clearance.signals.text_semantic import FEATURES, TextSemantic

ROOT = Path(__file__).resolve().parents[1]
NEGATIVE_KINDS = ("benign", "hard_negative", "negative_only")


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1.0, steps: int = 50) -> tuple[np.ndarray, float]:
    """Class-balanced L2 logistic regression by Newton's method; returns (coef, intercept)."""
    weights = np.where(y == 1, len(y) / (2 * max(1, y.sum())), len(y) / (2 * max(1, (1 - y).sum())))
    xb = np.hstack([x, np.ones((len(x), 1))])
    beta = np.zeros(xb.shape[1])
    penalty = np.diag([l2] * x.shape[1] + [0.0])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-xb @ beta))
        grad = xb.T @ (weights * (p - y)) + penalty @ beta
        hess = (xb * (weights * p * (1 - p))[:, None]).T @ xb + penalty
        step = np.linalg.solve(hess, grad)
        beta -= step
        if np.abs(step).max() < 1e-8:
            break
    return beta[:-1], float(beta[-1])


def collect(signal: TextSemantic, prompts: list[dict]) -> list[tuple[str, str, str, np.ndarray, int]]:
    """(prompt id, kind, work slug, features, label) for every candidate work of every prompt."""
    rows = []
    for p in prompts:
        if p["kind"] not in ("indirect", *NEGATIVE_KINDS):
            continue
        for w, (vector, _) in signal.features(p["prompt"]).items():
            slug = signal.works[w].slug
            label = int(p["kind"] == "indirect" and p.get("work_id") == slug)
            rows.append((p["id"], p["kind"], slug, vector, label))
    return rows


def cross_validate(rows: list, l2: float) -> dict[str, float]:
    """Leave one work out: per prompt, the best held-out probability over its candidates."""
    x = np.array([r[3] for r in rows])
    y = np.array([r[4] for r in rows])
    works = np.array([r[2] for r in rows])
    probs = np.zeros(len(rows))
    for work in np.unique(works):
        train, test = works != work, works == work
        mean, scale = x[train].mean(0), x[train].std(0) + 1e-9
        coef, b = fit_logistic((x[train] - mean) / scale, y[train], l2)
        probs[test] = 1 / (1 + np.exp(-(((x[test] - mean) / scale) @ coef + b)))
    best: dict[str, float] = {}
    kinds: dict[str, str] = {}
    for (pid, kind, _, _, label), p in zip(rows, probs, strict=True):
        kinds[pid] = kind
        if kind in NEGATIVE_KINDS or label:
            best[pid] = max(best.get(pid, 0.0), p)
    return {pid: best.get(pid, 0.0) for pid in kinds}, kinds


def rates(best: dict[str, float], kinds: dict[str, str], threshold: float) -> dict[str, float]:
    out = {}
    for kind in ("indirect", *NEGATIVE_KINDS):
        vals = [p for pid, p in best.items() if kinds[pid] == kind]
        out[kind] = round(float(np.mean(np.array(vals) >= threshold)), 4) if vals else 0.0
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=ROOT / "src" / "clearance" / "data" / "semantic_calibration.json")
    parser.add_argument("--l2", type=float, default=0.3)
    args = parser.parse_args()
    prompts = [json.loads(line) for line in (args.data / "text" / "prompts_dev.jsonl").open(encoding="utf-8")]
    with tempfile.TemporaryDirectory() as tmp:
        home = Home.resolve(tmp)
        registry = Registry(session_factory(home.database_url), MediaStore(home.media_dir))
        registry.import_file(args.data / "text" / "works.yaml")
        signal = TextSemantic(home.index_dir / TextSemantic.name)
        signal.ensure_indexed(registry.snapshot())
        rows = collect(signal, prompts)
    best, kinds = cross_validate(rows, args.l2)
    x = np.array([r[3] for r in rows])
    y = np.array([r[4] for r in rows])
    mean, scale = x.mean(0), x.std(0) + 1e-9
    coef, intercept = fit_logistic((x - mean) / scale, y, args.l2)
    review_p, block_p = 0.5, 0.8
    result = {
        "features": list(FEATURES), "mean": mean.round(6).tolist(), "scale": scale.round(6).tolist(),
        "coef": coef.round(6).tolist(), "intercept": round(intercept, 6),
        "review_p": review_p, "block_p": block_p, "report_p": 0.3, "l2": args.l2,
        "trained_on": "shared/data/text/prompts_dev.jsonl (indirect vs benign/hard_negative/negative_only)",
        "leave_one_work_out": {"at_review": rates(best, kinds, review_p), "at_block": rates(best, kinds, block_p)},
    }
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result["leave_one_work_out"], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
