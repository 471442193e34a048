"""Prompt screening benchmark: quality on the dev prompts, latency at the demo and at 10,000 works.

    python benchmarks/bench_prompts.py            # full: dev registry + generated 10,000-work registry
    python benchmarks/bench_prompts.py --smoke    # CI smoke: dev registry + generated 200-work registry
                                                  # (no probe sets: the tests screen each of them)

Quality is measured through the same API the CLI calls (``Screener.screen_prompt``), per kind
of dev prompt: against the dev registry, and again with the probes' six works registered too
(``data/probes``, whose own prompts are screened there); and a second blind set about works
whose titles are everyday words (``data/probes2``), with all three registries in one home; and a
third blind set (``data/probes3``: ten more works, their names often words or places of their
own), a fourth (``data/probes4``) and a fifth (``data/probes5``: names that are dictionary words) with
all six registries, and a sixth (``data/probes6``: hard negatives written from the registries'
descriptions) there too, as are the dev prompts; and a seventh to twenty-second (``data/probes7``
to ``data/probes22``: eight well-known works each, in the dev prompts' kinds and proportions, some
direct prompts naming characters the registry leaves out), each with the dev registry and its own.
Latency is in-process, per prompt, after warm-up, with and without the audit append. The
generated registry has 6 names or aliases and 3 descriptions per work (10,000 works: 60,000
names, 30,000 descriptions), built from a seeded syllable generator so runs are comparable; its
embeddings are cached in ``benchmarks/out`` after the first run.
Cold start is a fresh process from interpreter start to the first verdict on a built home.
Each labelled set's verdicts are also written prompt by prompt to ``results/prompt_verdicts/`` (one
JSON line each, without scores): ``git diff benchmarks/results/prompt_verdicts`` after a rerun lists
every labelled prompt a change moved.
"""

from __future__ import annotations

import clearance  # noqa: F401 - first: it loads BLAS with one thread (see clearance/__init__.py)

# isort: split

import argparse
import json
import random
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import TextIO

import yaml
from common import DATA, DEV_REGISTRY, RESULTS, SCRATCH, fresh_scratch, peak_rss_mb, percentiles_ms, write_result

from clearance.home import Home
from clearance.screening import Screener
from clearance.text.rewrite import FALLBACK
from clearance.verdict import Verdict

PROBES = Path(__file__).resolve().parents[1] / "data" / "probes"
VERDICTS = RESULTS / "prompt_verdicts"
"""Each labelled set's per-prompt verdicts, a JSON-lines file per set (``verdict_line``)."""
EVERYDAY_TITLES = PROBES.with_name("probes2")
THIRD_BLIND = PROBES.with_name("probes3")
FOURTH_BLIND = PROBES.with_name("probes4")
FIFTH_BLIND = PROBES.with_name("probes5")
SIXTH_BLIND = PROBES.with_name("probes6")
TYPICAL_BLIND = [PROBES.with_name(f"probes{n}") for n in range(7, 23)]
"""Blind sets written like the dev prompts, each with a typical registry of its own eight works."""
SYLLABLES = "ka ri to mu ne so la vi en dor zan qui bel mor tak fen gil ost uru pra lix ven sol".split()
NOUNS = ("girl boy knight robot dragon witch detective captain queen monster pilot dancer wizard alien cat "
         "fox soldier pirate ninja idol").split()
TRAITS = ("red cape|silver mask|green tracksuit|purple braid|cracked grey skin|tan uniform|round glasses|"
          "lightning scar|orange pinafore|black hood|golden armour|blue scales|yellow raincoat|wooden leg|"
          "glowing eyes|striped scarf|top hat|iron gauntlet|feathered wings|neon tattoos").split("|")
PLACES = ("floating city|underwater castle|desert market|neon alley|snowy village|haunted school|"
          "glass tower|jungle temple|space station|candy factory").split("|")


def fake_name(rng: random.Random, words: int = 2) -> str:
    return " ".join("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()
                    for _ in range(words))


def generated_registry(n_works: int, path: Path, seed: int = 7) -> Path:
    """A registry of ``n_works`` synthetic works (6 names, 3 descriptions each)."""
    if path.exists():
        return path
    rng = random.Random(seed)
    works = []
    for i in range(n_works):
        def desc() -> str:
            a, b = rng.sample(TRAITS, 2)
            return f"{rng.choice(NOUNS).capitalize()} with a {a} and a {b}, in a {rng.choice(PLACES)}"
        works.append({
            "id": f"work-{i:05d}", "title": fake_name(rng, 2), "owner": f"Studio {i % 50}", "kind": "film",
            "policy": "block", "aliases": [fake_name(rng, 1)],
            "characters": [{"name": fake_name(rng, 2), "aliases": [fake_name(rng, 1)], "description": desc()}
                           for _ in range(2)],
            "descriptions": [f"A {rng.choice(PLACES)} where a {rng.choice(NOUNS)} wears a {rng.choice(TRAITS)}"],
        })
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"version": 1, "works": works}, allow_unicode=True), encoding="utf-8")
    return path


def quality(screener: Screener, prompts: list[dict], verdicts: TextIO) -> dict:
    """Per kind, the share blocked (for the right work, where there is one); and of the rewrites
    offered for blocked or reviewed prompts, how many screen ``allow`` and how many are the fallback.
    Each prompt's verdict goes to ``verdicts`` as a line (``verdict_line``)."""
    hits: dict[str, list[bool]] = defaultdict(list)
    rewrites = {"offered": 0, "screen_allow": 0, "fallback": 0}
    for i, p in enumerate(prompts):
        v = screener.screen_prompt(p["prompt"], p.get("negative_prompt"), audit=False)
        verdicts.write(verdict_line(i, p, v))
        if p["label"] == "block":
            hits[p["kind"]].append(v.action.value == "block" and p["work_id"] in {m.work_id for m in v.matches})
        else:
            hits[p["kind"]].append(v.action.value == "block")
        if v.rewritten_prompt is not None:
            rewrites["offered"] += 1
            rewrites["fallback"] += v.rewritten_prompt == FALLBACK
            rewrites["screen_allow"] += screener.screen_prompt(v.rewritten_prompt, audit=False).action.value == "allow"
    out = {kind: {"n": len(v), "rate": round(sum(v) / len(v), 4)} for kind, v in hits.items()}
    caught = [x for k in ("direct", "obfuscated", "indirect") for x in hits[k]]
    # six places: 106/108 kept to four (0.9815) was printed 98.2%
    out["tpr_named_obfuscated_indirect"] = round(sum(caught) / len(caught), 6)
    out["rewrites"] = rewrites
    out["note"] = "rate = share blocked for the right work (block kinds) or share blocked (allow kinds)"
    return out


def verdict_line(i: int, prompt: dict, verdict: Verdict) -> str:
    """One labelled prompt's verdict as a JSON line: its action and, per matched work, the signals
    and elements that matched, without scores (CPU kernels move those in the third decimal). The
    files under ``results/prompt_verdicts/`` are the same from run to run on one machine for the same
    code, so ``git diff`` of them lists each labelled prompt whose verdict a change moved. Across
    processors they are not: the int8 kernels of AVX2 and of VNNI/AMX round differently, which moves
    near-ties (on 2026-12-07, 22 lines of 5,579 changed action between an AMD EPYC with AVX2 and an
    Intel Xeon with AMX, and the weaker matches' works or elements moved on 318 more), so compare a change
    with its base on one machine (``git worktree`` of the base, run in turns)."""
    matched = sorted({(m.work_id, m.signal, m.element or "") for m in verdict.matches})
    return json.dumps({"i": i, "kind": prompt["kind"], "label": prompt["label"], "work": prompt.get("work_id"),
                       "action": verdict.action.value, "matched": [list(m) for m in matched],
                       "prompt": prompt["prompt"][:60]}, ensure_ascii=False) + "\n"


def read_labelled(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.open(encoding="utf-8")]


def quality_in_home(home_dir: Path, registries: list[Path], labelled: dict[str, list[dict]]) -> dict:
    """``quality`` of each labelled set (by result key) in one home holding all of ``registries``, with
    how many works that home held."""
    screener = Screener(Home.resolve(home_dir))
    for registry in registries:
        screener.registry.import_file(registry)
    works = len(screener.registry.snapshot().works)
    out = {}
    VERDICTS.mkdir(parents=True, exist_ok=True)
    for key, prompts in labelled.items():
        with (VERDICTS / f"{key}.jsonl").open("w", encoding="utf-8") as verdicts:
            out[key] = {**quality(screener, prompts, verdicts), "works_registered": works}
        print(f"[{key}] {json.dumps(out[key])}", flush=True)
    return out


def probe_quality(scratch: Path, dev_prompts: list[dict]) -> dict:
    """The independent probes (``data/probes``) against the dev registry plus their six works: the
    validation part is about works the calibration never saw. The dev prompts are screened in that
    home too: with more works registered, more everyday words are somebody's name (the dev prompts'
    false alarms against their own nine works say nothing about those). Then the second blind set
    (``data/probes2``: 22 works whose titles and names are everyday words, "Up", "Joy", "Friends"),
    with all 37 works registered; and the third (``data/probes3``: ten works whose names are often
    words, people or places of their own, "Sakura", "Nairobi") and the fourth (``data/probes4``:
    eight more) and the fifth (``data/probes5``: eight works whose names are dictionary words, slang or
    jargon, "Snoopy", "Wolverine", "Soundwave"), with all 63 works, where the dev prompts are screened
    again, and the sixth (``data/probes6``: no works of its own; everyday requests for what those 63
    works' descriptions describe, a stack of waffles, a walking cane, and indirect prompts). The
    seventh to twenty-second (``data/probes7`` to ``data/probes22``) are each screened with the dev
    registry and their own eight works only: typical registries, in the dev prompts' kinds and
    proportions."""
    registries = [DEV_REGISTRY, PROBES / "works.yaml"]
    probes = {f"quality_probes_{part}": read_labelled(PROBES / f"{part}.jsonl")
              for part in ("calibration", "validation")}
    return {**quality_in_home(scratch / "probes", registries, {**probes, "quality_probes_dev": dev_prompts}),
            **quality_in_home(scratch / "probes2", [*registries, EVERYDAY_TITLES / "works.yaml"],
                              {"quality_probes2": read_labelled(EVERYDAY_TITLES / "prompts.jsonl")}),
            **quality_in_home(scratch / "probes3", [*registries, EVERYDAY_TITLES / "works.yaml",
                                                    THIRD_BLIND / "works.yaml", FOURTH_BLIND / "works.yaml",
                                                    FIFTH_BLIND / "works.yaml"],
                              {"quality_probes3": read_labelled(THIRD_BLIND / "prompts.jsonl"),
                               "quality_probes4": read_labelled(FOURTH_BLIND / "prompts.jsonl"),
                               "quality_probes5": read_labelled(FIFTH_BLIND / "prompts.jsonl"),
                               "quality_probes6": read_labelled(SIXTH_BLIND / "prompts.jsonl"),
                               "quality_all_works_dev": dev_prompts}),
            **{f"quality_{blind.name}": typical_registry_quality(scratch, blind) for blind in TYPICAL_BLIND}}


def typical_registry_quality(scratch: Path, blind: Path) -> dict:
    """``quality`` of a blind set written like the dev prompts, with the dev registry and its own works."""
    key = f"quality_{blind.name}"
    return quality_in_home(scratch / blind.name, [DEV_REGISTRY, blind / "works.yaml"],
                           {key: read_labelled(blind / "prompts.jsonl")})[key]


def latency(screener: Screener, prompts: list[str], rounds: int, audit: bool) -> dict:
    screener.warm_up()
    times = []
    for _ in range(rounds):
        for prompt in prompts:
            t = time.perf_counter()
            screener.screen_prompt(prompt, audit=audit)
            times.append(time.perf_counter() - t)
    return percentiles_ms(times)


def longest_prompts(screener: Screener, prompts: list[dict]) -> dict:
    """CPU seconds to screen a 100 kB prompt (the contract's largest) made of one labelled prompt
    of each kind said over and over: every name in it recurs thousands of times, which is where
    work per pair of hits would show."""
    screener.warm_up()
    seconds = {}
    for kind in sorted({p["kind"] for p in prompts}):
        text = next(p["prompt"] for p in prompts if p["kind"] == kind)
        long_text = ((text + ". ") * (100_000 // (len(text) + 2) + 1))[:100_000]
        t = time.process_time()
        screener.screen_prompt(long_text, audit=False)
        seconds[kind] = round(time.process_time() - t, 2)
    return {"cpu_s": seconds, "max_cpu_s": max(seconds.values())}


def cold_start(home: Home) -> float:
    code = ("import time; t=time.perf_counter(); from clearance.home import Home; from clearance.screening import "
            f"Screener; s=Screener(Home.resolve({str(home.root)!r})); s.screen_prompt('a cat on a sofa', audit=False);"
            " print(time.perf_counter()-t)")
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return round(time.perf_counter() - start, 3), round(float(out.stdout.strip()), 3)


def run_registry(label: str, yaml_path: Path, home_dir: Path, prompts: list[dict], rounds: int) -> dict:
    home = Home.resolve(home_dir)
    screener = Screener(home)
    t = time.perf_counter()
    screener.registry.import_file(yaml_path)
    imported = time.perf_counter() - t
    t = time.perf_counter()
    screener.warm_up()
    indexed = time.perf_counter() - t
    result = {"works": len(screener.registry.snapshot().works), "import_s": round(imported, 2),
              "index_build_s": round(indexed, 2),
              "latency_screen_only": latency(screener, [p["prompt"] for p in prompts], rounds, audit=False),
              "latency_with_audit": latency(screener, [p["prompt"] for p in prompts[:100]], 1, audit=True),
              "prompt_of_100_kb": longest_prompts(screener, prompts)}
    wall, in_process = cold_start(home)
    result["cold_start_to_first_verdict_s"] = {"process_wall": wall, "after_interpreter_start": in_process}
    print(f"[{label}] {json.dumps(result)}", flush=True)
    return result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--works", type=int, default=10_000)
    args = parser.parse_args()
    n_works = 200 if args.smoke else args.works
    prompts = read_labelled(DATA / "text" / "prompts_dev.jsonl")
    scratch = SCRATCH / ("prompts-smoke" if args.smoke else "prompts")
    dev = run_registry("dev registry", DEV_REGISTRY, fresh_scratch("dev", scratch), prompts,
                       1 if args.smoke else 3)
    result = {**quality_in_home(scratch / "quality", [DEV_REGISTRY], {"quality_dev_prompts": prompts}),
              "dev_registry": dev, **({} if args.smoke else probe_quality(scratch, prompts))}
    big_yaml = generated_registry(n_works, scratch / f"generated-{n_works}.yaml")
    big_home = scratch / f"generated-{n_works}-home"
    if big_home.exists():
        import shutil
        for item in big_home.iterdir():  # keep the embedding cache, start the database afresh
            if item.name != "index":
                shutil.rmtree(item) if item.is_dir() else item.unlink()
    result[f"generated_{n_works}_works"] = run_registry(f"{n_works} works", big_yaml, big_home, prompts,
                                                        1 if args.smoke else 2)
    result["peak_rss_mb"] = peak_rss_mb()
    write_result("prompts", result, args.smoke)
    return 0


if __name__ == "__main__":
    sys.exit(main())
