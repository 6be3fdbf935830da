// The known_servers file (docs/CLIENT.md, "TLS"): its lines, the server's
// key, fingerprints as people paste them, and where the file is.
#include <catch2/catch.hpp>
#include <map>
#include <string>

#include "uvchat/client/known_servers.hpp"

using namespace uvchat::client;

namespace {

const std::string kFingerprint =
    "3A:F1:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:01:23:45:67:89:AB:CD:EF:FE:DC:BA:98:76:0C";
const std::string kOther =
    "77:02:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:01:23:45:67:89:AB:CD:EF:FE:DC:BA:98:76:9E";

const char* from(const std::map<std::string, std::string>& env, const char* name) {
  const auto found = env.find(name);
  return found == env.end() ? nullptr : found->second.c_str();
}

}  // namespace

TEST_CASE("known_servers: one entry a line, with its line number", "[client][known_servers]") {
  const std::string text = "# servers I trust\n\npi.local:8080 " + kFingerprint + "\n[::1]:8080\t" + kOther +
                           "\r\nlocalhost:9000 " + kFingerprint;  // the last line without its LF
  const std::vector<KnownServer> entries = parse_known_servers(text);
  REQUIRE(entries.size() == 3);
  CHECK(entries[0].server == "pi.local:8080");
  CHECK(entries[0].fingerprint == kFingerprint);
  CHECK(entries[0].line == 3);
  CHECK(entries[1].server == "[::1]:8080");
  CHECK(entries[1].fingerprint == kOther);
  CHECK(entries[1].line == 4);
  CHECK(entries[2].server == "localhost:9000");
  CHECK(entries[2].line == 5);
}

TEST_CASE("known_servers: a damaged line costs only its own entry", "[client][known_servers]") {
  const std::string text =
      "pi.local:8080\n"  // no fingerprint
      "pi.local " +
      kFingerprint +
      "\n"  // no port
      "pi.local:80x " +
      kFingerprint +
      "\n"                        // not a port
      "pi.local:8080 3A:F1:00\n"  // too short
      "pi.local:8080 " +
      kFingerprint +
      ":00\n"  // too long
      "pi.local:8080 " +
      kFingerprint +
      " extra\n"
      "pi.local:8080 " +
      kFingerprint + "\n";
  const std::vector<KnownServer> entries = parse_known_servers(text);
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].line == 7);
}

TEST_CASE("known_servers: a fingerprint in lower case or without colons reads as the same",
          "[client][known_servers]") {
  std::string lower;
  std::string bare;
  for (const char c : kFingerprint) {
    lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (c != ':') bare += c;
  }
  CHECK(normalize_fingerprint(lower) == kFingerprint);
  CHECK(normalize_fingerprint(bare) == kFingerprint);
  CHECK(normalize_fingerprint(kFingerprint) == kFingerprint);
  CHECK_FALSE(normalize_fingerprint(""));
  CHECK_FALSE(normalize_fingerprint("yes"));
  CHECK_FALSE(normalize_fingerprint(kFingerprint.substr(3)));
  CHECK_FALSE(normalize_fingerprint("G" + kFingerprint.substr(1)));

  const std::vector<KnownServer> entries = parse_known_servers("pi.local:8080 " + lower + "\n");
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].fingerprint == kFingerprint);
}

TEST_CASE("known_servers: the line stored is read back as the same entry", "[client][known_servers]") {
  const std::string line = known_server_line(server_key("Pi.Local", "8080"), kFingerprint);
  CHECK(line == "pi.local:8080 " + kFingerprint + "\n");
  const std::vector<KnownServer> entries = parse_known_servers("# mine\n" + line);
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].server == "pi.local:8080");
  CHECK(entries[0].fingerprint == kFingerprint);
  CHECK(entries[0].line == 2);
}

TEST_CASE("known_servers: a server is its host in lower case and its port; IPv6 in brackets",
          "[client][known_servers]") {
  CHECK(server_key("127.0.0.1", "8080") == "127.0.0.1:8080");
  CHECK(server_key("Chat.Example.ORG", "443") == "chat.example.org:443");
  CHECK(server_key("::1", "8080") == "[::1]:8080");
  CHECK(server_key("fe80::1", "9") == "[fe80::1]:9");
}

TEST_CASE("known_servers: the file is in XDG_DATA_HOME, else in ~/.local/share", "[client][known_servers]") {
  using Env = std::map<std::string, std::string>;
  static Env env;
  const auto lookup = [](const char* name) { return from(env, name); };
  env = {{"XDG_DATA_HOME", "/data"}, {"HOME", "/home/alice"}};
  CHECK(known_servers_path(lookup) == "/data/uvchat/known_servers");
  env = {{"HOME", "/home/alice"}};
  CHECK(known_servers_path(lookup) == "/home/alice/.local/share/uvchat/known_servers");
  // An empty or relative XDG_DATA_HOME is ignored, as the specification says.
  env = {{"XDG_DATA_HOME", ""}, {"HOME", "/home/alice"}};
  CHECK(known_servers_path(lookup) == "/home/alice/.local/share/uvchat/known_servers");
  env = {{"XDG_DATA_HOME", "data"}, {"HOME", "/home/alice"}};
  CHECK(known_servers_path(lookup) == "/home/alice/.local/share/uvchat/known_servers");
  env = {};
  CHECK_FALSE(known_servers_path(lookup));
}
