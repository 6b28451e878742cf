#!/usr/bin/env bash
# ensure_debs PKG...: install the Debian packages that are missing, saying so. Needs root (or sudo).
# Sourced by scripts/test.sh; `bash scripts/deps.sh PKG...` works too.
ensure_debs() {
  local missing=() p
  for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || { echo "missing Debian packages: ${missing[*]} (install them as root: apt-get install ${missing[*]})" >&2; return 1; }
    sudo="sudo"
  fi
  echo "== installing Debian packages (needs root): ${missing[*]}" >&2
  $sudo apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}
if [ "${BASH_SOURCE[0]}" = "$0" ]; then ensure_debs "$@"; fi
