"""Score normalisation of SSCD cosines against a background set of unrelated images.

A raw cosine says how alike two pictures are, but some queries resemble *everything* (flat
clip art on white, text, plain skies) and reach high cosines with any reference. The SSCD
paper's remedy is to subtract, from every similarity of a query, its similarity to its k-th
nearest neighbour in a background set of images known to be unrelated; the difference
measures how much more the query resembles this reference than it resembles the world.

The background vectors ship as package data (``data/sscd_background.npz``), built by
``python -m clearance.index.background`` from redistributable Debian artwork that is
neither in the registry nor in the dev images (see ``data/sscd_background.md``). A
background vector that resembles a registered reference is dropped at index time, so a work
whose still happens to be in the background is not normalised against itself.
"""

from __future__ import annotations

import argparse
import hashlib
from importlib.resources import files
from pathlib import Path

import numpy as np

BACKGROUND_NPZ = "sscd_background.npz"
NEIGHBOUR = 10
"""Normalise by the similarity to the 10th nearest background vector."""
EXCLUDE_ABOVE = 0.5
"""Background vectors this close to a registered reference are left out (it may be the same picture)."""


def load_background(model: str) -> np.ndarray:
    """The shipped background descriptors of ``model`` as unit float32 rows (empty when none ship)."""
    resource = files("clearance") / "data" / BACKGROUND_NPZ
    if not resource.is_file():
        return np.zeros((0, 512), np.float32)
    with resource.open("rb") as fh, np.load(fh) as data:
        if str(data["model"]) != model:
            raise ValueError(f"background vectors were built with {data['model']}, not {model}")
        vectors = data["vectors"].astype(np.float32)
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


class BackgroundNormaliser:
    """Per-query offsets: the similarity of each query vector to its k-th background neighbour."""

    def __init__(self, background: np.ndarray, references: np.ndarray) -> None:
        if len(background) and len(references):
            closest = np.max(background @ references.T, axis=1)
            background = background[closest <= EXCLUDE_ABOVE]
        self.columns = np.ascontiguousarray(background.T, dtype=np.float32)  # (512, n): a fast matrix product

    def __len__(self) -> int:
        return self.columns.shape[1]

    def offsets(self, queries: np.ndarray) -> np.ndarray:
        """(n,) float32: what to subtract from each query's similarities (0 without a background)."""
        if len(self) < NEIGHBOUR:
            return np.zeros(len(queries), np.float32)
        sims = queries @ self.columns
        return np.partition(sims, -NEIGHBOUR, axis=1)[:, -NEIGHBOUR]


def build(paths: list[Path], model: str) -> tuple[np.ndarray, list[str]]:
    """Descriptors of the background pictures (each whole and by its centre), and their SHA-256s."""
    from clearance.content import Content
    from clearance.media.image_decode import decode_frames
    from clearance.media.sscd import SscdEmbedder, shared_embedder
    from clearance.media.views import reference_views

    embedder = shared_embedder(model, exact=True)
    rows, digests = [], []
    for path in paths:
        frames = decode_frames(Content(kind="image", path=path))
        views = [SscdEmbedder.prepare(view) for frame in frames for _, view in reference_views(frame)]
        rows.append(embedder.embed_rgb(views))
        digests.append(hashlib.sha256(path.read_bytes()).hexdigest())
    return np.concatenate(rows), digests


def select_sources(root: Path) -> list[Path]:
    """The pictures used, from Debian packages unpacked under ``root`` (``dpkg-deb -x PKG.deb root``):
    plasma-workspace-wallpapers (largest file of each wallpaper), sway-backgrounds (1920x1080),
    wesnoth-1.16-data (story landscapes, maps, every third character portrait)."""
    wallpapers = [
        max((f for f in d.rglob("*") if f.suffix.lower() in (".jpg", ".jpeg", ".png")), key=lambda f: f.stat().st_size)
        for d in sorted((root / "usr/share/wallpapers").iterdir())
        if any(d.rglob("*.jpg")) or any(d.rglob("*.png"))
    ]
    sway = sorted((root / "usr/share/backgrounds/sway").glob("*1920x1080.png"))
    art = root / "usr/share/games/wesnoth/1.16/data/core/images"
    scenes = sorted(f for sub in ("story", "maps") for f in (art / sub).glob("*.*") if f.stat().st_size > 60_000)
    portraits = sorted(f for f in (art / "portraits").rglob("*.*") if f.stat().st_size > 60_000)[::3]
    return wallpapers + sway + scenes + portraits


def main() -> None:
    parser = argparse.ArgumentParser(description="Build the SSCD background vectors shipped as package data.")
    parser.add_argument("root", type=Path, help="folder the Debian packages were unpacked into")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--model", default="sscd_distilled")
    args = parser.parse_args()
    paths = select_sources(args.root)
    vectors, digests = build(paths, args.model)
    names = [str(p.relative_to(args.root)) for p in paths]
    np.savez_compressed(args.out, vectors=vectors.astype(np.float16), model=np.array(args.model),
                        sources=np.array(names), sha256=np.array(digests))
    print(f"{len(paths)} pictures, {len(vectors)} vectors -> {args.out}")


if __name__ == "__main__":
    main()
