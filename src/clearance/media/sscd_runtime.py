"""Where an SSCD pass runs: exactly (ONNX Runtime, float32), or fast (OpenVINO, bfloat16).

SSCD is ~40% of a scrubbed record's CPU. On processors with Intel AMX, OpenVINO runs a 288 px
pass in bfloat16 in 1.73 ms against ONNX Runtime's 4.34 ms on one thread, with descriptors at
cosine 0.997 to the float32 ones (2026-12-06, the reference machine); OpenVINO in float32 is no
faster than ONNX Runtime (4.55 ms), and neither is bfloat16 without AMX (``FAST_BF16_UNITS``), so
those processors keep ONNX Runtime. The runtime is the processor's, so descriptors differ between
machines by up to ~0.004 of cosine; therefore:

- references and the shipped background are always embedded exactly, so a registry's
  fingerprints are the same on every machine (``exact=True``);
- queries (the content being screened) use the fast runtime where there is one, and each verdict
  names it (``Runtime.label``, in the verdict's model versions);
- ``CLEARANCE_SSCD_PRECISION=f32`` makes queries exact too (to reproduce a verdict made on a
  machine without AMX, or to compare the two), and ``bf16`` makes them bfloat16 wherever OpenVINO
  can (to reproduce a verdict made on a machine with AMX).

OpenVINO's package imports its model converter, which starts a telemetry client that, unless a
consent file in the user's home says no, writes files there and forks a process to send an event
to Google Analytics, on import. Clearance uses no network at run time and needs no converter (it
compiles the ONNX file directly), so ``_openvino`` blocks that one module before the import.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Protocol

import numpy as np
import onnxruntime as ort

from clearance.model_cache import open_session
from clearance.parallel import cpu_flags

PRECISION_SETTING = "CLEARANCE_SSCD_PRECISION"
"""``auto`` (the default: bfloat16 where the processor has AMX), ``f32`` or ``bf16`` (bfloat16
wherever OpenVINO can); any other value is warned about and taken as ``f32``, the precision that
is the same on every machine (``fast_available``)."""
FAST_BF16_UNITS = frozenset(("amx_bf16",))
"""Linux's name of the x86 instruction set that makes OpenVINO's bfloat16 faster than float32:
Intel AMX. AVX-512 BF16 alone does not: on a Xeon whose virtual machine showed avx512_bf16 but
not AMX, a 288 px pass took 8.3 ms in bfloat16 against 4.3-5.0 ms in float32 with ONNX Runtime
(2026-12-07, one-off, 100 passes each, twice), so a processor whose flags show no AMX keeps ONNX
Runtime without OpenVINO being loaded (``fast_available``)."""
log = logging.getLogger(__name__)
_FIRST_CALL = threading.Lock()
"""Held while an ``OpenVinoRuntime`` is compiled and makes its first inference (see there)."""
_FAST_FAILED = threading.Event()
"""Set once OpenVINO has failed to compile or run the model in this process (``open_runtime``)."""


class Runtime(Protocol):
    label: str
    """What computed the descriptors, e.g. ``onnxruntime-1.32.0-f32``: recorded with each verdict."""

    def run(self, batch: np.ndarray) -> np.ndarray:
        """Descriptors (N, 512), not yet normalised, of a uint8 NHWC batch; safe to call from threads."""
        ...


class OrtRuntime:
    """ONNX Runtime in float32, one thread per call (``clearance.parallel``); exact everywhere."""

    def __init__(self, path: Path) -> None:
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self.session = open_session(path, options)
        self.label = label(fast=False)

    def run(self, batch: np.ndarray) -> np.ndarray:
        return self.session.run(None, {"image": batch})[0].astype(np.float32)


class OpenVinoRuntime:
    """OpenVINO in bfloat16. One stream of one thread per thread that calls it: with a single
    stream, two threads' calls queue behind each other (521 passes/s against 984 with two
    streams, 2026-12-06), and a stream of two threads spends two cores on one 288 px pass.

    The first inference of a process runs once, alone, before any thread can call ``run``:
    OpenVINO's Python binding initialises a C++ static on its first input conversion while
    taking the GIL, so two threads making the process's first calls at once can deadlock, one
    holding the static's guard and waiting for the GIL, the other holding the GIL and waiting
    for the guard (a test run hung so, 2026-12-06)."""

    def __init__(self, path: Path, streams: int) -> None:
        config = {"INFERENCE_PRECISION_HINT": "bf16", "NUM_STREAMS": streams, "INFERENCE_NUM_THREADS": streams,
                  "ENABLE_CPU_PINNING": False}  # a scrub runs one process per core: pinning would stack them
        self._requests = threading.local()
        with _FIRST_CALL:  # two embedders built at once (a preload and a first query) warm up in turn
            self.compiled = _openvino().Core().compile_model(str(path), "CPU", config)
            self.run(np.zeros((1, 288, 288, 3), np.uint8))  # an input of the served size (media.sscd.SIZE)
        self.label = label(fast=True)

    def run(self, batch: np.ndarray) -> np.ndarray:
        request = getattr(self._requests, "request", None)
        if request is None:
            request = self._requests.request = self.compiled.create_infer_request()
        return np.array(request.infer({0: batch})[0], dtype=np.float32)  # a copy: the request reuses its buffer


@cache
def fast_available() -> bool:
    """Whether queries run in bfloat16 here: by default where the processor has AMX and OpenVINO
    finds bf16 units; with the setting ``bf16``, wherever OpenVINO finds them (to measure or
    reproduce a bfloat16 verdict on a processor without AMX); with ``f32``, nowhere.

    Every verdict names the query runtime, a prompt's too, so this is asked in processes that never
    screen an image. Where the processor's flags are known and show no AMX (``FAST_BF16_UNITS``),
    the answer is no without loading OpenVINO: on a 2-core AVX2 EPYC a prompt's process then reached
    its first verdict 1.63 s after the interpreter's start against 1.74 s (medians of 6 alternating
    runs at 10,000 works) and peaked at 287 against 304 MB (one-off, 2026-12-07). Elsewhere (flags
    unknown, as on ARM, or showing AMX) OpenVINO is asked."""
    setting = os.environ.get(PRECISION_SETTING, "").strip().lower() or "auto"
    if setting not in ("auto", "f32", "bf16"):
        log.warning("%s=%r is none of auto, f32 and bf16: SSCD queries run in float32", PRECISION_SETTING, setting)
    if setting not in ("auto", "bf16") or (setting == "auto" and cpu_flags() and not cpu_flags() & FAST_BF16_UNITS):
        return False
    return openvino_has_bf16()


def openvino_has_bf16() -> bool:
    """Whether OpenVINO is installed and finds bf16 units on this processor (AMX or AVX-512 BF16)."""
    try:
        openvino = _openvino()
    except ImportError:
        return False
    return "BF16" in openvino.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")


def label(fast: bool) -> str:
    """The name of a runtime and its precision, e.g. ``openvino-2026.4.1-bf16``."""
    if fast:
        return f"openvino-{_openvino().__version__.split('-')[0]}-bf16"
    return f"onnxruntime-{ort.__version__}-f32"


def query_label() -> str:
    """The label of the runtime queries use, known without loading a model (for model versions):
    the fast one where there is one, unless it has failed in this process."""
    return label(fast_available() and not _FAST_FAILED.is_set())


def open_runtime(path: Path, exact: bool, threads: int) -> Runtime:
    """The runtime for the model file ``path``: float32 when ``exact`` or when the processor has no
    AMX (``fast_available``); else bfloat16 for ``threads`` threads calling it at once. When OpenVINO cannot
    compile or run the model, queries run in float32, with a warning: the optional accelerator
    failing must cost speed, not turn every screened image into a ``review`` (each verdict still
    names the runtime that computed it)."""
    if exact or not fast_available():
        return OrtRuntime(path)
    try:
        return OpenVinoRuntime(path, threads)
    except Exception as exc:  # whatever OpenVINO raises, ONNX Runtime can still serve
        # A damaged file fails here too, before anything is set: ``cached_load`` rebuilds it and
        # calls again, and OpenVINO then serves.
        exact_runtime = OrtRuntime(path)
        _FAST_FAILED.set()
        log.warning("OpenVINO could not run %s (%s: %s): SSCD queries run in float32 in this process",
                    path.name, type(exc).__name__, exc)
        return exact_runtime


def _openvino() -> ModuleType:
    """OpenVINO (~0.13 s to import: only processes that screen images pay for it), without its model
    converter and the telemetry that comes with it (see the module docstring)."""
    sys.modules.setdefault("openvino.tools.ovc", None)  # a None entry makes that import fail, which
    import openvino  # the package's __init__ catches (ImportError) and goes on without the converter

    return openvino
