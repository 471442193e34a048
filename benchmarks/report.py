"""Print the measured figures of ``benchmarks/results/*.json`` as the Markdown tables in the README.

python benchmarks/report.py            # print the tables
python benchmarks/report.py --readme   # replace the tables in README.md ("Measured figures")
"""

from __future__ import annotations

import json
import sys

from common import RESULTS

README = RESULTS.parents[1] / "README.md"
FIRST_TABLE, AFTER_TABLES = "#### prompts (", "Notes on these figures:"
"""The README's tables run from the first of these lines to the second (headings one level down)."""


def load(name: str) -> dict:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else {}


def table(columns: list[str], rows: list[list[str]]) -> list[str]:
    """A Markdown table: the header, its separator and a line per row of cells."""
    return [_line(columns), "|---" * len(columns) + "|", *(_line(row) for row in rows)]


def _line(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def pct(x: float) -> str:
    return f"{100 * x:.1f}%"


PROBE_SETS = (
    ("quality_probes_dev", "dev prompts, the probes' works registered too"),
    ("quality_probes2", "probes2: everyday-word titles (blind)"),
    ("quality_probes3", "probes3: ten more works (blind)"),
    ("quality_probes4", "probes4: eight more works (blind)"),
    ("quality_probes5", "probes5: names that are dictionary words (blind)"),
    ("quality_probes6", "probes6: everyday requests for what descriptions describe (blind)"),
)
"""The prompts table's columns after the probes' own parts, in order: (result key, heading); then
``TYPICAL_SETS``."""
TYPICAL_SETS = tuple((f"quality_probes{n}", f"probes{n}: a typical registry, dev kinds (blind)") for n in range(7, 31))
"""The blind sets written like the dev prompts (``bench_prompts.TYPICAL_BLIND``), each with its own eight works."""


def prompts(d: dict) -> list[str]:
    sets = [("dev prompts", d["quality_dev_prompts"])]
    sets += [(f"probes, {part}", d[f"quality_probes_{part}"]) for part in ("calibration", "validation")
             if f"quality_probes_{part}" in d]
    sets += [(label, d[key]) for key, label in PROBE_SETS + TYPICAL_SETS if key in d]
    if "quality_all_works_dev" in d:
        works = d["quality_all_works_dev"]["works_registered"]
        sets.append((f"dev prompts, all {works} works registered", d["quality_all_works_dev"]))
    out = ["| | " + " | ".join(label for label, _ in sets) + " |", "|---" * (len(sets) + 1) + "|"]

    def cell(q: dict, kind: str) -> str:
        return f"{pct(q[kind]['rate'])} of {q[kind]['n']}" if kind in q else "-"

    for kind in ("direct", "obfuscated", "indirect"):
        out.append(f"| {kind}: blocked for the right work | " + " | ".join(cell(q, kind) for _, q in sets) + " |")
    out.append("| direct + obfuscated + indirect (TPR) | "
               + " | ".join(pct(q["tpr_named_obfuscated_indirect"]) for _, q in sets) + " |")
    for kind in ("benign", "hard_negative", "negative_only"):
        out.append(f"| {kind}: false blocks | " + " | ".join(cell(q, kind) for _, q in sets) + " |")
    if all("rewrites" in q for _, q in sets):
        counts = [q["rewrites"] for _, q in sets]
        out.append("| rewrites offered: screen allow / generic fallback | " + " | ".join(
            f"{r['screen_allow']} / {r['fallback']} of {r['offered']}" for r in counts) + " |")
    out += [
        "",
        "| registry | p50 | p99 | p50 with audit | cold start to first verdict (after interpreter start) "
        "| index build | a 100 kB prompt, worst kind (CPU) |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, key in (("dev (9 works)", "dev_registry"), ("10,000 works", "generated_10000_works")):
        if key in d:
            r = d[key]
            out.append(
                f"| {label} | {r['latency_screen_only']['p50_ms']:.1f} ms | {r['latency_screen_only']['p99_ms']:.1f} ms"
                f" | {r['latency_with_audit']['p50_ms']:.1f} ms"
                f" | {r['cold_start_to_first_verdict_s']['process_wall']:.2f} s"
                f" ({r['cold_start_to_first_verdict_s']['after_interpreter_start']:.2f} s)"
                f" | {r['index_build_s']} s"
                + (f" | {r['prompt_of_100_kb']['max_cpu_s']:.2f} s |" if "prompt_of_100_kb" in r else " | - |")
            )
    out.append(f"\nPeak RSS {d['peak_rss_mb']} MB.")
    return out


def image_quality(q: dict) -> list[str]:
    kinds = sorted(q["clearance"]["recall_per_transform"])
    out = [
        "| | " + " | ".join(kinds) + " | all copies | false positives (distractors) |",
        "|---" * (len(kinds) + 3) + "|",
    ]
    for label in ("pdq_only", "sscd_only", "clearance"):
        if label in q:
            r = q[label]
            out.append(
                f"| {label} | "
                + " | ".join(pct(r["recall_per_transform"][k]) for k in kinds)
                + f" | {pct(r['recall'])} of {r['copies']} | {pct(r['false_positive_rate'])} of {r['distractors']} |"
            )
    return out


def image(d: dict) -> list[str]:
    out = ["Dev images (thresholds set here):", "", *image_quality(d["quality_dev"])]
    out += ["", "Other edits the thresholds never saw, through the CLI:", "",
            *image_quality({"clearance": d["quality_other_edits_cli"]})]
    out += ["", "| references | images/s one by one (1024 px JPEG, end to end) | with audit "
            "| as a list, with audit | CPU ms/image (list) | peak RSS |", "|---|---|---|---|---|---|"]
    out += [f"| {r['references']:,} | {r['images_per_s']} | {r['images_per_s_with_audit']} "
            f"| {r.get('images_per_s_batch_with_audit', '')} | {r.get('cpu_ms_per_image_batch_with_audit', '')} "
            f"| {r['peak_rss_mb']} MB |" for r in d["speed_1024px_jpeg"]]
    return out


def video_audio(d: dict) -> list[str]:
    out = ["| | recall | segment within ±1 s | false positives | speed |", "|---|---|---|---|---|"]
    for kind in ("video", "audio"):
        r = d[kind]
        out.append(
            f"| {kind} ({', '.join(f'{k} {pct(v)}' for k, v in r['recall_per_transform'].items())}) "
            f"| {pct(r['recall'])} | {pct(r['segment_within_1s'])} | {pct(r['false_positive_rate'])} "
            f"| {r['speed_x_realtime']}x real time |"
        )
    e = d["audio_5s_excerpts"]
    out.append(
        f"| audio, 5 s excerpts | {pct(e['found'])} of {e['excerpts']} "
        f"| offset error ≤ {e['max_offset_error_s']} s | | |"
    )
    out.append(f"\nPeak RSS {d['peak_rss_mb']} MB.")
    return out


def scrub(d: dict) -> list[str]:
    """The full comparison, then any partial runs (``--configs``) measured since, newest last."""
    runs = [(d["when"], d["dataset"], r) for r in d["runs"]]
    for extra in sorted(RESULTS.glob("scrub-*.json")):
        if not extra.name.endswith(".smoke.json"):
            more = json.loads(extra.read_text())
            runs += [(more["when"], more["dataset"], r) for r in more["runs"]]
    out = table(["dataset", "run", "items/s", "removed", "peak RSS (all processes)", "first / last quarter",
                 "measured"],
                [[f"{ds['items']:,} items ({ds['copies']:,} copies)", " ".join(r["args"]), str(r["items_per_s"]),
                  str(r["removed"]), f"{r['peak_rss_mb_all_processes']} MB",
                  f"{r.get('peak_rss_mb_first_quarter', '')} / {r.get('peak_rss_mb_last_quarter', '')} MB", when[:16]]
                 for when, ds, r in runs])
    if "dev_images" in d:
        dev = d["dev_images"]
        out.append(f"\nDev images scrubbed: {dev['copies_removed']} of {dev['copies']} copies removed, "
                   f"{len(dev['distractors_removed'])} of {dev['distractors']} distractors removed.")
    return out


def service(d: dict) -> list[str]:
    out = [
        f"{d['works']:,} works; open loop at the ladder's rates (sustained: the highest with p99 within "
        f"{d['p99_target_ms']:.0f} ms, else its lowest rung), and closed loop with "
        f"{d['connections'].split(' (')[0]} (maximum); {d['seconds_per_run']} s per run. One HTTP process "
        "hands the screenings to the screening processes. Requests: "
        f"{d.get('request_order', 'the dev prompts in file order')}:",
        "",
    ]
    in_order = [r.get("in_file_order") for r in d["runs"]]
    rows = [[r["database"], str(r["workers"]), str(r["requests_per_s"]), f"{r['p50_ms']:.0f} ms",
             f"{r['p99_ms']:.0f} ms", str(r["errors"]), str(r["max"]["requests_per_s"]),
             f"{r['max']['server_cpu_ms_per_request']:.1f} ms" + (
                 f" + {r['max']['database_cpu_ms_per_request']:.1f} ms" if "database_cpu_ms_per_request" in r["max"]
                 else ""),
             f"{r['rss_mb']['http']:.0f} MB + " + ", ".join(f"{x:.0f}" for x in r["rss_mb"]["screening"]) + " MB"]
            for r in d["runs"]]
    headers = ["database", "screening processes", "sustained requests/s", "p50", "p99", "errors",
               "maximum requests/s", "server CPU per request (+ PostgreSQL's)",
               "peak RSS: HTTP process + each screening process"]
    if all(in_order):
        headers.append(f"p99 at {in_order[0]['offered_per_s']}/s in file order")
        for row, order in zip(rows, in_order, strict=True):
            row.append(f"{order['p99_ms']:.0f} ms")
    if all("target_windows" in r for r in d["runs"]):
        headers.append(f"windows at {d['runs'][0]['target_per_s']}/s within {d['p99_target_ms']:.0f} ms (their p99s)")
        for row, r in zip(rows, d["runs"], strict=True):
            row.append(f"{r['target_windows_within']} of {len(r['target_windows'])} ("
                       + ", ".join(f"{w['p99_ms']:.0f}" for w in r["target_windows"]) + " ms)")
    return out + table(headers, rows)


def text_model(d: dict) -> list[str]:
    def cell(m: dict, threads: int) -> str:
        runs = m[f"threads_{threads}"]
        return f"{runs['p50_ms_median_of_runs']:.2f} ms ({runs['p50_ms_best_run']:.2f})"

    rows = [[f"`{m['file']}`", cell(m, 1), cell(m, 2),
             f"{m['cosine_to_float']['mean']:.4f} / {m['cosine_to_float']['min']:.4f}"] for m in d["models"].values()]
    return ["One MiniLM pass per dev prompt (medians of the runs' p50s; best run in brackets):", "",
            *table(["model file", "1 thread", "2 threads", "cosine to the float graph (mean / worst)"], rows)]


def prompts_ab(d: dict) -> list[str]:
    rows = []
    for name, r in d["sides"].items():
        blocks = sorted(r["p50_ms_by_block"])
        rows.append([name, f"{r['p50_ms']:.2f} ms", f"{r['p99_ms']:.2f} ms",
                     f"{blocks[0]:.2f} / {blocks[len(blocks) // 2]:.2f} / {blocks[-1]:.2f} ms"])
    return [f"Prompt latency at {d['works']:,} works, two warmed-up processes taking turns for {d['blocks']} blocks "
            f"of {d['prompts_per_block']} dev prompts each:", "",
            *table(["revision", "p50", "p99", "p50 of each block (min / median / max)"], rows)]


def service_ab(d: dict) -> list[str]:
    rows = [[name, f"{r['server_cpu_ms_per_request_median']:.2f} ms", f"{r['requests_per_s_median']:.1f}",
             ", ".join(f"{x['server_cpu_ms_per_request']:.2f}" for x in r["runs"]) + " ms"]
            for name, r in d["sides"].items()]
    return [f"One SQLite worker at {d['works']:,} works under closed-loop load, the versions taking turns for "
            f"{d['runs']} runs of {d['seconds_per_run']:g} s each (medians):", "",
            *table(["revision", "server CPU per request", "requests/s", "CPU per request, each run"], rows)]


def disguises(d: dict) -> list[str]:
    def shown(text: str) -> str:  # a table cell cannot hold a pipe or a line break
        return f"`{text}`".replace("|", "\\|").replace("\n", "\\n")

    rows = [[how, str(r["n"]), pct(r["caught"]) if r["caught"] is not None else "-",
             ", ".join(shown(m) for m in r["misses"][:3])] for how, r in d["by_disguise"].items()]
    return [f"Each of the {d['names']} names that count alone among {d['works']} works, disguised each way of "
            f"`tests/disguises.py` (seed {d['seed']}) in \"{d['template']}\": share that blocks for its work:", "",
            *table(["disguise", "names", "caught", "some misses"], rows)]


def direct_requests(d: dict) -> list[str]:
    def rows(groups: dict) -> list[list[str]]:
        return [[f"`{value}`" if "{}" in value else value, str(r["n"]), pct(r["caught"]),
                 ", ".join(r["misses"][:3])] for value, r in groups.items()]

    return [f"Each of the {d['names']} names of {d['works']} works in {d['sets'][0]}"
            f"{'–' + d['sets'][-1] if len(d['sets']) > 1 else ''} (title, characters, elements, as registered) "
            f"asked for in each of the dev prompts' direct phrasings, with the dev registry and the set's works "
            f"registered: share that blocks for its work, {pct(d['caught'])} of {d['requests']} in all:", "",
            *table(["phrasing", "requests", "caught", "some names missed"], rows(d["by_phrasing"])), "",
            *table(["the name needs", "requests", "caught", "some names missed"], rows(d["by_support_needed"]))]


def machine_line(m: dict) -> list[str]:
    """The machine a result was measured on (results written before ``common.machine`` have none)."""
    if "minilm_pass_ms" not in m:
        return []
    runtime = f"; queries' SSCD passes ran in {m['sscd_queries']}" if "sscd_queries" in m else ""
    return [f"Machine: {m['cpu']} ({', '.join(m['vector']) or 'no AVX2'}), {m['cpus']} CPUs; at the end of the run "
            f"a MiniLM pass took {m['minilm_pass_ms']} ms and the reference Python loop {m['python_loop_ms']} ms"
            f"{runtime}.\n"]


def tables(level: str) -> str:
    out = []
    for name, render in (
        ("prompts", prompts),
        ("prompts_ab", prompts_ab),
        ("disguises", disguises),
        ("direct_requests", direct_requests),
        ("text_model", text_model),
        ("image", image),
        ("video_audio", video_audio),
        ("scrub", scrub),
        ("service", service),
        ("service_ab", service_ab),
    ):
        data = load(name)
        if data:
            out.append(f"{level} {name} (`python benchmarks/bench_{name}.py`, {data['when']})\n")
            out += machine_line(data["machine"])
            out.append("\n".join(render(data)) + "\n")
    return "\n".join(out)


def write_readme() -> None:
    text = README.read_text(encoding="utf-8")
    start, end = text.index(FIRST_TABLE), text.index(AFTER_TABLES)
    README.write_text(text[:start] + tables("####") + "\n" + text[end:], encoding="utf-8")


def main() -> int:
    if "--readme" in sys.argv[1:]:
        write_readme()
    else:
        print(tables("###"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
