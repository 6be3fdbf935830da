// The text of a bench message: who sent it, its number, and a padding that
// lets the receiver check it arrived intact.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace uvchat::bench {

// Identifies one message of a run: the sender's index and the sender's
// sequence number, counted from 0.
struct MessageKey {
  std::uint32_t sender = 0;
  std::uint64_t sequence = 0;
  bool operator==(const MessageKey&) const = default;
};

// Texts are "s<sender> n<sequence> " followed by letters up to `size` bytes
// (longer only when the numbers alone need more). The letters depend on the
// key, so a line swapped, cut or garbled in transit does not pass as intact.
void append_message_text(std::string& out, MessageKey key, std::size_t size);

// The key of `text` if it is exactly the text append_message_text() makes
// for that key and size; null for anything else.
std::optional<MessageKey> parse_message_text(std::string_view text, std::size_t size);

}  // namespace uvchat::bench
