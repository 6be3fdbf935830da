// Writes the seeds of fuzz_tls (corpus/fuzz_tls/): real ClientHellos, as a
// client TlsSession's start_handshake() makes them, for wire mode; plain
// text; and handshakes of every profile, with and without edits. Run once
// when the input format or the TLS settings change (README.md):
//
//   ninja -C build tests/fuzz/make_tls_seeds
//   build/tests/fuzz/make_tls_seeds tests/fuzz/corpus/fuzz_tls
//
// ClientHellos hold random bytes, so each run writes other seeds.
#include <openssl/ssl.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "uvchat/net/tls.hpp"

namespace {

using uvchat::net::TlsContext;
using uvchat::net::TlsSession;

// Schedules (tls_peer.hpp): all at once; a byte at a time; ragged cuts,
// small reads and a held read; the server writes a line, 40 KB, then
// shuts down.
constexpr std::string_view kWhole = "\x1F\x1F\x1F\x1F";
constexpr std::string_view kByteByByte{"\x00\x00\x00\x00", 4};
constexpr std::string_view kRagged = "\x04\x25\xE2\x5F";
constexpr std::string_view kServerTalks = "\x7F\x9F\xBF\x1F";

constexpr unsigned char kWire = 0x00;
constexpr unsigned char kHandshake = 0x01;
constexpr unsigned char kResume = 0x10;
constexpr unsigned char kKeysAgain = 0x20;

unsigned char profile(int index) { return static_cast<unsigned char>(kHandshake | index << 1); }

std::string client_hello(bool tls12_only, const char* ciphers) {
  std::string error;
  const auto context = TlsContext::client({}, error);
  if (!context) {
    std::fprintf(stderr, "make_tls_seeds: %s\n", error.c_str());
    std::exit(1);
  }
  TlsSession client(context, TlsSession::Role::kClient, "localhost");
  if (tls12_only) SSL_set_max_proto_version(client.ssl(), TLS1_2_VERSION);
  if (ciphers != nullptr) SSL_set_cipher_list(client.ssl(), ciphers);
  client.start_handshake();
  return client.take_output();
}

// Five bytes (fuzz_tls.cpp): flight, offset (two bytes), kind, value.
std::string edit(int flight, int offset, int kind, int value) {
  const char bytes[] = {static_cast<char>(flight), static_cast<char>(offset >> 8), static_cast<char>(offset),
                        static_cast<char>(kind), static_cast<char>(value)};
  return std::string(bytes, sizeof bytes);
}

enum Kind { kFlip, kSet, kCut, kInsert, kDrop, kRepeat, kSwapRecords, kHold };

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_tls_seeds DIRECTORY\n");
    return 2;
  }
  const std::filesystem::path directory = argv[1];
  std::filesystem::create_directories(directory);
  const auto seed = [&](const std::string& name, unsigned char mode, std::string_view schedule,
                        const std::string& rest) {
    std::ofstream(directory / name, std::ios::binary) << static_cast<char>(mode) << schedule << rest;
  };

  const std::string hello13 = client_hello(false, nullptr);
  const std::string hello12 = client_hello(true, nullptr);
  seed("wire-hello-tls13", kWire, kWhole, hello13);
  seed("wire-hello-tls13-byte-by-byte", kWire, kByteByByte, hello13);
  seed("wire-hello-tls12", kWire, kWhole, hello12);
  seed("wire-hello-tls12-ragged", kWire, kRagged, hello12);
  seed("wire-hello-tls12-cbc", kWire, kWhole, client_hello(true, "ECDHE-ECDSA-AES128-SHA"));
  seed("wire-hello-twice", kWire, kRagged, hello13 + hello13);
  // A record that says it holds a ClientHello of four bytes.
  seed("wire-garbage-hello", kWire, kWhole,
       std::string("\x16\x03\x01\x00\x08\x01\x00\x00\x04\x03\x03\x00\x00", 13));
  seed("wire-plain-line", kWire, kWhole, "server:register al\n");
  seed("wire-http-get", kWire, kWhole, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
  seed("wire-empty", kWire, kWhole, "");

  const char* const profiles[] = {"tls13", "tls13-aes128", "tls13-aes256",     "tls13-chacha",
                                  "tls12", "tls12-chacha", "tls12-aes128-cbc", "tls12-aes256-cbc"};
  for (int i = 0; i < 8; ++i) seed(std::string("handshake-") + profiles[i], profile(i), kWhole, "");
  seed("handshake-tls13-resumed", profile(0) | kResume, kWhole, "");
  seed("handshake-tls12-resumed", profile(4) | kResume, kWhole, "");
  seed("handshake-tls12-cbc-resumed", profile(6) | kResume, kRagged, "");
  seed("handshake-tls13-key-update", profile(0) | kKeysAgain, kWhole, "");
  seed("handshake-tls12-renegotiation", profile(4) | kKeysAgain, kWhole, "");
  seed("handshake-tls13-byte-by-byte", profile(0), kByteByByte, "");
  seed("handshake-tls12-byte-by-byte", profile(4), kByteByByte, "");
  seed("handshake-tls13-ragged", profile(3), kRagged, "");
  seed("handshake-tls12-cbc-ragged", profile(7), kRagged, "");
  seed("handshake-server-talks", profile(0), kServerTalks, "");
  seed("handshake-tls12-server-talks", profile(6), kServerTalks, "");

  // Flights: 0 the ClientHello, 1 the server's answer, 2 the client's
  // Finished (and its first line), then lines, tickets and close_notify.
  seed("edit-hello-flipped", profile(0), kWhole, edit(0, 60, kFlip, 0x01));
  seed("edit-hello-not-tls", profile(0), kWhole, edit(0, 0, kSet, 'G'));
  seed("edit-server-hello-flipped", profile(0), kWhole, edit(1, 50, kFlip, 0x40));
  seed("edit-server-flight-cut", profile(4), kWhole, edit(1, 300, kCut, 0));
  seed("edit-finished-flipped", profile(0), kWhole, edit(2, 10, kFlip, 0x08));
  seed("edit-finished-dropped", profile(0), kWhole, edit(2, 0, kDrop, 0));
  seed("edit-finished-repeated", profile(4), kWhole, edit(2, 0, kRepeat, 0));
  seed("edit-server-records-swapped", profile(4), kWhole, edit(1, 1, kSwapRecords, 0));
  seed("edit-tls13-records-swapped", profile(0), kWhole, edit(1, 2, kSwapRecords, 0));
  seed("edit-finished-held", profile(0), kWhole, edit(2, 0, kHold, 0));
  seed("edit-server-flight-late", profile(4), kByteByByte, edit(1, 0, kHold, 0));
  seed("edit-line-byte-inserted", profile(6), kWhole, edit(4, 30, kInsert, 0x17));
  seed("edit-close-notify-cut", profile(0), kWhole, edit(6, 3, kCut, 0));
  seed("edit-tls12-close-notify-flipped", profile(4), kWhole, edit(7, 20, kFlip, 0x01));
  seed("edit-cbc-padding", profile(6), kRagged, edit(4, 0xFFFF, kFlip, 0x01));
  seed("edit-resumed-hello", profile(0) | kResume, kWhole, edit(0, 200, kFlip, 0x20));
  return 0;
}
