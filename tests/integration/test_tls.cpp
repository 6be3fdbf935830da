// PROTOCOL.md 1.1 (issue 17): TLS on the same port as plain text. A TLS
// client of our own (harness_tls.hpp) and `openssl s_client` talk with
// plain clients (ours and nc); --tls-only turns plain text away from any
// address but 127.0.0.1 and ::1, and is tested from 127.0.0.2, which is
// this machine too but not one of those.
#include <openssl/ssl.h>

#include <catch2/catch.hpp>
#include <string>

#include "harness.hpp"
#include "harness_tls.hpp"

using namespace uvchat::test;

namespace {

// A client from 127.0.0.2: loopback, but "remote" to --tls-only.
constexpr const char* kOtherLoopback = "127.0.0.2";

// Verified against the server's own certificate.
TlsTestClient verified_client(const TlsServer& tls, const std::string& label) {
  return TlsTestClient(tls.server, {.label = label, .ca_file = tls.files.certificate});
}

}  // namespace

TEST_CASE("TLS: a TLS client and a plain client on one port exchange DMs, a room line and a broadcast",
          "[tls]") {
  TlsServer tls;
  TlsTestClient alice(tls.server, {.label = "alice (TLS)", .ca_file = tls.files.certificate});
  CHECK(alice.verified());
  CHECK(alice.fingerprint() == tls.files.fingerprint);
  CHECK_THAT(alice.description(), Catch::StartsWith("TLSv1.3 "));
  alice.register_as("alice");
  CHECK(tls.server.wait_for_log(connection_name(tls.server, alice.local_port()) + ": TLSv1.3 "));

  TestClient bob(tls.server, "bob (plain)");
  bob.register_as("bob");
  alice.expect("server:online bob");

  alice.send_line("bob: hi bob, over TLS");
  bob.expect_chat("alice: hi bob, over TLS");
  bob.send_line("alice: hi alice, in plain text");
  alice.expect_chat("bob: hi alice, in plain text");

  join_room(alice, "alice", "#team", "alice");
  join_room(bob, "bob", "#team", "alice bob");
  alice.expect("server:joined #team bob");
  alice.send_line("#team: from TLS");
  bob.expect_chat("#team alice: from TLS");
  bob.send_line("#team: from plain text");
  alice.expect_chat("#team bob: from plain text");

  alice.send_line("*: everyone, from TLS");
  bob.expect_chat("* alice: everyone, from TLS");
  bob.send_line("*: everyone, from plain text");
  alice.expect_chat("* bob: everyone, from plain text");

  alice.expect_quiet();
  bob.expect_quiet();
}

TEST_CASE("TLS: openssl s_client -quiet and nc talk on one port", "[tls]") {
  TlsServer tls;
  const std::unique_ptr<ProcessPeer> s_client = openssl_s_client(tls.server, tls.files.certificate);
  if (!s_client) {
    WARN("skipped: no openssl command");
    return;
  }
  // s_client sends nothing of its own: the first line is the first thing
  // it writes once its handshake (with a verified certificate, or it
  // would have stopped) is done.
  s_client->register_as("sam");
  CHECK(tls.server.wait_for_log(": TLSv1.3 "));
  NcClient nc(tls.server, {}, "nc");
  nc.register_as("nick");
  s_client->expect("server:online nick");

  s_client->send_line("nick: hello from openssl");
  nc.expect_chat("sam: hello from openssl");
  nc.send_line("sam: hello from nc");
  s_client->expect_chat("nick: hello from nc");

  join_room(*s_client, "sam", "#lab", "sam");
  join_room(nc, "nick", "#lab", "nick sam");
  s_client->expect("server:joined #lab nick");
  s_client->send_line("#lab: room line over TLS");
  nc.expect_chat("#lab sam: room line over TLS");
  nc.send_line("*: broadcast from nc");
  s_client->expect_chat("* nick: broadcast from nc");

  s_client->send_line("server:exit");
  s_client->expect("server:bye");
  nc.expect("server:offline sam");
  nc.expect("server:left #lab sam");
  nc.expect_quiet();
}

TEST_CASE("TLS: a TLS 1.2 client is served too", "[tls]") {
  TlsServer tls;
  TlsTestClient old(tls.server,
                    {.label = "TLS 1.2", .ca_file = tls.files.certificate, .max_version = TLS1_2_VERSION});
  CHECK(old.verified());
  CHECK_THAT(old.description(), Catch::StartsWith("TLSv1.2 "));
  old.register_as("old");
  RegisteredClient plain(tls.server, "plain");
  old.expect("server:online plain");
  plain.send_line("old: still fine");
  old.expect_chat("plain: still fine");
  old.send_line("plain: yes");
  plain.expect_chat("old: yes");
}

TEST_CASE("TLS: server:exit ends with bye and then close_notify", "[tls]") {
  TlsServer tls;
  TlsTestClient alice = verified_client(tls, "alice");
  alice.register_as("alice");
  alice.send_line("server:exit");
  alice.expect("server:bye");
  alice.expect_closed();
  CHECK(alice.got_close_notify());
  CHECK(alice.tls_error().empty());
}

// PROTOCOL.md 1.1: the client's close_notify is the end of its input, as a
// FIN is for plain text; answers the server owes still come, in TLS.
TEST_CASE("TLS: a client's close_notify ends its input, and what it is owed still comes", "[tls]") {
  TlsServer tls;
  register_and_exit(tls.server, "carol");
  TlsTestClient alice = verified_client(tls, "alice");
  alice.register_as("alice");
  alice.send("carol: while you were out\nserver:who\n");
  alice.send_close_notify();
  // The queued answer waits for the disk; the who comes after it.
  alice.expect("server:queued carol");
  alice.expect("server:users alice");
  alice.expect_closed();
  CHECK(alice.got_close_notify());

  TlsTestClient carol = verified_client(tls, "carol");
  carol.register_as("carol", 1);
  carol.expect_replayed("alice: while you were out");
}

TEST_CASE("TLS: --tls-only refuses plain text from 127.0.0.2, serves it from 127.0.0.1, and TLS from both",
          "[tls]") {
  TlsServer tls({.args = {"--tls-only"}});
  const int port = tls.server.port();

  TestClient remote_plain("127.0.0.1", port, "plain from 127.0.0.2", 0, kOtherLoopback);
  remote_plain.send_line("server:register mallory");
  remote_plain.expect_match("server:error tls-required .+");
  remote_plain.expect_closed();
  CHECK(tls.server.wait_for_log(connection_name(tls.server, remote_plain.local_port(), kOtherLoopback) +
                                " refused: plain text (--tls-only)"));

  TestClient local_plain("127.0.0.1", port, "plain from 127.0.0.1");
  local_plain.register_as("local");

  // The refused line registered nobody: the name is free.
  TlsTestClient remote_tls(
      "127.0.0.1", port,
      {.label = "TLS from 127.0.0.2", .source = kOtherLoopback, .ca_file = tls.files.certificate});
  CHECK(remote_tls.verified());
  remote_tls.register_as("mallory");
  local_plain.expect("server:online mallory");
  remote_tls.send_line("local: over TLS from afar");
  local_plain.expect_chat("mallory: over TLS from afar");
  local_plain.send_line("mallory: in plain text at home");
  remote_tls.expect_chat("local: in plain text at home");

  TlsTestClient local_tls("127.0.0.1", port,
                          {.label = "TLS from 127.0.0.1", .ca_file = tls.files.certificate});
  local_tls.register_as("home");
  local_tls.expect_quiet();
}

TEST_CASE("TLS: --tls-only serves plain text from ::1", "[tls][ipv6]") {
  if (!has_ipv6_loopback()) {
    WARN("skipped: this machine cannot bind ::1");
    return;
  }
  TlsServer tls({.args = {"--tls-only"}, .host = "::1"});
  RegisteredClient local(tls.server, "local");
  TlsTestClient secure("::1", tls.server.port(),
                       {.label = "TLS over IPv6", .ca_file = tls.files.certificate});
  CHECK(secure.verified());
  secure.register_as("secure");
  local.expect("server:online secure");
}
