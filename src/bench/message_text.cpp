#include "message_text.hpp"

#include <limits>

#include "wire.hpp"

namespace uvchat::bench {
namespace {

constexpr std::string_view kAlphabet = "abcdefghijklmnopqrstuvwxyz";

// Each sender's padding starts at a different letter, so that it also tells
// apart the texts of two senders with the same sequence number.
void append_padding(std::string& out, MessageKey key, std::size_t count) {
  const std::uint64_t start = key.sequence + std::uint64_t{7} * key.sender;
  for (std::size_t i = 0; i < count; ++i) out.push_back(kAlphabet[(start + i) % kAlphabet.size()]);
}

// "s12" -> 12; the tag letter, then digits up to the next space.
std::optional<std::uint64_t> take_tagged_number(std::string_view& text, char tag) {
  const std::size_t space = text.find(' ');
  if (space == std::string_view::npos || !text.starts_with(tag)) return std::nullopt;
  const auto number = parse_count(text.substr(1, space - 1));
  text.remove_prefix(space + 1);
  return number;
}

}  // namespace

void append_message_text(std::string& out, MessageKey key, std::size_t size) {
  const std::size_t start = out.size();
  out.push_back('s');
  append_decimal(out, key.sender);
  out.append(" n");
  append_decimal(out, key.sequence);
  out.push_back(' ');
  const std::size_t header = out.size() - start;
  append_padding(out, key, size > header ? size - header : 0);
}

std::optional<MessageKey> parse_message_text(std::string_view text, std::size_t size) {
  std::string_view rest = text;
  const auto sender = take_tagged_number(rest, 's');
  const auto sequence = take_tagged_number(rest, 'n');
  if (!sender || !sequence || *sender > std::numeric_limits<std::uint32_t>::max()) return std::nullopt;
  const MessageKey key{static_cast<std::uint32_t>(*sender), *sequence};
  std::string expected;
  append_message_text(expected, key, size);
  if (text != expected) return std::nullopt;
  return key;
}

}  // namespace uvchat::bench
