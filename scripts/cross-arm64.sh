#!/usr/bin/env bash
# Builds uvchat for 64-bit ARM (a Raspberry Pi 3, 4 or 5 with a 64-bit OS)
# with Debian's cross toolchain, checks that what it built is aarch64, and
# runs every test (unit, fuzz replay, integration) under qemu-user. Ends with
# the line of scripts/run-tests, "N passed, M failed", and exits non-zero on
# any failure.
#
#   scripts/cross-arm64.sh [--build DIR] [--deb OUT_DIR] [--no-tests] [-- CATCH2_ARGS...]
#
#   --build DIR     the meson build directory (default build-arm64)
#   --deb OUT_DIR   also build uvchat_VERSION_arm64.deb into OUT_DIR with
#                   scripts/make-deb, from DIR-deb (prefix /usr, Debian's
#                   hardening flags for arm64), and check it
#   --no-tests      build and check the binaries only; with --deb, only the
#                   package's build
#
# Installs what it needs: scripts/install-deps.sh --arm64 (and --package
# with --deb).
set -euo pipefail

cd "$(dirname "$0")/.."

build=build-arm64
deb_out=
run_tests=1
catch_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build=${2:?}; shift 2 ;;
    --deb) deb_out=${2:?}; shift 2 ;;
    --no-tests) run_tests=0; shift ;;
    --) shift; catch_args=("$@"); break ;;
    *) echo "cross-arm64: unknown argument '$1'" >&2; exit 2 ;;
  esac
done

cross_file=scripts/cross/aarch64-linux-gnu.ini
# qemu-user runs the programs on the arm64 libc6 that the -dev packages
# pulled in, as on a Pi: no -L (see the cross file).
wrapper=qemu-aarch64

say() { echo "cross-arm64: $*" >&2; }

# Fails unless every path given is an aarch64 ELF file.
require_aarch64() {
  local path description
  for path in "$@"; do
    description=$(file -b "$path")
    if ! grep -q 'ARM aarch64' <<<"$description"; then
      say "$path is not an aarch64 program: $description"
      exit 1
    fi
  done
  say "aarch64: $*"
}

# The package is built as the native one is (scripts/make-deb): prefix /usr,
# buildtype plain and dpkg-buildflags' flags, here those for arm64. So it
# has a build directory of its own, beside the tested one.
build_deb() {
  local deb_build="$build-deb" deb
  if [ ! -f "$deb_build/build.ninja" ]; then
    export DEB_BUILD_MAINT_OPTIONS=hardening=+all DEB_HOST_ARCH=arm64
    CFLAGS=$(dpkg-buildflags --get CFLAGS) \
      CXXFLAGS=$(dpkg-buildflags --get CXXFLAGS) \
      CPPFLAGS=$(dpkg-buildflags --get CPPFLAGS) \
      LDFLAGS=$(dpkg-buildflags --get LDFLAGS) \
      meson setup "$deb_build" --cross-file "$cross_file" --prefix /usr --buildtype plain -Db_ndebug=true
    unset DEB_BUILD_MAINT_OPTIONS DEB_HOST_ARCH
  fi
  deb=$(scripts/make-deb --build "$deb_build" --arch arm64 --out "$deb_out" | tail -n 1)
  dpkg-deb --info "$deb"
  dpkg-deb --contents "$deb"
  local unpacked
  unpacked=$(mktemp -d)
  dpkg-deb --extract "$deb" "$unpacked"
  require_aarch64 "$unpacked/usr/sbin/uvchatd" "$unpacked/usr/bin/uvchat"
  rm -rf "$unpacked"
  lintian --fail-on error,warning "$deb"
  say "built and checked $deb"
}

deps=(--arm64)
[ -z "$deb_out" ] || deps+=(--package)
scripts/install-deps.sh "${deps[@]}"

if [ "$run_tests" -eq 1 ] || [ -z "$deb_out" ]; then
  if [ ! -f "$build/build.ninja" ]; then
    meson setup "$build" --cross-file "$cross_file"
  fi
  ninja -C "$build" -j "$(nproc)"
  require_aarch64 "$build/uvchatd" "$build/uvchat" "$build/uvchat-bench" "$build/tests/unit/unit_tests" \
    "$build/tests/fuzz/fuzz_replay_tests" "$build/tests/integration/integration_tests"
fi

[ -z "$deb_out" ] || build_deb

[ "$run_tests" -eq 1 ] || exit 0
UVCHAT_EXE_WRAPPER=$wrapper scripts/run-tests "$build" -- "${catch_args[@]}"
