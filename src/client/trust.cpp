#include "uvchat/client/trust.hpp"

#include <cctype>
#include <utility>

namespace uvchat::client {
namespace {

constexpr std::string_view kIndent = "    ";
// "AB:" is three columns a byte; a row of 16 bytes ends without the colon.
constexpr std::size_t kRowColumns = 16 * 3;

std::string lower_trimmed(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())) != 0) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())) != 0) text.remove_suffix(1);
  std::string lower;
  for (const char c : text) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower;
}

// "(self-signed certificate)": OpenSSL's reason, for the curious and for
// a search engine.
std::string reason(const TrustCheck& check) {
  return check.identity.verify_error.empty() ? std::string() : " (" + check.identity.verify_error + ")";
}

void append_rows(std::vector<std::string>& lines, std::string_view fingerprint) {
  for (std::string& row : fingerprint_rows(fingerprint)) lines.push_back(std::move(row));
}

}  // namespace

TrustCheck check_trust(ServerIdentity identity, std::string_view ca_file,
                       const std::vector<KnownServer>& known, std::string known_servers_path) {
  TrustCheck check;
  check.ca_file = std::string(ca_file);
  check.known_servers = std::move(known_servers_path);
  check.identity = std::move(identity);
  if (check.identity.verified) {
    check.trust = Trust::kVerified;
    return check;
  }
  // Whoever names a CA file has said whom to trust: no question, no file.
  if (!check.ca_file.empty()) {
    check.trust = Trust::kRejected;
    return check;
  }
  check.trust = Trust::kUnknown;
  for (const KnownServer& entry : known) {
    if (entry.server != check.identity.server) continue;
    if (entry.fingerprint == check.identity.fingerprint) {
      check.trust = Trust::kKnown;
      check.stored = entry;
      return check;
    }
    // A person who added the new line without removing the old one has
    // said the new certificate is fine: keep looking for a match.
    if (!check.stored) check.stored = entry;
    check.trust = Trust::kChanged;
  }
  return check;
}

std::vector<std::string> fingerprint_rows(std::string_view fingerprint) {
  std::vector<std::string> rows;
  while (!fingerprint.empty()) {
    std::string_view row = fingerprint.substr(0, kRowColumns);
    fingerprint.remove_prefix(row.size());
    if (row.ends_with(':')) row.remove_suffix(1);
    rows.push_back(std::string(kIndent) + std::string(row));
  }
  return rows;
}

std::vector<std::string> first_use_explanation(const TrustCheck& check) {
  std::vector<std::string> lines = {
      "The server " + check.identity.server + " is new to uvchat, and no certificate authority",
      "vouches for its certificate" + reason(check) + ".",
      "uvchat cannot tell whether it is that server or someone in between.",
      "Its certificate's fingerprint (SHA-256) is:",
  };
  append_rows(lines, check.identity.fingerprint);
  lines.insert(lines.end(), {
                                "If the server's owner gave you its fingerprint (uvchatd --make-cert prints",
                                "it), compare the two, or paste theirs here and uvchat compares them.",
                                "Answering yes stores this one in",
                                std::string(kIndent) + check.known_servers,
                                "and you will not be asked again; another certificate will be refused.",
                            });
  return lines;
}

std::vector<std::string> changed_warning(const TrustCheck& check) {
  const std::string line = std::to_string(check.stored ? check.stored->line : 0);
  std::vector<std::string> lines = {
      "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@",
      "@    WARNING: THE SERVER'S CERTIFICATE HAS CHANGED!       @",
      "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@",
      "The certificate " + check.identity.server + " shows is not the one you trusted before.",
      "Someone may be between you and the server, reading everything (a",
      "man-in-the-middle attack), or its owner may have made a new certificate.",
      "Trusted before (known_servers, line " + line + "):",
  };
  append_rows(lines, check.stored ? check.stored->fingerprint : std::string());
  lines.push_back("Shown now:");
  append_rows(lines, check.identity.fingerprint);
  lines.push_back("uvchat did not log in: nothing of yours was sent.");
  lines.push_back("If the owner tells you the certificate changed, remove line " + line + " of");
  lines.push_back(std::string(kIndent) + check.known_servers);
  lines.push_back("and connect again.");
  return lines;
}

std::vector<std::string> rejected_explanation(const TrustCheck& check) {
  return {
      "cannot trust " + check.identity.server + ": its certificate is not one this file vouches for:",
      std::string(kIndent) + check.ca_file,
      "OpenSSL says: " + (check.identity.verify_error.empty() ? "nothing" : check.identity.verify_error) +
          "; its fingerprint (SHA-256) is",
      std::string(kIndent) + check.identity.fingerprint,
      "uvchat did not log in. (Without --tls-ca, a certificate no authority vouches",
      "for is trusted on first use.)",
  };
}

std::vector<std::string> unknown_in_pipe(const TrustCheck& check) {
  return {
      "cannot trust " + check.identity.server + ": no certificate authority vouches for its certificate" +
          reason(check) + ", and it is not in " + check.known_servers,
      "its fingerprint (SHA-256) is " + check.identity.fingerprint,
      "run uvchat --tls once at a terminal to check and store it, or give --tls-ca with the server's "
      "certificate",
  };
}

TrustAnswer read_trust_answer(std::string_view typed, std::string_view fingerprint) {
  const std::string answer = lower_trimmed(typed);
  if (answer == "yes") return TrustAnswer::kYes;
  if (answer == "no" || answer == "n") return TrustAnswer::kNo;
  // `openssl x509 -fingerprint -sha256` prints "sha256 Fingerprint=AB:...".
  const std::size_t equals = answer.rfind('=');
  const std::string_view digits =
      equals == std::string::npos ? std::string_view(answer) : std::string_view(answer).substr(equals + 1);
  if (const std::optional<std::string> pasted = normalize_fingerprint(digits)) {
    return *pasted == fingerprint ? TrustAnswer::kYes : TrustAnswer::kWrongFingerprint;
  }
  return TrustAnswer::kUnclear;
}

}  // namespace uvchat::client
