# A thin wrapper around meson + ninja; see README.md.
#
#   make          build (installs missing Debian packages first)
#   make run      build and run the server on port 8080
#   make test     build and run every test; ends with "N passed, M failed"
#   make asan     the same tests, built with AddressSanitizer + UBSan
#   make bench    Release build of uvchatd, uvchat-bench and uvchat-relay in build-release/
#   make fuzz     the libFuzzer targets, FUZZ_SECONDS (30) each, in FUZZ_BUILD (build-fuzz/)
#   make install  meson install of $(BUILD) into PREFIX (/usr/local) under DESTDIR
#   make deb      the Debian package, in build-deb/ (scripts/make-deb)
#   make check-arm64  the arm64 cross build, every test under qemu-aarch64
#   make deb-arm64    the arm64 Debian package, in build-arm64-deb/
#   make clean    remove the build directories

BUILD      ?= build
ASAN_BUILD ?= build-asan
BENCH_BUILD ?= build-release
MESON_OPTS ?=
RUN_ARGS   ?=

.PHONY: all build deps run test asan clean

all: build

deps:
	@scripts/install-deps.sh

$(BUILD)/build.ninja: | deps
	meson setup $(BUILD) $(MESON_OPTS)

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

run: build
	$(BUILD)/uvchatd $(RUN_ARGS)

test: build
	scripts/run-tests $(BUILD)

$(ASAN_BUILD)/build.ninja: | deps
	meson setup $(ASAN_BUILD) $(MESON_OPTS) -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug

asan: deps $(ASAN_BUILD)/build.ninja
	ninja -C $(ASAN_BUILD)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		UVCHAT_BROWSER=0 scripts/run-tests $(ASAN_BUILD)

# Benchmarks need the optimised binaries; scripts/bench-offline runs them.
.PHONY: bench
$(BENCH_BUILD)/build.ninja: | deps
	meson setup $(BENCH_BUILD) $(MESON_OPTS) -Dbuildtype=release

bench: deps $(BENCH_BUILD)/build.ninja
	ninja -C $(BENCH_BUILD) uvchatd uvchat-bench uvchat-relay

# Needs clang; tests/fuzz/README.md says how to keep what it finds.
FUZZ_SECONDS ?= 30
FUZZ_BUILD ?= build-fuzz
.PHONY: fuzz
fuzz:
	scripts/fuzz --build $(FUZZ_BUILD) --seconds $(FUZZ_SECONDS)

# The programs, their man pages, the example configuration and the systemd
# unit. PREFIX=/usr puts the configuration in /etc/uvchat and the unit in
# /lib/systemd/system, as the .deb does.
PREFIX  ?= /usr/local
DESTDIR ?=
.PHONY: install
install: deps $(BUILD)/build.ninja
	meson configure $(BUILD) -Dprefix=$(PREFIX)
	DESTDIR="$(DESTDIR)" meson install -C $(BUILD)

# uvchat_VERSION_ARCH.deb in build-deb/, a prefix /usr build with Debian's
# hardening flags; lintian checks it.
DEB_BUILD ?= build-deb
.PHONY: deb
deb: deps
	scripts/install-deps.sh --package
	scripts/make-deb --build $(DEB_BUILD)
	lintian --fail-on error,warning $(DEB_BUILD)/uvchat_*.deb

# The aarch64 build of a Raspberry Pi in build-arm64/, with Debian's cross
# toolchain; its unit, fuzz replay and integration tests run under
# qemu-user (scripts/cross-arm64.sh). About 6 minutes on 2 cores from
# nothing (4 to build, 2.5 for the tests).
ARM64_BUILD ?= build-arm64
.PHONY: check-arm64 deb-arm64
check-arm64:
	scripts/cross-arm64.sh --build $(ARM64_BUILD)

deb-arm64:
	scripts/cross-arm64.sh --build $(ARM64_BUILD) --no-tests --deb $(ARM64_BUILD)-deb

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(BENCH_BUILD) $(DEB_BUILD) $(ARM64_BUILD) $(ARM64_BUILD)-deb build-fuzz build-soak
