#!/usr/bin/env bash
# Installs the Debian packages uvchat needs to build and test, and only those
# that are missing, so it is cheap to run before every build. Works as root or
# through sudo; apt-get update runs only when something has to be installed.
#
#   scripts/install-deps.sh          build, run and test
#   scripts/install-deps.sh --fuzz   also clang and libFuzzer (make fuzz, CI)
#   scripts/install-deps.sh --package  also dpkg-dev, lintian, systemd-analyze and
#                                    groff (make deb, the packaging tests, CI)
#   scripts/install-deps.sh --arm64  also the aarch64 cross compiler, the arm64
#                                    libraries and qemu-user (scripts/cross-arm64.sh)
#
# Flags add to one list each and may be combined.
set -euo pipefail

foreign_arch=
packages=(
  g++ meson ninja-build pkg-config
  libuv1-dev libcxxopts-dev catch2
  libsqlite3-dev libsodium-dev sqlite3
  libtomlplusplus-dev
  libssl-dev openssl
  libwslay-dev
  netcat-openbsd
  irssi tmux weechat-headless
  chromium chromium-driver python3-selenium
  scdoc
)
for flag in "$@"; do
  case "$flag" in
    --fuzz) packages+=(clang libclang-rt-14-dev) ;;
    --package) packages+=(dpkg-dev lintian systemd groff-base) ;;
    # The libraries are Multi-Arch: same, so their arm64 -dev packages sit
    # beside the amd64 ones; cxxopts and catch2 are headers with an
    # arch-independent .pc (Multi-Arch: foreign), but toml++'s .pc is under
    # the arch's libdir, so it needs its arm64 package too.
    --arm64)
      foreign_arch=arm64
      packages+=(g++-aarch64-linux-gnu qemu-user file
        libuv1-dev:arm64 libsqlite3-dev:arm64 libsodium-dev:arm64 libtomlplusplus-dev:arm64
        libssl-dev:arm64 libwslay-dev:arm64) ;;
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
# A new architecture is found in the package lists only after the update
# below, which always follows when something is missing.
if [ -n "$foreign_arch" ] && ! dpkg --print-foreign-architectures | grep -qx "$foreign_arch"; then
  "${sudo[@]}" dpkg --add-architecture "$foreign_arch"
fi
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
