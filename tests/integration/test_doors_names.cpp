// Issue 18: names and passwords hold across doors (docs/IRC.md
// "Registration", docs/CLASSIC.md 5), and the first line picks the door,
// among the doors the server opens (--doors, `doors` in the config file).
#include <catch2/catch.hpp>
#include <string>

#include "harness.hpp"
#include "harness_doors.hpp"

using namespace uvchat::test;

namespace {

ServerSetup without_presence() { return {.args = {"--presence", "off"}}; }

// `server:register NAME PASSWORD` from the native door, then offline.
void register_with_password(const TestServer& server, const std::string& name, const std::string& password) {
  TestClient client(server, "native " + name);
  client.send_line("server:register " + name + " " + password);
  client.expect_lines({"server:welcome " + name, "server:queued-messages 0"});
  client.send_line("server:exit");
  client.expect("server:bye");
  client.expect_closed();
}

}  // namespace

TEST_CASE("doors: a name with a password from the native door is refused to IRC without PASS and to classic",
          "[doors]") {
  TestServer server(without_presence());
  register_with_password(server, "alice", "pw");

  // Each refusal takes the server's delay for wrong passwords (a second),
  // and attempts at one name cannot overlap (the name is held meanwhile):
  // as few as say what must hold.
  IrcClient no_pass(server, "alice");
  no_pass.start_registration();
  CHECK(no_pass.wait_for_any({"001", "464", "433", "ERROR"}).command == "464");
  no_pass.expect_quiet();

  ClassicClient classic(server, "classic alice");
  classic.send_line("JOIN:alice");
  classic.expect("ERROR:name has a password: alice");
  classic.send_line("LIST_USERS");
  classic.expect("ERROR:not joined yet, send JOIN:name first");

  // docs/IRC.md: the refused session stays; PASS then NICK try again.
  no_pass.send_irc("PASS pw");
  no_pass.send_irc("NICK alice");
  const IrcLine welcome = no_pass.wait_for_any({"001", "464", "433", "451", "ERROR"});
  CHECK(welcome.command == "001");
  CHECK(welcome.param(0) == "alice");
  no_pass.quit();

  IrcClient with_pass(server, "alice");
  with_pass.register_irc(true, "pw");
  with_pass.expect_quiet();
}

TEST_CASE("doors: a name online in one door is taken for the others", "[doors]") {
  TestServer server(without_presence());

  SECTION("online from the native door") {
    RegisteredClient alice(server, "alice");
    IrcClient irc(server, "alice");
    irc.start_registration();
    const IrcLine taken = irc.wait_for_any({"001", "433", "464", "ERROR"});
    CHECK(taken.command == "433");
    CHECK(taken.param(1) == "alice");
    ClassicClient classic(server);
    classic.send_line("JOIN:alice");
    classic.expect("ERROR:name taken: alice");
    // The IRC client takes the nick irssi would try next.
    irc.send_irc("NICK alice_");
    CHECK(irc.wait_for_any({"001", "433", "464", "ERROR"}).command == "001");
  }
  SECTION("online from the IRC door") {
    IrcClient bob(server, "bob");
    bob.register_irc();
    TestClient native(server, "native bob");
    native.send_line("server:register bob");
    native.expect("server:error name-taken bob");
    ClassicClient classic(server);
    classic.send_line("JOIN:BOB");
    // The name as it was registered, as the native door says it.
    classic.expect("ERROR:name taken: bob");
  }
  SECTION("online from the classic door") {
    ClassicClient carol(server);
    carol.join("carol");
    TestClient native(server, "native carol");
    native.send_line("server:register Carol");
    native.expect("server:error name-taken carol");
    IrcClient irc(server, "carol");
    irc.start_registration(false);
    const IrcLine taken = irc.wait_for_any({"001", "433", "464", "ERROR"});
    CHECK(taken.command == "433");
  }
}

TEST_CASE("doors: a name with a password from IRC (PASS) is refused to the other doors without it",
          "[doors]") {
  TestServer server(without_presence());
  {
    IrcClient eve(server, "eve");
    eve.register_irc(true, "secret");
    eve.quit();
  }
  // One refusal a door: each takes the server's delay (a second).
  TestClient native(server, "native eve");
  native.send_line("server:register eve");
  native.expect("server:error wrong-password eve");
  ClassicClient classic(server);
  classic.send_line("JOIN:eve");
  classic.expect("ERROR:name has a password: eve");

  native.send_line("server:register eve secret");
  native.expect_lines({"server:welcome eve", "server:queued-messages 0"});
}

// ------------------------------------------------------------------ sniffing

TEST_CASE("doors: the first line picks the door, and the door stays", "[doors]") {
  TestServer server(without_presence());

  SECTION("IRC: NICK, USER, CAP or PASS, in any case") {
    for (const char* first : {"nick sniffed", "USER sniffed 0 * :x", "cap ls 302", "PASS whatever"}) {
      IrcClient irc(server, "sniffed");
      irc.send_irc(first);
      // Whatever it was answered (CAP LS is), the PING is answered by a
      // PONG, and every line ends with CRLF: the native door would say
      // server:error with LF alone.
      irc.send_irc("PING sniff");
      const IrcLine pong = irc.wait_for_command("PONG");
      CHECK(pong.params.back() == "sniff");
    }
  }
  SECTION("classic: its words in capitals") {
    ClassicClient classic(server);
    classic.send_line("LIST_USERS");
    classic.expect("ERROR:not joined yet, send JOIN:name first");
    classic.join("carol");
    // server: lines are not the classic door's once it is picked.
    classic.send_line("server:ping");
    CHECK(classic.read_line().starts_with("ERROR:unknown command: server"));
  }
  SECTION("native: anything else, `join:` in lower case included") {
    TestClient native(server, "native");
    native.send_line("join: hi");
    native.expect("server:error not-registered register first: server:register NAME");
    native.register_as("dan");
    // NICK is not IRC's once the native door is picked.
    native.send_line("NICK dan");
    CHECK(native.read_line().starts_with("server:error unknown-command"));
  }
}

TEST_CASE("doors: --doors native closes the IRC and classic doors", "[doors]") {
  TestServer server({.args = {"--presence", "off", "--doors", "native"}});
  TestClient irc_line(server, "NICK on a native-only server");
  irc_line.send_line("NICK x");
  irc_line.expect("server:error not-registered register first: server:register NAME");
  irc_line.register_as("x");
  TestClient classic_line(server, "JOIN: on a native-only server");
  classic_line.send_line("JOIN:y");
  classic_line.expect("server:error not-registered register first: server:register NAME");
}

TEST_CASE("doors: doors = [\"native\", \"classic\"] in the config file opens classic but not IRC",
          "[doors]") {
  TempDir dir;
  const std::string path = dir.file("uvchatd.toml");
  write_file_bytes(path, "doors = [\"native\", \"classic\"]\npresence = \"off\"\n");
  TestServer server({.args = {"--config", path}});

  ClassicClient classic(server);
  classic.join("carol");
  TestClient irc_line(server, "NICK without the IRC door");
  irc_line.send_line("NICK x");
  irc_line.expect("server:error not-registered register first: server:register NAME");
}

TEST_CASE("doors: a door that does not exist is a bad option", "[doors]") {
  const RunResult run = run_uvchatd({"--config", "none", "--check-config", "--doors", "native,gopher"});
  CHECK(run.status.describe() == "exited with 2");
  CHECK(run.err.find("gopher") != std::string::npos);
}
