#include "wire.hpp"

#include <charconv>
#include <limits>

namespace uvchat::bench {
namespace {

constexpr std::string_view kServerPrefix = "server:";

}  // namespace

std::optional<ServerEvent> parse_server_event(std::string_view line) {
  if (!line.starts_with(kServerPrefix)) return std::nullopt;
  line.remove_prefix(kServerPrefix.size());
  const std::size_t space = line.find(' ');
  if (space == std::string_view::npos) return ServerEvent{line, {}};
  return ServerEvent{line.substr(0, space), line.substr(space + 1)};
}

std::string_view error_subject(std::string_view args) {
  const std::size_t code_end = args.find(' ');
  if (code_end == std::string_view::npos) return {};
  const std::string_view detail = args.substr(code_end + 1);
  return detail.substr(0, detail.find_first_of(" ,"));
}

std::optional<ChatLine> parse_direct_message(std::string_view line) {
  if (!line.starts_with('[')) return std::nullopt;
  const std::size_t stamp_end = line.find("] ");
  if (stamp_end == std::string_view::npos) return std::nullopt;
  line.remove_prefix(stamp_end + 2);
  const std::size_t colon = line.find(": ");
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  const std::string_view sender = line.substr(0, colon);
  // A room line is "#room NAME: TEXT", a broadcast "* NAME: TEXT".
  if (sender.find(' ') != std::string_view::npos) return std::nullopt;
  return ChatLine{sender, line.substr(colon + 2)};
}

std::string indexed_name(std::string_view prefix, std::uint32_t index) {
  std::string name(prefix);
  append_decimal(name, index);
  return name;
}

std::optional<std::uint32_t> name_index(std::string_view prefix, std::string_view name) {
  if (!name.starts_with(prefix)) return std::nullopt;
  const auto count = parse_count(name.substr(prefix.size()));
  if (!count || *count > std::numeric_limits<std::uint32_t>::max()) return std::nullopt;
  return static_cast<std::uint32_t>(*count);
}

void append_decimal(std::string& out, std::uint64_t value) {
  char digits[20];
  char* end = std::to_chars(digits, digits + sizeof digits, value).ptr;
  out.append(digits, static_cast<std::size_t>(end - digits));
}

std::optional<std::uint64_t> parse_count(std::string_view text) {
  std::uint64_t value = 0;
  const auto [end, status] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || status != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace uvchat::bench
