#!/usr/bin/env bash
# Install the Debian/Ubuntu packages FloodManager needs to build and run, only when missing:
# Python's venv module, Node.js/npm (front-end libraries are installed from npm at setup),
# and Pango with a font for WeasyPrint's PDF reports.
# PostgreSQL/PostGIS are handled by scripts/postgres.sh; Chromium by scripts/browser.sh.
set -euo pipefail

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo "$@"
  else echo "[setup] need root or passwordless sudo to install: ${*: -1}" >&2; return 1
  fi
}

missing=()
python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
# WeasyPrint (the PDF report) lays out text with Pango and needs at least one font.
ldconfig -p 2>/dev/null | grep -q 'libpango-1.0.so' || missing+=(libpango-1.0-0)
ldconfig -p 2>/dev/null | grep -q 'libpangoft2-1.0.so' || missing+=(libpangoft2-1.0-0)
# Without HarfBuzz's subsetter WeasyPrint warns on import (an error under the tests' warning filter).
ldconfig -p 2>/dev/null | grep -q 'libharfbuzz-subset.so' || missing+=(libharfbuzz-subset0)
fc-list 2>/dev/null | grep -q . || missing+=(fonts-dejavu-core fontconfig)

if [ ${#missing[@]} -gt 0 ]; then
  command -v apt-get >/dev/null 2>&1 || { echo "[setup] please install: ${missing[*]}" >&2; exit 1; }
  echo "[setup] installing ${missing[*]}" >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
