// The fuzz targets, callable without libFuzzer: each file defines its
// LLVMFuzzerTestOneInput on top of one of these only when built for
// libFuzzer (UVCHAT_LIBFUZZER), and the replay tests call them directly.
#pragma once

#include <cstdint>
#include <span>

namespace uvchat::fuzz {

// Bytes from a client through RingBuffer, Framer and parse_line.
void fuzz_framer_parser(std::span<const std::uint8_t> input);

// A program of connections, lines, store answers and password answers run
// against the Hub.
void fuzz_hub(std::span<const std::uint8_t> input);

// The first-byte sniffing, then what a client sends, or a real handshake
// with its flights corrupted, through a server TlsSession.
void fuzz_tls(std::span<const std::uint8_t> input);

// Client lines and hub events through one IRC door's codec (IrcCodec).
void fuzz_irc(std::span<const std::uint8_t> input);

// Lines through a Framer into a ClassicCodec, and events out of it.
void fuzz_classic(std::span<const std::uint8_t> input);

// Bytes through a Framer into a WebCodec speaking HTTP, and on through its
// WebSocket if a request upgrades.
void fuzz_http(std::span<const std::uint8_t> input);

// WebSocket frames through a WebSocketReader, or an upgraded WebCodec.
void fuzz_websocket(std::span<const std::uint8_t> input);

}  // namespace uvchat::fuzz
