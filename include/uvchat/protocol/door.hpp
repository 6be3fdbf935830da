// Which door a connection came in by, told from its first bytes.
//
// One port serves every door: the first bytes a client sends say which it
// speaks. A TLS ClientHello starts with 0x16 (a handshake record), which no
// line of any text door can start with; everything else is the native
// protocol. Pure, so that it is fuzzed with the rest of the codecs.
#pragma once

#include <cstdint>
#include <string_view>

namespace uvchat::protocol {

enum class Door : std::uint8_t {
  kUnknown,  // nothing has arrived yet
  kTls,      // a TLS handshake: the door inside is sniffed again in plaintext
  kNative,
};

// The record type of a TLS handshake (RFC 8446 §5.1).
constexpr unsigned char kTlsHandshakeRecord = 0x16;

constexpr Door sniff_door(std::string_view first_bytes) {
  if (first_bytes.empty()) return Door::kUnknown;
  return static_cast<unsigned char>(first_bytes.front()) == kTlsHandshakeRecord ? Door::kTls : Door::kNative;
}

}  // namespace uvchat::protocol
