#!/usr/bin/env bash
# Run the whole test suite (after scripts/quickstart.sh): lint, the benchmark smokes, then pytest.
# PostgreSQL tests start their own throwaway cluster; pytest exits non-zero when it collects no test.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
ruff check src tests benchmarks scripts
for smoke in benchmarks/bench_*.py; do
  [ -e "$smoke" ] || continue
  echo "== benchmark smoke: $smoke"
  python "$smoke" --smoke
done
python -m pytest -q -p no:cacheprovider "$@"
