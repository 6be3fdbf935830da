// What "clean" means for text the server passes on (docs/PROTOCOL.md,
// section 1), checked byte by byte, independently of src/protocol/text.cpp.
#pragma once

#include <string_view>

namespace uvchat::fuzz {

// No C0 control but TAB, no DEL, no C1 control (C2 80..C2 9F), no 0xFF.
// Says nothing about UTF-8 validity: see protocol::is_valid_utf8.
inline bool has_no_control_bytes(std::string_view text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte < 0x20 && byte != '\t') return false;
    if (byte == 0x7F || byte == 0xFF) return false;
    const bool c1 = byte == 0xC2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) < 0xA0;
    if (c1) return false;
  }
  return true;
}

}  // namespace uvchat::fuzz
