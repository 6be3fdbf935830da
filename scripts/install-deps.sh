#!/usr/bin/env bash
# Installs the Debian packages uvchat needs to build and test, and only those
# that are missing, so it is cheap to run before every build. Works as root or
# through sudo; apt-get update runs only when something has to be installed.
#
#   scripts/install-deps.sh          build, run and test
#   scripts/install-deps.sh --fuzz   also clang and libFuzzer (make fuzz, CI)
#
# Flags add to one list each and may be combined.
set -euo pipefail

packages=(
  g++ meson ninja-build pkg-config
  libuv1-dev libcxxopts-dev catch2
  libsqlite3-dev libsodium-dev sqlite3
  libtomlplusplus-dev
  netcat-openbsd
)
for flag in "$@"; do
  case "$flag" in
    --fuzz) packages+=(clang libclang-rt-14-dev) ;;
    *) echo "install-deps: unknown flag '$flag'" >&2; exit 2 ;;
  esac
done

missing=()
for pkg in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1; then
  sudo=(sudo)
else
  echo "install-deps: missing packages: ${missing[*]}" >&2
  echo "install-deps: run this script as root or install sudo" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
