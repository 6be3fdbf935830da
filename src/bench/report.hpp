// What a scenario found: one JSON line for programs, a summary for people.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace uvchat::bench {

struct Field {
  std::string name;
  std::variant<std::int64_t, double, std::string> value;
};

inline Field count_field(std::string name, std::uint64_t value) {
  return Field{std::move(name), static_cast<std::int64_t>(value)};
}

// Every scenario reports a rate (`messages` per second, in `unit`) and the
// exactly-once check; scenario-specific figures (CPU time, latency) go in
// `metrics`.
struct Report {
  std::string scenario;
  std::vector<Field> parameters;
  std::uint64_t messages = 0;
  double seconds = 0;
  std::string unit = "messages/s";
  std::vector<Field> metrics;

  std::uint64_t lost = 0;
  std::uint64_t duplicated = 0;
  std::uint64_t corrupt = 0;          // delivered, but not a message that was sent
  std::uint64_t errors = 0;           // server errors, dropped connections, stalls
  std::vector<std::string> problems;  // the first few, in words

  double rate() const { return seconds > 0 ? static_cast<double>(messages) / seconds : 0.0; }
  bool passed() const { return lost == 0 && duplicated == 0 && corrupt == 0 && errors == 0; }
  void add_error(std::string what);
  void add_corrupt(std::string what);

 private:
  void keep_problem(std::string what);
};

// {"scenario":"offline","parameters":{...},"messages":N,"seconds":S,"rate":R,...}
std::string to_json_line(const Report& report);
// A few lines; the last says passed or FAILED.
std::string to_summary(const Report& report);

}  // namespace uvchat::bench
