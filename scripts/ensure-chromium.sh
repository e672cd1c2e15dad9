#!/usr/bin/env bash
# Installs Debian's chromium package when /usr/bin/chromium is missing; the browser tests drive it
# with playwright-core, which never downloads a browser of its own. Needs root (or sudo) and apt.
set -euo pipefail

chromium=/usr/bin/chromium

if [ -x "$chromium" ]; then
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo -n)
else
  echo "ensure-chromium: $chromium is missing and this user cannot install it; run 'apt-get install -y chromium' as root" >&2
  exit 1
fi

echo "ensure-chromium: installing Debian's chromium package" >&2
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -q
"${as_root[@]}" apt-get install -y -q --no-install-recommends chromium

if [ ! -x "$chromium" ]; then
  echo "ensure-chromium: apt-get finished but $chromium is still missing" >&2
  exit 1
fi
