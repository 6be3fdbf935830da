// The fuzz targets' checks. A broken invariant is reported on stderr and
// thrown: under libFuzzer nothing catches it, so the process aborts at the
// throw and libFuzzer keeps the input; in the replay tests Catch2 catches it
// and names the input that broke it.
#pragma once

#include <cstddef>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <string_view>

namespace uvchat::fuzz {

class InvariantViolation : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

// `text` with every byte outside printable ASCII as \xNN, for messages.
inline std::string escaped(std::string_view text) {
  std::string out;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7F && byte != '\\') {
      out.push_back(c);
      continue;
    }
    char hex[8];
    std::snprintf(hex, sizeof hex, "\\x%02X", byte);
    out += hex;
  }
  return out;
}

// `what` broke; `about` (escaped) is the text it broke on, if any.
[[noreturn]] inline void fail(std::string_view what, std::string_view about = {}) {
  std::string message(what);
  if (!about.empty()) message += ": " + escaped(about);
  std::fprintf(stderr, "fuzz: invariant broken: %s\n", message.c_str());
  throw InvariantViolation(message);
}

// The message is built only when the check fails: checks run millions of
// times a minute.
inline void check(bool holds, std::string_view what, std::string_view about = {}) {
  if (!holds) fail(what, about);
}

inline void check_count(std::size_t actual, std::size_t expected, std::string_view what) {
  if (actual == expected) return;
  fail(std::string(what) + " is " + std::to_string(actual) + ", the model says " + std::to_string(expected));
}

}  // namespace uvchat::fuzz
