"""``clearance demo``: the quick start's main job on the embedded defaults.

Imports the bundled demo registry and screens a set of example prompts, so a new user sees
direct, obfuscated, indirect and harmless prompts judged, with evidence, in one command.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import typer

from clearance.cli.common import DatabaseOption, HomeOption, console, open_home
from clearance.cli.screen_cmds import print_table
from clearance.screening import Screener

EXAMPLES = (
    ("direct", "Eleven from Stranger Things riding a bike at night", None),
    ("obfuscated", "S q u i d  G 4 m e doll in a playground", None),
    ("homoglyph", "Wеdnеsdау Аddams dancing at a school ball", None),
    ("indirect", "a giant doll with a black bob and orange pinafore turning its head while players in green "
                 "tracksuits freeze", None),
    ("indirect", "a debutante in a shimmering silver gown at a regency ball, mask and feathers", None),
    ("benign", "a golden retriever running on a beach at sunset", None),
    ("hard negative", "a red traffic light at a busy intersection", None),
    ("negative only", "a girl in a pink dress in a forest", "Stranger Things, Eleven"),
)


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo(home: HomeOption = None, database_url: DatabaseOption = None) -> None:
        """Import the bundled demo registry and screen example prompts."""
        s = Screener(open_home(home, database_url))  # no empty-registry warning: the import follows
        registry_file = Path(str(resources.files("clearance") / "data" / "demo_registry.yaml"))
        report = s.registry.import_file(registry_file)
        console.print(f"demo registry: {report.created} created, {report.updated} updated, "
                      f"{report.unchanged} unchanged (home: {s.home.root})")
        verdicts = []
        for label, prompt, negative in EXAMPLES:
            verdict = s.screen_prompt(prompt, negative)
            verdict.id = f"{label}: {prompt[:60]}"
            verdicts.append(verdict)
        print_table(verdicts, "Clearance demo: prompt screening")
        console.print("Rewrites offered (each screened again before it is offered: allowed as written):")
        for (label, _, _), verdict in zip(EXAMPLES, verdicts, strict=True):
            if verdict.rewritten_prompt:
                console.print(f"  {label}: {verdict.rewritten_prompt}", highlight=False, markup=False)
        console.print("Audit log: run `clearance audit verify` to check the hash chain.")
