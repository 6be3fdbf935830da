// Fuzz target: the first-byte sniffing (protocol/door.hpp) and the TLS
// record path (net/tls.hpp), without a network. A server context is made
// once from a self-signed certificate; every input gets fresh sessions.
//
// Input: byte 0 picks the mode, bytes 1 to 4 are the schedule (tls_peer.hpp:
// how ciphertext is cut into reads, and what is done after each), then
// - wire mode (byte 0 even): what a client sends. It is sniffed, and when it
//   is TLS handed to a server session. Seeds are real ClientHellos.
// - handshake mode (byte 0 odd): a real client shakes hands with the server
//   in memory, writes three lines and closes; bits 1 to 3 pick its version
//   and cipher, bit 4 makes it resume a session, bit 5 makes it ask for new
//   keys (TLS 1.3) or to renegotiate (TLS 1.2, which the server refuses).
//   The rest is edits of five bytes each: which flight (either direction, in
//   the order they leave), an offset, and what is done there (a byte
//   flipped, set or inserted, the flight cut, dropped, sent twice, two
//   records swapped, or the flight held back behind the next one).
//
// Checks (besides tls_peer.hpp's, on both ends, all the time):
// - the door is TLS exactly when the first byte is 0x16, and more bytes
//   never change it; a real ClientHello goes through the TLS door;
// - wire mode: no handshake finishes on bytes fixed in advance;
// - handshake mode: what each end read is a prefix of what the other
//   wrote, whatever was done to the flights; when nothing was, both ends
//   finish the handshake (resumed when asked), the client verifies the
//   certificate, every line arrives whole and close_notify is read.
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <iterator>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "byte_reader.hpp"
#include "check.hpp"
#include "fuzz_targets.hpp"
#include "tls_peer.hpp"
#include "uvchat/net/tls.hpp"
#include "uvchat/protocol/door.hpp"

namespace uvchat::fuzz {
namespace {

using net::TlsContext;
using net::TlsSession;
using protocol::Door;
using protocol::sniff_door;

// What the client offers. One cipher at a time, so that each record
// protection (AES-GCM, ChaCha20-Poly1305, CBC with its MAC) is reached.
struct Profile {
  std::string_view name;
  bool tls12_only;
  const char* tls13_suites;  // null: OpenSSL's default
  const char* tls12_ciphers;
};

constexpr Profile kProfiles[] = {
    {"TLS 1.3", false, nullptr, nullptr},
    {"TLS 1.3 AES-128-GCM", false, "TLS_AES_128_GCM_SHA256", nullptr},
    {"TLS 1.3 AES-256-GCM", false, "TLS_AES_256_GCM_SHA384", nullptr},
    {"TLS 1.3 ChaCha20", false, "TLS_CHACHA20_POLY1305_SHA256", nullptr},
    {"TLS 1.2", true, nullptr, nullptr},
    {"TLS 1.2 ChaCha20", true, nullptr, "ECDHE-ECDSA-CHACHA20-POLY1305"},
    {"TLS 1.2 AES-128-CBC-SHA", true, nullptr, "ECDHE-ECDSA-AES128-SHA"},
    {"TLS 1.2 AES-256-CBC-SHA384", true, nullptr, "ECDHE-ECDSA-AES256-SHA384"},
};
constexpr std::size_t kProfileCount = std::size(kProfiles);

// Once the handshake is done the client writes these: a command, a line
// of two records, a DM.
const std::string kClientLines[] = {"server:register al\n", std::string(20000, 'y') + "\n", "bo: hi\n"};

constexpr int kMaxRounds = 64;
constexpr std::size_t kMaxEdits = 32;
// Flights are numbered in the order they leave, both directions together;
// a whole conversation has about a dozen.
constexpr std::size_t kFlights = 16;
// A flight sent twice over and over would double until memory ran out.
constexpr std::size_t kMaxRepeated = 64 * 1024;

struct Contexts {
  std::shared_ptr<const TlsContext> server;
  std::shared_ptr<const TlsContext> client;
  std::string fingerprint;
  bool tracing = false;
};

// Made once: certificates are slow, and a context is what a server keeps
// across connections anyway. A session per profile to resume.
struct World {
  Contexts contexts;
  std::shared_ptr<SSL_SESSION> sessions[kProfileCount];
};

void trace(bool tracing, const std::string& what) {
  if (tracing) std::fprintf(stderr, "%s\n", what.c_str());
}

// ---- Sniffing ----

void check_sniffing(std::string_view first_bytes) {
  const Door door = sniff_door(first_bytes);
  if (first_bytes.empty()) {
    check(door == Door::kUnknown, "nothing sniffed as a door");
    return;
  }
  const bool hello = static_cast<unsigned char>(first_bytes.front()) == protocol::kTlsHandshakeRecord;
  check(door == (hello ? Door::kTls : Door::kNative), "the first byte does not say the door", first_bytes);
  for (const std::size_t prefix : {std::size_t{1}, std::size_t{2}, std::size_t{5}}) {
    if (prefix > first_bytes.size()) break;
    check(sniff_door(first_bytes.substr(0, prefix)) == door, "more bytes changed the door", first_bytes);
  }
}

// ---- Edits to the flights between client and server ----

enum class EditKind : std::uint8_t { kFlip, kSet, kCut, kInsert, kDrop, kRepeat, kSwapRecords, kHold };

constexpr const char* kEditNames[] = {"flip", "set",    "cut",          "insert",
                                      "drop", "repeat", "swap records", "hold"};

struct Edit {
  std::size_t flight = 0;
  std::size_t offset = 0;
  EditKind kind = EditKind::kFlip;
  std::uint8_t value = 0;
};

std::vector<Edit> read_edits(ByteReader& input) {
  std::vector<Edit> edits;
  while (edits.size() < kMaxEdits) {
    const std::string_view bytes = input.bytes(5);
    if (bytes.size() < 5) break;
    const auto at = [bytes](std::size_t i) { return static_cast<std::uint8_t>(bytes[i]); };
    edits.push_back(
        Edit{at(0) % kFlights, std::size_t{at(1)} << 8 | at(2), static_cast<EditKind>(at(3) % 8), at(4)});
  }
  return edits;
}

// The whole records of `flight`, or nothing when it is not whole records.
std::vector<std::string_view> split_records(std::string_view flight) {
  std::vector<std::string_view> records;
  while (flight.size() >= 5) {
    const std::size_t length =
        5 + (std::size_t{static_cast<std::uint8_t>(flight[3])} << 8 | static_cast<std::uint8_t>(flight[4]));
    if (length > flight.size()) return {};
    records.push_back(flight.substr(0, length));
    flight.remove_prefix(length);
  }
  if (!flight.empty()) return {};
  return records;
}

// Two neighbouring records change places. A flight that is not two whole
// records or more turns around `offset` instead.
void swap_records(std::string& flight, std::size_t offset) {
  const std::vector<std::string_view> records = split_records(flight);
  if (records.size() < 2) {
    std::rotate(flight.begin(), flight.begin() + static_cast<std::ptrdiff_t>(offset % flight.size()),
                flight.end());
    return;
  }
  const std::size_t first = offset % (records.size() - 1);
  std::string swapped;
  swapped.reserve(flight.size());
  for (std::size_t i = 0; i < records.size(); ++i) {
    const std::size_t taken = i == first ? i + 1 : i == first + 1 ? first : i;
    swapped.append(records[taken]);
  }
  flight = std::move(swapped);
}

enum Direction : std::uint8_t { kToServer, kToClient };

// The two directions between client and server, where the edits happen.
class Wire {
 public:
  Wire(std::vector<Edit> edits, bool tracing) : edits_(std::move(edits)), tracing_(tracing) {}

  // `flight` as it reaches the other end: edited, and followed by what was
  // held back in the same direction (so that it arrives out of order).
  std::string carry(std::string flight, Direction direction) {
    if (flight.empty()) return flight;
    const std::size_t number = flights_++;
    const std::string earlier = std::exchange(held_[direction], {});
    for (const Edit& edit : edits_) {
      if (edit.flight == number && !flight.empty()) apply(edit, flight, held_[direction]);
    }
    trace(tracing_, std::string(direction == kToServer ? "client -> server" : "server -> client") +
                        ": flight " + std::to_string(number) + ", " + std::to_string(flight.size()) +
                        " bytes" +
                        (earlier.empty() ? "" : " and " + std::to_string(earlier.size()) + " held"));
    if (!flight.empty() && !earlier.empty()) touched_ = true;
    return flight + earlier;
  }

  // What was held back, late but in order: nothing else came after it.
  std::string release(Direction direction) { return std::exchange(held_[direction], {}); }
  bool holds_any() const { return !held_[kToServer].empty() || !held_[kToClient].empty(); }
  // Some edit changed what arrives.
  bool touched() const { return touched_; }

 private:
  void apply(const Edit& edit, std::string& flight, std::string& held) {
    const std::string before = flight;
    const std::size_t at = edit.offset % flight.size();
    switch (edit.kind) {
      case EditKind::kFlip: flight[at] ^= static_cast<char>(edit.value == 0 ? 0x80 : edit.value); break;
      case EditKind::kSet: flight[at] = static_cast<char>(edit.value); break;
      case EditKind::kCut: flight.resize(at); break;
      case EditKind::kInsert:
        flight.insert(edit.offset % (flight.size() + 1), 1, static_cast<char>(edit.value));
        break;
      case EditKind::kDrop: flight.clear(); break;
      case EditKind::kRepeat:
        if (flight.size() <= kMaxRepeated) flight += before;
        break;
      case EditKind::kSwapRecords: swap_records(flight, edit.offset); break;
      case EditKind::kHold:
        held += flight;
        flight.clear();
        break;
    }
    trace(tracing_, std::string("  edit: ") + kEditNames[static_cast<int>(edit.kind)] + " at " +
                        std::to_string(edit.offset) + " value " + std::to_string(edit.value));
    if (edit.kind != EditKind::kHold && flight != before) touched_ = true;
  }

  std::vector<Edit> edits_;
  bool tracing_;
  std::size_t flights_ = 0;
  std::string held_[2];
  bool touched_ = false;
};

// ---- A handshake between a real client and the server ----

struct HandshakeMode {
  std::size_t profile = 0;
  std::shared_ptr<SSL_SESSION> resume;  // the client offers it
  bool after_handshake = false;         // key update or renegotiation
};

// OpenSSL's own settings for what TlsSession leaves open.
void configure_client(TlsPeer& client, const Profile& profile, const std::shared_ptr<SSL_SESSION>& resume) {
  SSL* ssl = client.session().ssl();
  bool set = true;
  if (profile.tls12_only) set = SSL_set_max_proto_version(ssl, TLS1_2_VERSION) == 1;
  if (profile.tls13_suites != nullptr) set = set && SSL_set_ciphersuites(ssl, profile.tls13_suites) == 1;
  if (profile.tls12_ciphers != nullptr) set = set && SSL_set_cipher_list(ssl, profile.tls12_ciphers) == 1;
  // A copy: a session freed unclosed makes OpenSSL mark what it resumed as
  // spent, and the world's would stop resuming after the first such input.
  if (resume) set = set && client.session().resume(resume);
  check(set, "cannot configure the client", profile.name);
}

// TLS 1.3: the client asks for new keys both ways. TLS 1.2: it asks to
// shake hands again, which the server refuses; true then, as the refusal
// ends the connection.
bool after_handshake(TlsPeer& client) {
  SSL* ssl = client.session().ssl();
  if (SSL_version(ssl) == TLS1_3_VERSION) {
    SSL_key_update(ssl, SSL_KEY_UPDATE_REQUESTED);  // sent with the next line
    return false;
  }
  SSL_clear_options(ssl, SSL_OP_NO_RENEGOTIATION);
  if (SSL_renegotiate(ssl) != 1) return false;
  client.start_handshake();
  return true;
}

// A session's ticket outlives a fuzzing run of a few hours, not of days.
bool still_resumable(SSL_SESSION* session) {
  return SSL_SESSION_is_resumable(session) == 1 &&
         SSL_SESSION_get_time(session) + SSL_SESSION_get_timeout(session) > std::time(nullptr) + 60;
}

// Runs a conversation; returns the client's session when it went untouched
// (for the world's sessions to resume).
std::shared_ptr<SSL_SESSION> shake_hands(const Contexts& contexts, const HandshakeMode& mode,
                                         std::string_view schedule, Wire& wire) {
  const Profile& profile = kProfiles[mode.profile];
  trace(contexts.tracing, "handshake: " + std::string(profile.name) + (mode.resume ? ", resumed" : "") +
                              (mode.after_handshake ? ", then keys again" : ""));
  TlsPeer client("client", contexts.client, TlsSession::Role::kClient, Schedule(schedule), contexts.tracing,
                 "localhost");
  configure_client(client, profile, mode.resume);
  TlsPeer server("server", contexts.server, TlsSession::Role::kServer, Schedule(schedule), contexts.tracing);

  bool door_known = false;
  // The server looks at the first bytes before it makes a TLS session; a
  // connection that is not TLS leaves the TLS path here.
  const auto to_server = [&](const std::string& flight) {
    if (!door_known && !flight.empty()) {
      door_known = true;
      check_sniffing(flight);
      if (sniff_door(flight) != Door::kTls) {
        check(wire.touched(), "a real ClientHello was not taken for TLS");
        return false;
      }
    }
    server.receive(flight);
    return true;
  };

  client.start_handshake();
  std::size_t lines = 0;
  bool asked_again = false;
  bool renegotiated = false;
  bool said_goodbye = false;
  for (int round = 0; round < kMaxRounds; ++round) {
    if (client.established() && !client.shut_down() && lines < std::size(kClientLines)) {
      client.write(kClientLines[lines++]);
      if (mode.after_handshake && !asked_again) {
        asked_again = true;
        renegotiated = after_handshake(client);
      }
    }
    const std::string sent = wire.carry(client.take_output(), kToServer);
    if (!to_server(sent)) return nullptr;
    const std::string answered = wire.carry(server.take_output(), kToClient);
    client.receive(answered);
    // A client with lines to write sends another flight next round: what
    // was held back arrives after it.
    const bool more_lines = lines < std::size(kClientLines) && client.session().handshake_done() &&
                            !client.failed() && !client.shut_down();
    if (!sent.empty() || !answered.empty() || more_lines) continue;
    // Quiet: what was held back arrives late, then the client says goodbye.
    if (wire.holds_any()) {
      if (!to_server(wire.release(kToServer))) return nullptr;
      client.receive(wire.release(kToClient));
      continue;
    }
    if (said_goodbye) break;
    said_goodbye = true;
    client.shutdown();
  }

  // Nothing one end reads can be what the other did not write, whatever
  // happened to the flights in between.
  check(client.sent().starts_with(server.received()), "the server read what the client never wrote");
  check(server.sent().starts_with(client.received()), "the client read what the server never wrote");
  if (wire.touched() || renegotiated || client.refused_write() || server.refused_write()) return nullptr;

  check(client.established() && server.established(), "an untouched handshake did not finish");
  check(!client.failed(), "an untouched client failed", client.session().error());
  check(!server.failed(), "an untouched server failed", server.session().error());
  check(server.received() == client.sent(), "the server did not read all the client wrote");
  check(client.received() == server.sent(), "the client did not read all the server wrote");
  check(server.closed_by_peer(), "the server did not read the client's close_notify");
  check(client.session().peer_verified(), "the client did not verify the certificate",
        client.session().verify_error());
  check(client.session().peer_fingerprint() == contexts.fingerprint, "the client saw another certificate");
  const std::string_view version = profile.tls12_only ? "TLSv1.2 " : "TLSv1.3 ";
  check(server.session().description().starts_with(version), "another version was agreed",
        server.session().description());
  if (mode.resume && still_resumable(mode.resume.get())) {
    check(client.session().session_reused() && server.session().session_reused(),
          "an untouched resumption was a full handshake");
  }
  return client.session().session();
}

// ---- The world ----

std::shared_ptr<const TlsContext> client_trusting(const std::string& certificate_pem) {
  std::string error;
  std::shared_ptr<TlsContext> context = TlsContext::client({}, error);
  check(context != nullptr, "cannot make the client's context", error);
  BIO* bio = BIO_new_mem_buf(certificate_pem.data(), static_cast<int>(certificate_pem.size()));
  X509* certificate = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  const bool trusted =
      certificate != nullptr && X509_STORE_add_cert(SSL_CTX_get_cert_store(context->get()), certificate) == 1;
  X509_free(certificate);
  check(trusted, "the client cannot trust the certificate");
  return context;
}

World make_world() {
  World world;
  Contexts& contexts = world.contexts;
  const net::SelfSigned made = net::make_self_signed({"localhost", "127.0.0.1"}, 30);
  check(made.error.empty(), "cannot make a certificate", made.error);
  std::string error;
  contexts.server = TlsContext::server_from_pem(made.certificate_pem, made.key_pem, error);
  check(contexts.server != nullptr, "cannot make the server's context", error);
  contexts.client = client_trusting(made.certificate_pem);
  contexts.fingerprint = made.fingerprint;
  for (std::size_t profile = 0; profile < kProfileCount; ++profile) {
    Wire wire({}, contexts.tracing);
    HandshakeMode first;
    first.profile = profile;
    world.sessions[profile] = shake_hands(contexts, first, "\x1F\x1F\x1F\x1F", wire);
    check(world.sessions[profile] && still_resumable(world.sessions[profile].get()),
          "a first handshake left nothing to resume", kProfiles[profile].name);
  }
  // Traced from here: the inputs, not the making of the world.
  contexts.tracing = std::getenv("UVCHAT_FUZZ_TRACE") != nullptr;
  return world;
}

const World& world() {
  static const World made = make_world();
  return made;
}

// ---- The two modes ----

void run_wire(const Contexts& contexts, std::string_view schedule, std::string_view sent) {
  check_sniffing(sent);
  if (sniff_door(sent) != Door::kTls) return;
  trace(contexts.tracing, "wire: " + std::to_string(sent.size()) + " bytes");
  TlsPeer server("server", contexts.server, TlsSession::Role::kServer, Schedule(schedule), contexts.tracing);
  server.receive(sent);
  // It would take the server's random to finish one.
  check(!server.established(), "a handshake finished on bytes fixed in advance");
}

}  // namespace

void fuzz_tls(std::span<const std::uint8_t> input) {
  const World& made = world();
  ByteReader reader(input);
  const std::uint8_t mode = reader.byte();
  const std::string_view schedule = reader.bytes(Schedule::kSteps);
  if ((mode & 1) == 0) {
    run_wire(made.contexts, schedule, reader.rest());
  } else {
    HandshakeMode handshake;
    handshake.profile = (mode >> 1) % kProfileCount;
    if ((mode & 0x10) != 0) handshake.resume = made.sessions[handshake.profile];
    handshake.after_handshake = (mode & 0x20) != 0;
    Wire wire(read_edits(reader), made.contexts.tracing);
    shake_hands(made.contexts, handshake, schedule, wire);
  }
  // What a failed call left on this thread's queue is no business of the
  // next input.
  ERR_clear_error();
}

}  // namespace uvchat::fuzz

#ifdef UVCHAT_LIBFUZZER
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  uvchat::fuzz::fuzz_tls({data, size});
  return 0;
}
#endif
