#include "uvchat/protocol/text.hpp"

#include <algorithm>
#include <array>
#include <cstdint>

namespace uvchat::protocol {
namespace {

constexpr std::string_view kReplacementChar = "\xEF\xBF\xBD";  // U+FFFD

bool is_continuation(unsigned char byte) { return (byte & 0xC0) == 0x80; }

constexpr bool is_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

// Every DM's target is checked: a table, not six comparisons a byte.
constexpr std::array<bool, 256> kNameChars = [] {
  std::array<bool, 256> table{};
  for (int c = 0; c < 256; ++c) table[c] = is_alnum(static_cast<char>(c)) || c == '_' || c == '.' || c == '-';
  return table;
}();

bool is_name_char(char c) { return kNameChars[static_cast<unsigned char>(c)]; }

// Length of the UTF-8 sequence starting at text[i], or 0 when it is not a
// well-formed one (Unicode 15, table 3-7).
std::size_t sequence_length(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[i + k]); };
  const unsigned char lead = byte(0);
  if (lead < 0x80) return 1;
  std::size_t length = 0;
  unsigned char min_second = 0x80;
  unsigned char max_second = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) min_second = 0xA0;  // overlong
    if (lead == 0xED) max_second = 0x9F;  // surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) min_second = 0x90;  // overlong
    if (lead == 0xF4) max_second = 0x8F;  // past U+10FFFF
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  if (byte(1) < min_second || byte(1) > max_second) return 0;
  for (std::size_t k = 2; k < length; ++k) {
    if (!is_continuation(byte(k))) return 0;
  }
  return length;
}

// True for the control characters the server will not pass on: C0 but TAB,
// DEL, and C1 (encoded as C2 80..C2 9F).
bool is_control_at(std::string_view text, std::size_t i, std::size_t length) {
  const auto lead = static_cast<unsigned char>(text[i]);
  if (length == 1) return (lead < 0x20 && lead != '\t') || lead == 0x7F;
  if (length == 2 && lead == 0xC2) return static_cast<unsigned char>(text[i + 1]) < 0xA0;
  return false;
}

constexpr std::uint64_t kHighBits = 0x8080808080808080ULL;
constexpr std::uint64_t kEvery(unsigned char byte) { return 0x0101010101010101ULL * byte; }

std::uint64_t eight_bytes_at(std::string_view text, std::size_t i) {
  std::uint64_t chunk;
  std::copy_n(text.data() + i, 8, reinterpret_cast<char*>(&chunk));
  return chunk;
}

// True when all eight bytes are ASCII.
bool all_ascii(std::uint64_t chunk) { return (chunk & kHighBits) == 0; }

// True when all eight bytes are printable ASCII (0x20 to 0x7E). For ASCII
// bytes, x - 0x20 borrows into the high bit only when x < 0x20, and
// (x ^ 0x7F) - 1 only when x == 0x7F.
bool all_printable_ascii(std::uint64_t chunk) {
  const std::uint64_t below_space = chunk - kEvery(0x20);
  const std::uint64_t is_del = (chunk ^ kEvery(0x7F)) - kEvery(0x01);
  return ((chunk | below_space | is_del) & kHighBits) == 0;
}

}  // namespace

bool is_valid_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    // Most chat text is ASCII: skip it eight bytes at a time.
    while (i + 8 <= text.size() && all_ascii(eight_bytes_at(text, i))) i += 8;
    if (i >= text.size()) break;
    const std::size_t length = sequence_length(text, i);
    if (length == 0) return false;
    i += length;
  }
  return true;
}

bool is_printable_ascii(std::string_view text) {
  std::size_t i = 0;
  while (i + 8 <= text.size() && all_printable_ascii(eight_bytes_at(text, i))) i += 8;
  for (; i < text.size(); ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte < 0x20 || byte > 0x7E) return false;
  }
  return true;
}

bool has_controls(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    // As in is_valid_utf8: plain ASCII eight bytes at a time.
    while (i + 8 <= text.size() && all_printable_ascii(eight_bytes_at(text, i))) i += 8;
    if (i >= text.size()) break;
    const std::size_t length = std::max<std::size_t>(1, sequence_length(text, i));
    if (is_control_at(text, i, length)) return true;
    i += length;
  }
  return false;
}

bool append_without_controls(std::string_view text, std::string& out) {
  bool replaced = false;
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t length = std::max<std::size_t>(1, sequence_length(text, i));
    if (is_control_at(text, i, length)) {
      out.append(kReplacementChar);
      replaced = true;
    } else {
      out.append(text.substr(i, length));
    }
    i += length;
  }
  return replaced;
}

bool is_valid_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) return false;
  if (!is_alnum(name.front())) return false;
  return std::all_of(name.begin(), name.end(), is_name_char);
}

bool is_reserved_name(std::string_view name) {
  return equal_case_insensitive(name, "server") || equal_case_insensitive(name, "all");
}

bool is_valid_room(std::string_view room) {
  return room.size() >= 2 && room.front() == '#' && is_valid_name(room.substr(1));
}

std::string fold_case(std::string_view text) {
  std::string folded(text);
  std::transform(folded.begin(), folded.end(), folded.begin(), to_lower);
  return folded;
}

bool less_case_insensitive(std::string_view a, std::string_view b) {
  const int order = compare_case_insensitive(a, b);
  return order != 0 ? order < 0 : a < b;
}

bool is_blank(std::string_view text) { return text.find_first_not_of(" \t") == std::string_view::npos; }

std::string_view trim(std::string_view text) {
  const std::size_t first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

std::string_view utf8_prefix(std::string_view text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  std::size_t end = max_bytes;
  while (end > 0 && is_continuation(static_cast<unsigned char>(text[end]))) --end;
  return text.substr(0, end);
}

}  // namespace uvchat::protocol
