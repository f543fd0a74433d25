#!/usr/bin/env bash
# Make Debian's Chromium available for the browser tests (Playwright drives it; it cannot
# download its own browsers here). Prints the browser's path.
set -euo pipefail

find_browser() {
  for candidate in "${GEOAPP_CHROMIUM:-}" /usr/bin/chromium /usr/bin/chromium-browser; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then echo "$candidate"; return 0; fi
  done
  return 1
}

if ! find_browser >/dev/null; then
  if [ "$(id -u)" -ne 0 ] && ! sudo -n true 2>/dev/null; then
    echo "[browser] Chromium is missing and cannot be installed without root" >&2; exit 1
  fi
  run=(); [ "$(id -u)" -ne 0 ] && run=(sudo)
  echo "[browser] installing chromium" >&2
  "${run[@]}" apt-get update -qq
  "${run[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    chromium fonts-dejavu-core >/dev/null
fi
find_browser
