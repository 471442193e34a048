"""``python -m clearance.cli.main``: the CLI as a module (used where no console script is on PATH)."""

from clearance.cli import main

if __name__ == "__main__":  # worker processes re-import this module; only the parent runs the CLI
    main()
