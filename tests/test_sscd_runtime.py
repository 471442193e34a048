"""Queries run SSCD in bfloat16 where the processor has it, references always in float32, and a
verdict names the runtime that computed its query side."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from clearance.home import Home
from clearance.media import sscd_runtime
from clearance.media.sscd import SscdEmbedder, served_model, shared_embedder
from clearance.model_cache import cached_model
from clearance.parallel import cpu_flags
from clearance.screening import Screener
from clearance.verdict import Action
from tests.conftest import DATA

IMAGES = DATA / "images"
needs_bf16 = pytest.mark.skipif(not sscd_runtime.openvino_has_bf16(),
                                reason="OpenVINO finds no bfloat16 units on this processor")
FORCED_BF16 = {**os.environ, sscd_runtime.PRECISION_SETTING: "bf16"}
"""Queries in bfloat16 wherever OpenVINO can, so the fast runtime is tested on processors without
AMX too, where ``auto`` keeps float32."""


def fast_runtime(streams: int = 1) -> sscd_runtime.OpenVinoRuntime:
    return sscd_runtime.OpenVinoRuntime(cached_model(*served_model("sscd_distilled")), streams)


def squares(count: int) -> np.ndarray:
    paths = sorted((IMAGES / "ref").glob("*.jpg"))[:count]
    return np.stack([SscdEmbedder.prepare(Image.open(path).convert("RGB")) for path in paths])


def unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


@needs_bf16
def test_fast_descriptors_are_bfloat16_close_to_the_exact_ones() -> None:
    batch = squares(12)
    fast, exact = fast_runtime(), shared_embedder(exact=True).runtime
    assert fast.label.startswith("openvino-") and fast.label.endswith("-bf16")
    assert exact.label.startswith("onnxruntime-") and exact.label.endswith("-f32")
    fast_rows, exact_rows = fast.run(batch), exact.run(batch)
    assert not np.array_equal(fast_rows, exact_rows)  # really another precision
    cosines = (unit(fast_rows) * unit(exact_rows)).sum(axis=1)
    assert cosines.min() >= 0.99 and cosines.mean() >= 0.995, cosines


@needs_bf16
def test_fast_descriptors_do_not_depend_on_how_many_threads_call() -> None:
    """One scrub worker runs two streams, N workers one each: both must compute the same floats."""
    batch = squares(4)
    one, two = fast_runtime(1), fast_runtime(2)
    assert np.array_equal(one.run(batch), two.run(batch))
    assert np.array_equal(one.run(batch[:1]), two.run(batch[:1]))


FIRST_CALLS = """
import threading, numpy as np
from clearance.media import sscd_runtime
from clearance.media.sscd import served_model
from clearance.model_cache import cached_model
from clearance.parallel import ordered_map
runtime = sscd_runtime.OpenVinoRuntime(cached_model(*served_model("sscd_distilled")), 2)
busy = True
def spin():  # other Python threads want the GIL too, as a screener's do
    while busy:
        sum(range(1000))
for _ in range(2):
    threading.Thread(target=spin, daemon=True).start()
list(ordered_map(runtime.run, [np.zeros((4, 288, 288, 3), np.uint8)] * 3, threads=2))
busy = False
print("done")
"""


@needs_bf16
def test_two_threads_making_a_new_process_first_calls_do_not_deadlock() -> None:
    """Without the runtime's first inference made alone, this hung 5 of 30 fresh processes
    (2026-12-06): twenty pass by chance ~2% of the time."""
    for _ in range(20):
        run = subprocess.run([sys.executable, "-c", FIRST_CALLS], capture_output=True, text=True, timeout=60)
        assert run.stdout.strip() == "done", run.stderr[-2000:]


FAILING_OPENVINO = """
import sys
sys.modules["openvino.tools.ovc"] = None  # no telemetry, as Clearance imports it
import openvino
def refuse(*args, **kwargs):
    raise RuntimeError("no plugin can compile this model here")
openvino.Core.compile_model = refuse  # OpenVINO failing, as it might on an unusual machine
from pathlib import Path
from clearance.home import Home
from clearance.screening import Screener
verdict = Screener(Home.resolve(sys.argv[1])).screen_media(Path(sys.argv[2]))
print(verdict.action.value, verdict.versions["image.sscd_runtime"], verdict.error)
"""


@needs_bf16
def test_openvino_failing_costs_speed_not_verdicts(registered_home: Home) -> None:
    """Where OpenVINO cannot compile the model, queries run in float32 with a warning, and a copy is
    still blocked by SSCD (before, every image became a ``review`` with the error)."""
    copy = IMAGES / "copies" / "ref_003_crop.jpg"
    run = subprocess.run([sys.executable, "-c", FAILING_OPENVINO, str(registered_home.root), str(copy)],
                         env=FORCED_BF16, capture_output=True, text=True, timeout=300)
    assert run.stdout.split() == ["block", sscd_runtime.label(fast=False), "None"], run.stderr[-2000:]
    assert "OpenVINO could not run" in run.stderr and "no plugin can compile" in run.stderr


DAMAGED_CACHE = """
from clearance.media import sscd_runtime
from clearance.media.sscd import SscdEmbedder, served_model
from clearance.model_cache import cached_model
path = cached_model(*served_model("sscd_distilled"))
built = path.read_bytes()
path.write_bytes(built[: len(built) // 3])  # truncated, as by a full disk
embedder = SscdEmbedder()
print(embedder.runtime.label, sscd_runtime.query_label(), path.read_bytes() == built)
"""


@needs_bf16
def test_a_damaged_cached_model_is_rebuilt_and_served_fast(tmp_path: Path) -> None:
    """A truncated cached file fails in OpenVINO and in ONNX Runtime alike: it is rebuilt and served in
    bfloat16, and verdicts say so (the fallback once named float32 here while OpenVINO served)."""
    env = {**FORCED_BF16, "CLEARANCE_MODEL_CACHE": str(tmp_path / "cache")}
    run = subprocess.run([sys.executable, "-c", DAMAGED_CACHE], env=env, capture_output=True, text=True,
                         timeout=300)
    fast = sscd_runtime.label(fast=True)
    assert run.stdout.split() == [fast, fast, "True"], run.stderr[-2000:]
    assert "OpenVINO could not run" not in run.stderr


def test_a_verdict_names_the_runtime_of_its_query_and_the_index_does_not_depend_on_it(
        registered_home: Home) -> None:
    """The index holds float32 reference fingerprints only, so a home's persisted index serves
    machines whose queries run in another precision."""
    copy = next(IMAGES.glob("copies/*.jpg"))
    screener = Screener(registered_home)
    verdict = screener.screen_media(copy)
    assert verdict.action == Action.BLOCK
    assert verdict.versions["image.sscd_runtime"] == sscd_runtime.query_label()
    assert verdict.versions["image.sscd_model"] == "sscd_distilled"
    for signal in screener.signals:
        assert "runtime" not in signal._index_key("fingerprint")


@pytest.mark.parametrize("setting", ["f32", " F32 ", "fp16"])
def test_the_f32_setting_makes_queries_exact(setting: str) -> None:
    """``f32`` (in any case) makes queries exact; a value that means nothing is warned about and
    taken as ``f32``, the precision that is the same everywhere."""
    code = ("import numpy as np; from PIL import Image; from clearance.media import sscd_runtime;"
            "from clearance.signals.image_sscd import embed_views;"
            f"im = [Image.open(p) for p in sorted(__import__('pathlib').Path('{IMAGES}/ref').glob('*.jpg'))[:3]];"
            "print(sscd_runtime.query_label(), np.array_equal(embed_views(im), embed_views(im, exact=True)))")
    env = {**os.environ, sscd_runtime.PRECISION_SETTING: setting}
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert run.stdout.split() == [sscd_runtime.label(fast=False), "True"]
    assert ("is none of auto, f32 and bf16" in run.stderr) == (setting == "fp16")


def test_openvino_is_imported_without_its_telemetry(tmp_path: Path) -> None:
    """Imported as it ships, OpenVINO writes a client id under ``~/intel`` and forks a process to send
    an event to Google Analytics; Clearance sends nothing anywhere."""
    code = ("import sys; from clearance.media import sscd_runtime; sscd_runtime.fast_available();"
            "sscd_runtime.label(fast=True); print(sorted(m for m in sys.modules if 'telemetry' in m))")
    env = {**os.environ, "HOME": str(tmp_path)}
    env.pop("CI", None)  # OpenVINO's own opt-out, which a user's machine does not have
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    assert not (tmp_path / "intel").exists()


def test_a_prompts_process_imports_openvino_only_where_the_processor_may_have_amx(tmp_path: Path) -> None:
    """Every verdict names the query runtime, a prompt's too. Where the processor's flags show no
    AMX, the flags say so without loading OpenVINO (~0.1 s and 17 MB of a prompt's process on an
    AVX2 EPYC); where they show it, or are unknown, OpenVINO is asked as before."""
    code = ("import sys; from clearance.home import Home; from clearance.screening import Screener;"
            f"verdict = Screener(Home.resolve({str(tmp_path / 'home')!r})).screen_prompt('a cat', audit=False);"
            "print(verdict.versions['image.sscd_runtime'], 'openvino' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    without_units = bool(cpu_flags()) and not cpu_flags() & sscd_runtime.FAST_BF16_UNITS
    assert out.split() == [sscd_runtime.query_label(), str(not without_units)]
