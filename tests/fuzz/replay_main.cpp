// Replays every input kept for the fuzz targets (corpus/<target>/ and
// regressions/<target>/) through the targets, without libFuzzer: part of
// `make test` and `make asan`, so a crash that was found and fixed stays
// fixed. A broken invariant throws (check.hpp) and fails the test case with
// the name of the input. Catch2's runner is tests/catch_main.cpp.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <span>
#include <string_view>
#include <vector>

#include "fuzz_targets.hpp"

namespace {

namespace fs = std::filesystem;

using Target = void (*)(std::span<const std::uint8_t>);

const fs::path kFuzzDir = UVCHAT_FUZZ_DIR;

// Every kept input of `target`, in name order; hidden files are not inputs.
std::vector<fs::path> inputs_of(std::string_view target) {
  std::vector<fs::path> inputs;
  for (const char* kind : {"corpus", "regressions"}) {
    const fs::path directory = kFuzzDir / kind / target;
    if (!fs::is_directory(directory)) continue;
    for (const fs::directory_entry& entry : fs::directory_iterator(directory)) {
      if (entry.is_regular_file() && !entry.path().filename().string().starts_with('.')) {
        inputs.push_back(entry.path());
      }
    }
  }
  std::sort(inputs.begin(), inputs.end());
  return inputs;
}

std::vector<std::uint8_t> read_bytes(const fs::path& path) {
  std::ifstream file(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

void replay_all(std::string_view target, Target run) {
  const std::vector<fs::path> inputs = inputs_of(target);
  REQUIRE(!inputs.empty());
  for (const fs::path& input : inputs) {
    INFO("input: " << input.string());
    const std::vector<std::uint8_t> bytes = read_bytes(input);
    CHECK_NOTHROW(run(bytes));
  }
}

}  // namespace

TEST_CASE("fuzz_framer_parser: every corpus and regression input passes the checks") {
  replay_all("fuzz_framer_parser", uvchat::fuzz::fuzz_framer_parser);
}

TEST_CASE("fuzz_hub: every corpus and regression input passes the checks") {
  replay_all("fuzz_hub", uvchat::fuzz::fuzz_hub);
}

TEST_CASE("fuzz_tls: every corpus and regression input passes the checks") {
  replay_all("fuzz_tls", uvchat::fuzz::fuzz_tls);
}

TEST_CASE("fuzz_classic: every corpus and regression input passes the checks") {
  replay_all("fuzz_classic", uvchat::fuzz::fuzz_classic);
}

TEST_CASE("fuzz_irc: every corpus and regression input passes the checks") {
  replay_all("fuzz_irc", uvchat::fuzz::fuzz_irc);
}

TEST_CASE("fuzz_http: every corpus and regression input passes the checks") {
  replay_all("fuzz_http", uvchat::fuzz::fuzz_http);
}

TEST_CASE("fuzz_websocket: every corpus and regression input passes the checks") {
  replay_all("fuzz_websocket", uvchat::fuzz::fuzz_websocket);
}
