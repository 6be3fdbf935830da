// Whether the client trusts the server a TLS handshake showed it
// (docs/CLIENT.md, "TLS"), and what it says about it. A certificate an
// authority vouches for is trusted; without --tls-ca, one that no authority
// vouches for (a self-signed one, say) is trusted on first use, as ssh
// trusts a host key: the person is asked once, the answer is stored in
// known_servers, and a different certificate later is refused. Pure: the
// handshake's findings and the known_servers entries in, a decision and
// words out.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "uvchat/client/known_servers.hpp"

namespace uvchat::client {

// What the handshake showed of the server.
struct ServerIdentity {
  std::string server;        // server_key(): "host:port"
  std::string fingerprint;   // its certificate's SHA-256, "AB:CD:..."
  bool verified = false;     // an authority (the system's, or --tls-ca's) vouches for it, name included
  std::string verify_error;  // why not, in OpenSSL's words ("self-signed certificate")
};

enum class Trust {
  kVerified,  // an authority vouches for it: connect
  kKnown,     // its fingerprint is stored for this server: connect
  kUnknown,   // nothing vouches for it and nothing is stored: ask (at a terminal)
  kChanged,   // another fingerprint is stored for this server: refuse
  kRejected,  // --tls-ca was given and does not vouch for it: refuse
};

struct TrustCheck {
  Trust trust = Trust::kUnknown;
  ServerIdentity identity;
  std::string ca_file;                // --tls-ca; empty: the system's store
  std::string known_servers;          // the file's path, for what is said
  std::optional<KnownServer> stored;  // kKnown: the match; kChanged: the first entry for the server
};

// `known` is every entry of the known_servers file (and any trusted in this
// run that could not be stored). A certificate an authority vouches for is
// trusted whatever is stored: a renewed Let's Encrypt certificate must not
// look like an attack.
TrustCheck check_trust(ServerIdentity identity, std::string_view ca_file,
                       const std::vector<KnownServer>& known, std::string known_servers_path);

// The fingerprint in two rows of 16 bytes each (47 columns), indented:
// a whole one (95 columns) would wrap on an 80-column terminal.
std::vector<std::string> fingerprint_rows(std::string_view fingerprint);

// kUnknown at a terminal: what the question is about; the prompt follows.
std::vector<std::string> first_use_explanation(const TrustCheck& check);
// kChanged: the loud refusal, with the line of known_servers to remove.
std::vector<std::string> changed_warning(const TrustCheck& check);
// kRejected: the certificate is not one --tls-ca vouches for.
std::vector<std::string> rejected_explanation(const TrustCheck& check);
// kUnknown in a pipe, which never asks: how to make the server trusted.
std::vector<std::string> unknown_in_pipe(const TrustCheck& check);

// What a typed answer to the question means. A pasted fingerprint is
// compared with the server's: the way to check it without reading 64 hex
// digits.
enum class TrustAnswer { kYes, kNo, kWrongFingerprint, kUnclear };
TrustAnswer read_trust_answer(std::string_view typed, std::string_view fingerprint);

}  // namespace uvchat::client
