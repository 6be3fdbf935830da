#include "report.hpp"

#include <cstdio>
#include <initializer_list>
#include <string_view>

namespace uvchat::bench {
namespace {

// Enough to tell what went wrong without flooding the terminal when every
// one of thousands of messages fails the same way.
constexpr std::size_t kMaxProblems = 10;

std::string fixed(double value, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

std::string json_string(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(c));
      out.append(escaped);
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
  return out;
}

struct JsonValue {
  std::string operator()(std::int64_t value) const { return std::to_string(value); }
  std::string operator()(double value) const { return fixed(value, 3); }
  std::string operator()(const std::string& value) const { return json_string(value); }
};

struct ReadableValue {
  std::string operator()(std::int64_t value) const { return std::to_string(value); }
  std::string operator()(double value) const { return fixed(value, 3); }
  std::string operator()(const std::string& value) const { return value; }
};

// Builds `{"name":value,...}` one member at a time.
class JsonObject {
 public:
  JsonObject& raw(std::string_view name, std::string_view json) {
    if (out_.size() > 1) out_.push_back(',');
    out_.append(json_string(name));
    out_.push_back(':');
    out_.append(json);
    return *this;
  }
  JsonObject& count(std::string_view name, std::uint64_t value) { return raw(name, std::to_string(value)); }
  JsonObject& text(std::string_view name, std::string_view value) { return raw(name, json_string(value)); }
  JsonObject& fields(const std::vector<Field>& fields) {
    for (const Field& field : fields) raw(field.name, std::visit(JsonValue{}, field.value));
    return *this;
  }
  std::string str() const { return out_ + "}"; }

 private:
  std::string out_ = "{";
};

std::string json_list(const std::vector<std::string>& items) {
  std::string out = "[";
  for (const std::string& item : items) {
    if (out.size() > 1) out.push_back(',');
    out.append(json_string(item));
  }
  out.push_back(']');
  return out;
}

void append_line(std::string& out, std::initializer_list<std::string_view> parts) {
  for (const std::string_view part : parts) out.append(part);
  out.push_back('\n');
}

// "name value, name value"
std::string readable_fields(const std::vector<Field>& fields) {
  std::string out;
  for (const Field& field : fields) {
    if (!out.empty()) out.append(", ");
    out.append(field.name);
    out.push_back(' ');
    out.append(std::visit(ReadableValue{}, field.value));
  }
  return out;
}

}  // namespace

void Report::add_error(std::string what) {
  ++errors;
  what.insert(0, "error: ");
  keep_problem(std::move(what));
}

void Report::add_corrupt(std::string what) {
  ++corrupt;
  what.insert(0, "corrupt: ");
  keep_problem(std::move(what));
}

void Report::keep_problem(std::string what) {
  if (problems.size() < kMaxProblems) problems.push_back(std::move(what));
}

std::string to_json_line(const Report& report) {
  JsonObject json;
  json.text("scenario", report.scenario)
      .raw("parameters", JsonObject().fields(report.parameters).str())
      .count("messages", report.messages)
      .raw("seconds", fixed(report.seconds, 6))
      .raw("rate", fixed(report.rate(), 1))
      .text("unit", report.unit)
      .fields(report.metrics)
      .count("lost", report.lost)
      .count("duplicated", report.duplicated)
      .count("corrupt", report.corrupt)
      .count("errors", report.errors)
      .raw("passed", report.passed() ? "true" : "false")
      .raw("problems", json_list(report.problems));
  return json.str() + "\n";
}

std::string to_summary(const Report& report) {
  std::string out;
  append_line(out, {report.scenario, ": ", readable_fields(report.parameters)});
  append_line(out, {"  ", std::to_string(report.messages), " in ", fixed(report.seconds, 3),
                    " s: ", fixed(report.rate(), 0), " ", report.unit});
  if (!report.metrics.empty()) append_line(out, {"  ", readable_fields(report.metrics)});
  for (const std::string& problem : report.problems) append_line(out, {"  ", problem});
  if (const std::uint64_t unshown = report.errors + report.corrupt - report.problems.size(); unshown > 0) {
    append_line(out, {"  ... and ", std::to_string(unshown), " more"});
  }
  append_line(out, {"  lost ", std::to_string(report.lost), ", duplicated ",
                    std::to_string(report.duplicated), ", corrupt ", std::to_string(report.corrupt),
                    ", errors ", std::to_string(report.errors), ": ", report.passed() ? "passed" : "FAILED"});
  return out;
}

}  // namespace uvchat::bench
