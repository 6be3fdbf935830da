// Trusting a TLS server (docs/CLIENT.md, "TLS"): the decision, what the
// person is told, and the session's question and answers.
#include <catch2/catch.hpp>
#include <optional>
#include <string>
#include <vector>

#include "uvchat/client/session.hpp"
#include "uvchat/client/trust.hpp"

using namespace uvchat::client;
using Lines = std::vector<std::string>;
using Kind = Action::Kind;

namespace {

const std::string kFingerprint =
    "3A:F1:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:01:23:45:67:89:AB:CD:EF:FE:DC:BA:98:76:0C";
const std::string kOther =
    "77:02:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:01:23:45:67:89:AB:CD:EF:FE:DC:BA:98:76:9E";
const std::string kFile = "/home/alice/.local/share/uvchat/known_servers";

ServerIdentity self_signed(const std::string& fingerprint = kFingerprint) {
  return ServerIdentity{"pi.local:8080", fingerprint, false, "self-signed certificate"};
}

TrustCheck check(ServerIdentity identity, const std::vector<KnownServer>& known = {},
                 const std::string& ca_file = {}) {
  return check_trust(std::move(identity), ca_file, known, kFile);
}

std::string joined(const Lines& lines) {
  std::string text;
  for (const std::string& line : lines) text += line + "\n";
  return text;
}

Lines of_kind(const Actions& actions, Kind kind) {
  Lines texts;
  for (const Action& action : actions) {
    if (action.kind == kind) texts.push_back(action.text);
  }
  return texts;
}

std::optional<Action> find(const Actions& actions, Kind kind) {
  for (const Action& action : actions) {
    if (action.kind == kind) return action;
  }
  return std::nullopt;
}

SessionConfig config(bool interactive, std::string name = "alice") {
  SessionConfig made;
  made.server = "pi.local:8080";
  made.name = std::move(name);
  made.interactive = interactive;
  made.tls = true;
  made.seed = 7;
  return made;
}

// A session whose connection's handshake is done, told `trust`.
Session told(const TrustCheck& trust, Actions& out, bool interactive = true, std::string name = "alice") {
  Session session(config(interactive, std::move(name)));
  session.start();
  out = session.server_identity(trust);
  return session;
}

}  // namespace

// ------------------------------------------------------------ the decision

TEST_CASE("trust: a certificate an authority vouches for is trusted, whatever is stored", "[client][trust]") {
  ServerIdentity identity = self_signed();
  identity.verified = true;
  identity.verify_error.clear();
  CHECK(check(identity).trust == Trust::kVerified);
  // A renewed Let's Encrypt certificate is not an attack.
  CHECK(check(identity, {{"pi.local:8080", kOther, 1}}).trust == Trust::kVerified);
  CHECK(check(identity, {}, "/etc/ca.pem").trust == Trust::kVerified);
}

TEST_CASE("trust: with --tls-ca, a certificate it does not vouch for is refused, stored or not",
          "[client][trust]") {
  const TrustCheck rejected = check(self_signed(), {{"pi.local:8080", kFingerprint, 1}}, "/etc/ca.pem");
  CHECK(rejected.trust == Trust::kRejected);
  const std::string text = joined(rejected_explanation(rejected));
  CHECK_THAT(text, Catch::Contains("pi.local:8080") && Catch::Contains("/etc/ca.pem") &&
                       Catch::Contains("self-signed certificate") && Catch::Contains(kFingerprint));
}

TEST_CASE("trust: without --tls-ca a stored fingerprint is trusted, another is a change", "[client][trust]") {
  const std::vector<KnownServer> known = {
      {"other.local:8080", kOther, 1}, {"pi.local:8080", kFingerprint, 2}, {"pi.local:9090", kOther, 3}};
  const TrustCheck same = check(self_signed(), known);
  CHECK(same.trust == Trust::kKnown);
  REQUIRE(same.stored);
  CHECK(same.stored->line == 2);

  const TrustCheck changed = check(self_signed(kOther), known);
  CHECK(changed.trust == Trust::kChanged);
  REQUIRE(changed.stored);
  CHECK(changed.stored->line == 2);
  CHECK(changed.stored->fingerprint == kFingerprint);

  // Another port is another server.
  ServerIdentity elsewhere = self_signed();
  elsewhere.server = "pi.local:7000";
  CHECK(check(elsewhere, known).trust == Trust::kUnknown);
  CHECK(check(self_signed(), {}).trust == Trust::kUnknown);
}

TEST_CASE("trust: a person who added the new fingerprint beside the old one trusts it", "[client][trust]") {
  const std::vector<KnownServer> known = {{"pi.local:8080", kOther, 1}, {"pi.local:8080", kFingerprint, 4}};
  const TrustCheck both = check(self_signed(), known);
  CHECK(both.trust == Trust::kKnown);
  CHECK(both.stored->line == 4);
}

// ----------------------------------------------------------------- words

TEST_CASE("trust: the fingerprint is shown in two rows that fit 80 columns", "[client][trust]") {
  const Lines rows = fingerprint_rows(kFingerprint);
  REQUIRE(rows.size() == 2);
  CHECK(rows[0] == "    3A:F1:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD");
  CHECK(rows[1] == "    EE:FF:01:23:45:67:89:AB:CD:EF:FE:DC:BA:98:76:0C");
}

TEST_CASE("trust: the first-use question says what it is about, and where the answer goes",
          "[client][trust]") {
  const std::string text = joined(first_use_explanation(check(self_signed())));
  CHECK_THAT(text, Catch::Contains("pi.local:8080") && Catch::Contains("self-signed certificate") &&
                       Catch::Contains("3A:F1:00:11") && Catch::Contains("CD:EF:FE:DC:BA:98:76:0C") &&
                       Catch::Contains(kFile));
  // Lines fit 80 columns, but for the server's name and the file's path.
  for (std::string line : first_use_explanation(check(self_signed()))) {
    CAPTURE(line);
    if (const std::size_t at = line.find(kFile); at != std::string::npos) line.erase(at, kFile.size());
    CHECK(line.size() <= 80);
  }
}

TEST_CASE("trust: a changed certificate is refused loudly, naming the line to remove", "[client][trust]") {
  const TrustCheck changed = check(self_signed(kOther), {{"pi.local:8080", kFingerprint, 3}});
  const std::string text = joined(changed_warning(changed));
  CHECK_THAT(text, Catch::Contains("WARNING: THE SERVER'S CERTIFICATE HAS CHANGED!") &&
                       Catch::Contains("man-in-the-middle") &&
                       Catch::Contains("remove line 3 of\n    " + kFile + "\n") &&
                       Catch::Contains("3A:F1:00:11") && Catch::Contains("77:02:00:11"));
}

TEST_CASE("trust: in a pipe, an unknown server is explained with the ways to trust it", "[client][trust]") {
  const std::string text = joined(unknown_in_pipe(check(self_signed())));
  CHECK_THAT(text, Catch::Contains("pi.local:8080") && Catch::Contains(kFile) &&
                       Catch::Contains(kFingerprint) && Catch::Contains("--tls-ca") &&
                       Catch::Contains("at a terminal"));
}

TEST_CASE("trust: answers are yes in full, no, or the fingerprint pasted", "[client][trust]") {
  CHECK(read_trust_answer("yes", kFingerprint) == TrustAnswer::kYes);
  CHECK(read_trust_answer(" YES ", kFingerprint) == TrustAnswer::kYes);
  CHECK(read_trust_answer("y", kFingerprint) == TrustAnswer::kUnclear);
  CHECK(read_trust_answer("no", kFingerprint) == TrustAnswer::kNo);
  CHECK(read_trust_answer("n", kFingerprint) == TrustAnswer::kNo);
  CHECK(read_trust_answer("maybe", kFingerprint) == TrustAnswer::kUnclear);
  CHECK(read_trust_answer("", kFingerprint) == TrustAnswer::kUnclear);
  std::string lower;
  for (const char c : kFingerprint) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  CHECK(read_trust_answer(lower, kFingerprint) == TrustAnswer::kYes);
  CHECK(read_trust_answer("sha256 Fingerprint=" + kFingerprint, kFingerprint) == TrustAnswer::kYes);
  CHECK(read_trust_answer(kOther, kFingerprint) == TrustAnswer::kWrongFingerprint);
}

// --------------------------------------------------------------- session

TEST_CASE("trust: a trusted server is registered with at once", "[client][trust][session]") {
  for (const TrustCheck& trusted : {check(ServerIdentity{"pi.local:8080", kFingerprint, true, ""}),
                                    check(self_signed(), {{"pi.local:8080", kFingerprint, 1}})}) {
    Actions out;
    Session session = told(trusted, out);
    CHECK(of_kind(out, Kind::kSend) == Lines{"server:register alice"});
    CHECK(of_kind(out, Kind::kShow).empty());
    const Actions welcome = session.server_line("server:welcome alice");
    CHECK(of_kind(welcome, Kind::kShow) ==
          Lines{"connected to pi.local:8080 as alice over TLS; /help lists the commands"});
  }
}

TEST_CASE("trust: an unknown server at a terminal is asked about; yes stores it and registers",
          "[client][trust][session]") {
  Actions out;
  Session session = told(check(self_signed()), out);
  CHECK(of_kind(out, Kind::kSend).empty());
  CHECK_THAT(joined(of_kind(out, Kind::kShow)), Catch::Contains("3A:F1:00:11"));
  CHECK(session.input_mode() == InputMode::kTrust);
  CHECK(session.prompt() == "trust this server? (yes/no) ");
  // Nothing of ours goes out meanwhile, and what the server says is not shown.
  CHECK(session.server_line("server:error idle-timeout").empty());

  const Actions unclear = session.typed("sure");
  CHECK(of_kind(unclear, Kind::kShow) == Lines{"Please answer yes or no (or paste the fingerprint)."});
  CHECK(session.input_mode() == InputMode::kTrust);

  const Actions wrong = session.typed(kOther);
  CHECK_THAT(joined(of_kind(wrong, Kind::kShow)), Catch::Contains("NOT the fingerprint"));
  CHECK_FALSE(find(wrong, Kind::kTrust));
  CHECK(session.input_mode() == InputMode::kTrust);

  const Actions yes = session.typed("yes");
  CHECK(of_kind(yes, Kind::kTrust) == Lines{"pi.local:8080 " + kFingerprint + "\n"});
  CHECK(of_kind(yes, Kind::kSend) == Lines{"server:register alice"});
  CHECK(session.input_mode() == InputMode::kChat);
  // The store comes before the register line.
  CHECK(yes.front().kind == Kind::kTrust);
}

TEST_CASE("trust: yes without a name asks for the name next", "[client][trust][session]") {
  Actions out;
  Session session = told(check(self_signed()), out, true, "");
  const Actions yes = session.typed("yes");
  CHECK(find(yes, Kind::kTrust));
  CHECK(session.input_mode() == InputMode::kName);
}

TEST_CASE("trust: no exits 2, having sent and stored nothing", "[client][trust][session]") {
  Actions out;
  Session session = told(check(self_signed()), out);
  const Actions no = session.typed("no");
  CHECK_FALSE(find(no, Kind::kTrust));
  CHECK(of_kind(no, Kind::kSend).empty());
  const std::optional<Action> exit = find(no, Kind::kExit);
  REQUIRE(exit);
  CHECK(exit->status == 2);
}

TEST_CASE("trust: a connection the server closed while the person thought is made again after yes",
          "[client][trust][session]") {
  Actions out;
  Session session = told(check(self_signed()), out);
  CHECK(session.connection_lost("the server closed it").empty());
  CHECK(session.input_mode() == InputMode::kTrust);
  const Actions yes = session.typed("yes");
  CHECK(find(yes, Kind::kTrust));
  CHECK(find(yes, Kind::kConnect));
  CHECK(of_kind(yes, Kind::kSend).empty());
  // The next connection shows the certificate now stored.
  const Actions again = session.server_identity(check(self_signed(), {{"pi.local:8080", kFingerprint, 1}}));
  CHECK(of_kind(again, Kind::kSend) == Lines{"server:register alice"});
}

TEST_CASE("trust: a changed certificate exits 2 at a terminal and in a pipe, loudly, sending nothing",
          "[client][trust][session]") {
  for (const bool interactive : {true, false}) {
    CAPTURE(interactive);
    Actions out;
    Session session =
        told(check(self_signed(kOther), {{"pi.local:8080", kFingerprint, 1}}), out, interactive);
    CHECK(of_kind(out, Kind::kSend).empty());
    CHECK_THAT(joined(of_kind(out, Kind::kShow)), Catch::Contains("HAS CHANGED"));
    for (const Action& action : out) {
      if (action.kind == Kind::kShow) CHECK(action.tone == Tone::kError);
    }
    const std::optional<Action> exit = find(out, Kind::kExit);
    REQUIRE(exit);
    CHECK(exit->status == 2);
    CHECK_FALSE(find(out, Kind::kReconnectIn));
  }
}

TEST_CASE("trust: a pipe never asks: an unknown server exits 2 with the ways to trust it",
          "[client][trust][session]") {
  Actions out;
  Session session = told(check(self_signed()), out, false);
  CHECK(session.input_mode() == InputMode::kChat);
  CHECK_THAT(joined(of_kind(out, Kind::kShow)), Catch::Contains("--tls-ca"));
  const std::optional<Action> exit = find(out, Kind::kExit);
  REQUIRE(exit);
  CHECK(exit->status == 2);
  CHECK(of_kind(out, Kind::kSend).empty());
}

TEST_CASE("trust: with --tls-ca a certificate it does not vouch for exits 2, not retried",
          "[client][trust][session]") {
  for (const bool interactive : {true, false}) {
    CAPTURE(interactive);
    Actions out;
    told(check(self_signed(), {}, "/etc/ca.pem"), out, interactive);
    const std::optional<Action> exit = find(out, Kind::kExit);
    REQUIRE(exit);
    CHECK(exit->status == 2);
    CHECK_FALSE(find(out, Kind::kReconnectIn));
  }
}

TEST_CASE("trust: a pipe's lines wait for a trusted server, then go", "[client][trust][session]") {
  Session session(config(false, "bot"));
  session.start();
  CHECK(session.typed("bob: hi").empty());
  CHECK(session.end_of_input().empty());
  const Actions trusted = session.server_identity(check(self_signed(), {{"pi.local:8080", kFingerprint, 1}}));
  CHECK(of_kind(trusted, Kind::kSend) == Lines{"server:register bot"});
  const Actions welcome = session.server_line("server:welcome bot");
  CHECK(of_kind(welcome, Kind::kSend) == Lines{"bob: hi", "server:ping"});
}
