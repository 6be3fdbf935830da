#include "option_values.hpp"

#include <charconv>
#include <cstdio>

namespace uvchat::bench {
namespace {

template <typename Number>
Number ranged(const cxxopts::ParseResult& options, const std::string& name, Number low, Number high,
              const std::string& range) {
  const auto text = options[name].as<std::string>();
  Number value{};
  const auto [end, status] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (status != std::errc{} || end != text.data() + text.size() || value < low || value > high) {
    throw BadOption{"--" + name + " must be " + range + ", not '" + text + "'"};
  }
  return value;
}

}  // namespace

std::uint64_t whole_number(const cxxopts::ParseResult& options, const std::string& name, std::uint64_t low,
                           std::uint64_t high) {
  return ranged(options, name, low, high,
                "a whole number from " + std::to_string(low) + " to " + std::to_string(high));
}

Door chosen_door(const cxxopts::ParseResult& options) {
  const auto name = options["door"].as<std::string>();
  const std::optional<Door> door = door_named(name);
  if (!door) throw BadOption{"--door must be native or irc, or ws for a WebSocket, not '" + name + "'"};
  return *door;
}

double real_number(const cxxopts::ParseResult& options, const std::string& name, double low, double high) {
  char range[96];
  std::snprintf(range, sizeof range, "a number from %g to %g", low, high);
  return ranged(options, name, low, high, range);
}

}  // namespace uvchat::bench
