"""``python -m clearance.cli.main``: the CLI as a module (used where no console script is on PATH)."""

from clearance.cli import main

main()
