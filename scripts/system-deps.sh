#!/usr/bin/env bash
# Installs the Debian packages a target needs (when root), or prints the exact command.
# usage: scripts/system-deps.sh run|test
set -euo pipefail
case "${1:-}" in
  run)  pkgs="python3-venv libpcsclite-dev pcscd fonts-wqy-microhei espeak-ng sox libmtdev1" ;;
  test) pkgs="python3-venv libpcsclite-dev pcscd vsmartcard-vpcd mosquitto mosquitto-clients socat espeak-ng sox fonts-wqy-microhei libmtdev1 chromium postgresql" ;;
  *) echo "usage: $0 run|test" >&2; exit 2 ;;
esac
missing=()
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ]; then
  echo ">> apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "缺少系统软件包 / missing Debian packages. Run as root:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi
