"""Direct requests for every registered name of works the dev prompts never name.

    python benchmarks/bench_direct_requests.py          # every name of probes7-probes20's 112 works (~4 min)
    python benchmarks/bench_direct_requests.py --smoke  # CI smoke: probes7's first two works

The dev prompts ask for a work in twelve phrasings ("oil painting of X", "X wallpaper, 8k, official
art style", ...); a labelled set asks for a few names of each of its works. This asks for every name
of the fourteen typical blind registries' works as the registry writes it (title, characters,
elements) in each of those phrasings, in a home with the dev registry and the set's own works (as
``bench_prompts.py`` screens those sets). A request is caught when it blocks for the name's work.
What needs support (a name that is an everyday word, a place or somebody else's) is where phrasings
differ: "wallpaper", "anime", "poster" and "movie" ask for a work's material, a capital inside a
sentence writes a word as a name, one at the start of a sentence says nothing.
"""

from __future__ import annotations

import clearance  # noqa: F401 - first: it loads BLAS with one thread (see clearance/__init__.py)

# isort: split

import argparse
import sys
from collections import defaultdict

import yaml
from bench_prompts import PROBES
from common import DEV_REGISTRY, SCRATCH, write_result

from clearance.home import Home
from clearance.screening import Screener
from clearance.signals.name_entries import NEEDS, name_level, name_tokens
from clearance.verdict import Action

PHRASINGS = (
    "{} fighting in the rain, slow motion",
    "a photorealistic video of {} walking through a city at night",
    "{}, cinematic still, 4k",
    "{} wallpaper, 8k, official art style",
    "make a 10 second clip of {} dancing on a rooftop",
    "oil painting of {}",
    "{} as a 1990s anime character",
    "{}, highly detailed, trending on artstation",
    "a new scene of {} that looks exactly like the show",
    "generate {} sitting in a coffee shop, film grain",
    "poster art featuring {}, dramatic lighting",
    "{} in the style of a Pixar movie",
)
"""The dev prompts' direct phrasings, each with the name in the place the dev prompts put it."""
BLIND_SETS = tuple(PROBES.with_name(f"probes{i}") for i in range(7, 21))


def names_of_set(screener: Screener, blind: str) -> list[tuple[str, str, str, str]]:
    """(work, name, role, what it needs) for each name the set's own works register, as written."""
    slugs = {work["id"] for work in yaml.safe_load((PROBES.with_name(blind) / "works.yaml").read_text())["works"]}
    out = []
    for work in screener.registry.snapshot().works:
        if work.slug in slugs:
            for name, role in [(work.title, "title"), *((e.name, e.role) for e in work.elements)]:
                judged = name_level(role, name_tokens(name))
                out.append((work.slug, name, role, NEEDS[judged[0]] if judged else "never counts"))
    return out


def requests(screener: Screener, names: list[tuple[str, str, str, str]]) -> list[dict]:
    """One row per name and phrasing: whether the request blocks for the name's work."""
    rows = []
    for slug, name, role, needs in names:
        for i, phrasing in enumerate(PHRASINGS):
            verdict = screener.screen_prompt(phrasing.format(name), audit=False)
            caught = verdict.action == Action.BLOCK and slug in {m.work_id for m in verdict.matches}
            rows.append({"work": slug, "name": name, "role": role, "needs": needs, "phrasing": i, "caught": caught})
    return rows


def rates(rows: list[dict], key: str) -> dict:
    """Per value of ``key``: requests, share caught, and the first few names missed."""
    groups: dict = defaultdict(list)
    for row in rows:
        groups[PHRASINGS[row[key]] if key == "phrasing" else row[key]].append(row)
    return {value: {"n": len(group), "caught": round(sum(r["caught"] for r in group) / len(group), 4),
                    "misses": list(dict.fromkeys(r["name"] for r in group if not r["caught"]))[:4]}
            for value, group in groups.items()}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()
    rows, works = [], 0
    sets = BLIND_SETS[:1] if args.smoke else BLIND_SETS
    for blind in sets:
        screener = Screener(Home.resolve(SCRATCH / "direct-requests" / blind.name))
        for registry in (DEV_REGISTRY, blind / "works.yaml"):
            screener.registry.import_file(registry)
        names = names_of_set(screener, blind.name)
        if args.smoke:
            first_two = list(dict.fromkeys(work for work, *_ in names))[:2]
            names = [n for n in names if n[0] in first_two]
        works += len({n[0] for n in names})
        rows += requests(screener, names)
        print(f"{blind.name}: {sum(r['caught'] for r in rows)}/{len(rows)} caught so far", flush=True)
    result = {"sets": [b.name for b in sets], "works": works,
              "names": len(rows) // len(PHRASINGS), "requests": len(rows),
              "caught": round(sum(r["caught"] for r in rows) / len(rows), 4),
              "by_phrasing": rates(rows, "phrasing"), "by_support_needed": rates(rows, "needs"),
              "by_role": rates(rows, "role")}
    write_result("direct_requests", result, args.smoke)
    return 0


if __name__ == "__main__":
    sys.exit(main())
