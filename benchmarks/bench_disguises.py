"""Disguised-name battery: how often a registered name in disguise still blocks its work.

    python benchmarks/bench_disguises.py           # every distinctive name of all 55 works, every disguise
    python benchmarks/bench_disguises.py --smoke   # CI smoke: the dev registry's first 20 names

The labelled prompts hold a few dozen obfuscated names, written by hand; this takes every name
that counts alone (``tests.disguises.distinctive_names``: 516 of the dev, probe and blind sets'
works) through each disguise of ``tests/disguises.py`` (the property tests' own: homoglyphs of
several scripts, leetspeak, separators, zero-width characters, small capitals, letters drawn as
symbols, strike-through, stretched letters, typos, a word broken by a space, a masked letter,
dropped vowels), with a seeded random source so the battery is the same from run to run. Each
disguised name is screened in a prompt ("... at the beach") through ``Screener.screen_prompt``;
it is caught when the verdict blocks for the name's work. Changes that make ordinary words of
the name (``tests.disguises.is_a_disguise``) are left out, as the property tests leave them out.
"""

from __future__ import annotations

import clearance  # noqa: F401 - first: it loads BLAS with one thread (see clearance/__init__.py)

# isort: split

import argparse
import random
import sys
import zlib
from pathlib import Path

from bench_prompts import EVERYDAY_TITLES, FOURTH_BLIND, PROBES, THIRD_BLIND
from common import DEV_REGISTRY, SCRATCH, write_result

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from clearance.home import Home
from clearance.screening import Screener
from clearance.verdict import Action
from tests.disguises import DISGUISES, distinctive_names, is_a_disguise

TEMPLATE = "{} at the beach"
SEED = 7


def battery(screener: Screener, names: list[tuple[str, str]]) -> dict:
    """Per disguise (and for the names as written): names disguised, share caught, a few misses."""
    out = {}
    for how, disguise in {"none": lambda name, _rnd: name, **DISGUISES}.items():
        tried, caught, misses = 0, 0, []
        for name, slug in names:
            rnd = random.Random(zlib.crc32(f"{SEED} {how} {name}".encode()))
            disguised = disguise(name, rnd)
            if disguised is None or (how != "none" and not is_a_disguise(name, disguised, how)):
                continue
            verdict = screener.screen_prompt(TEMPLATE.format(disguised), audit=False)
            hit = verdict.action == Action.BLOCK and slug in {m.work_id for m in verdict.matches}
            tried, caught = tried + 1, caught + hit
            if not hit and len(misses) < 5:
                misses.append(disguised)
        out[how] = {"n": tried, "caught": round(caught / tried, 4) if tried else None, "misses": misses}
        print(f"{how:>10}: {caught}/{tried} caught", flush=True)
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()
    registries = [DEV_REGISTRY]
    if not args.smoke:
        registries += [PROBES / "works.yaml", EVERYDAY_TITLES / "works.yaml", THIRD_BLIND / "works.yaml",
                       FOURTH_BLIND / "works.yaml"]
    screener = Screener(Home.resolve(SCRATCH / ("disguises-smoke" if args.smoke else "disguises")))
    for registry in registries:
        screener.registry.import_file(registry)
    names = distinctive_names(screener.registry.snapshot())
    names = names[:20] if args.smoke else names
    result = battery(screener, names)
    write_result("disguises", {"works": len(screener.registry.snapshot().works), "names": len(names),
                               "template": TEMPLATE, "seed": SEED, "by_disguise": result}, args.smoke)
    return 0


if __name__ == "__main__":
    sys.exit(main())
