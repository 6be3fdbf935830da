// PROTOCOL.md 1 and 6, long lines: however much comes without an LF, the
// server holds at most --max-line bytes of it and answers once.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <random>
#include <string>

#include "harness.hpp"

using namespace uvchat::test;

namespace {

constexpr int kChunks = 64;
constexpr std::size_t kChunkBytes = 1 << 20;
// What the server may grow by, resident or at its peak, in KiB.
constexpr long kGrowthBoundKib = 4096;

// Random bytes, telnet IAC, NUL and invalid UTF-8 among them, but no LF.
std::string garbage_without_lf(std::size_t size) {
  std::mt19937 random(4);
  std::uniform_int_distribution<int> byte(0, 255);
  std::string bytes(size, '\0');
  for (char& each : bytes) {
    each = static_cast<char>(byte(random));
    if (each == '\n') each = 'x';
  }
  return bytes;
}

struct Memory {
  long resident_kib;
  long peak_kib;
};

// A server built with AddressSanitizer keeps freed memory in quarantine
// for a while, and the server frees and takes its input buffer again as it
// reads: that would count as growth. Other servers ignore the variable.
std::string asan_options_without_quarantine() {
  const char* options = std::getenv("ASAN_OPTIONS");
  const std::string before = options != nullptr && *options != '\0' ? std::string(options) + ":" : "";
  return "ASAN_OPTIONS=" + before + "quarantine_size_mb=0";
}

Memory memory_of(const TestServer& server) {
  return {proc_status_kib(server.pid(), "VmRSS"), proc_status_kib(server.pid(), "VmHWM")};
}

}  // namespace

TEST_CASE("input: 64 MiB of garbage without LF: one line-too-long, memory flat, the connection works",
          "[limits]") {
  TestServer server({.args = {}, .env = {asan_options_without_quarantine()}});
  RegisteredClient alice(server, "alice");
  alice.expect_quiet();
  const Memory before = memory_of(server);

  const std::string chunk = garbage_without_lf(kChunkBytes);
  for (int i = 0; i < kChunks; ++i) alice.send(chunk);
  alice.send("\n");
  alice.expect("server:error line-too-long the limit is 4096 bytes");
  alice.expect_quiet();
  alice.send_line("alice: still here");
  alice.expect_chat("alice: still here");

  const Memory after = memory_of(server);
  INFO("VmRSS " << before.resident_kib << " kB before, " << after.resident_kib << " kB after; VmHWM "
                << before.peak_kib << " kB before, " << after.peak_kib << " kB after");
  CHECK(after.resident_kib - before.resident_kib < kGrowthBoundKib);
  CHECK(after.peak_kib - before.peak_kib < kGrowthBoundKib);
}
