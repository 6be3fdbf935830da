// docs/CLIENT.md, "TLS": the real uvchat ($UVCHAT) with --tls against the
// real uvchatd serving a certificate each test makes. At a pseudo-terminal
// the first connection to a self-signed server asks and stores the answer,
// the next does not ask, and a changed certificate is refused; a pipe never
// asks; --tls-ca trusts its file alone. XDG_DATA_HOME points into the
// test's own directory, so known_servers is the test's.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <csignal>
#include <optional>
#include <string>
#include <vector>

#include "harness.hpp"
#include "harness_tls.hpp"
#include "pty.hpp"
#include "screen.hpp"

using namespace uvchat::test;

namespace {

constexpr std::string_view kQuestion = "trust this server? (yes/no)";
constexpr std::string_view kChanged = "WARNING: THE SERVER'S CERTIFICATE HAS CHANGED!";

// The client's home: no configuration file, and known_servers under
// XDG_DATA_HOME, in a directory of the test's.
class TlsHome {
 public:
  std::vector<std::string> env() const {
    return {"HOME=" + dir_.path(), "XDG_CONFIG_HOME=" + config(), "XDG_DATA_HOME=" + data()};
  }
  std::string config() const { return dir_.file("config"); }
  std::string data() const { return dir_.file("data"); }
  std::string known_servers() const { return data() + "/uvchat/known_servers"; }

 private:
  TempDir dir_;
};

std::string server_key(const TestServer& server) { return "127.0.0.1:" + std::to_string(server.port()); }

std::vector<std::string> client_command(const TestServer& server, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {uvchat_path(), "--host", "127.0.0.1", "--port",
                                   std::to_string(server.port())};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

std::string cursor_line(const Screen& screen) { return screen.line(screen.cursor_row()); }

bool asks_to_trust(const Screen& screen) { return cursor_line(screen).starts_with(kQuestion); }

void wait_for_question(PtyProcess& client) {
  client.wait_for(asks_to_trust, kStartTimeout,
                  "the question '" + std::string(kQuestion) + "' on the cursor's row");
}

// "connected to 127.0.0.1:PORT as NAME over TLS", then the prompt.
void wait_until_connected(PtyProcess& client, const TestServer& server, const std::string& name) {
  client.wait_for_text("connected to " + server_key(server) + " as " + name + " over TLS", kStartTimeout);
  client.wait_for([](const Screen& screen) { return cursor_line(screen).starts_with("(no target)>"); },
                  kLineTimeout, "the prompt '(no target)> '");
}

// The fingerprint is shown in two rows of 16 bytes.
bool shows_fingerprint(const Screen& screen, const std::string& fingerprint) {
  return screen.contains(fingerprint.substr(0, 47)) && screen.contains(fingerprint.substr(48));
}

// The server has registered no one called `name`.
void expect_never_registered(const TestServer& server, const std::string& name) {
  INFO("server log:\n" << server.log());
  CHECK(server.log().find("registered as " + name) == std::string::npos);
}

// A client refused as `name` left no trace: no known_servers stored,
// nothing for bob, and no one of that name registered.
void expect_no_trace(const TlsHome& home, LinePeer& bob, const TestServer& server, const std::string& name) {
  CHECK_FALSE(read_file_bytes(home.known_servers()));
  bob.expect_quiet();
  expect_never_registered(server, name);
}

unsigned file_mode(const std::string& path) {
  struct stat status {};
  REQUIRE(::stat(path.c_str(), &status) == 0);
  return status.st_mode & 07777;
}

}  // namespace

TEST_CASE("client tls: the first connection asks, yes stores the fingerprint, the second does not ask",
          "[client][tls]") {
  TlsServer tls;
  const TestServer& server = tls.server;
  RegisteredClient bob(server, "bob");
  const TlsHome home;
  {
    PtyProcess alice(client_command(server, {"--tls", "--name", "alice"}), {.env = home.env()});
    wait_for_question(alice);
    const Screen screen = alice.screen();
    INFO(alice.describe());
    CHECK(screen.contains("The server " + server_key(server) + " is new to uvchat"));
    CHECK(screen.contains("self-signed certificate"));
    CHECK(shows_fingerprint(screen, tls.files.fingerprint));
    CHECK(screen.contains("    " + home.known_servers()));
    // Nothing of alice's went to the server while she reads.
    bob.expect_quiet();
    expect_never_registered(server, "alice");

    alice.type("yes\r");
    wait_until_connected(alice, server, "alice");
    bob.expect("server:online alice");
    CHECK(alice.screen().contains("stored: uvchat will not ask about this server again"));
    alice.type("/quit\r");
    CHECK(alice.wait_for_exit().describe() == "exited with 0");
    bob.expect("server:offline alice");
  }
  CHECK(read_file_bytes(home.known_servers()) == server_key(server) + " " + tls.files.fingerprint + "\n");
  CHECK(file_mode(home.known_servers()) == 0600);
  CHECK(file_mode(home.data() + "/uvchat") == 0700);

  PtyProcess again(client_command(server, {"--tls", "--name", "alice"}), {.env = home.env()});
  wait_until_connected(again, server, "alice");
  bob.expect("server:online alice");
  INFO(again.describe());
  CHECK_FALSE(again.screen().contains(std::string(kQuestion)));
  CHECK_FALSE(again.screen().contains("new to uvchat"));
  // The file was read, not written again.
  CHECK(read_file_bytes(home.known_servers()) == server_key(server) + " " + tls.files.fingerprint + "\n");

  // A pipe trusts what the terminal stored.
  const RunResult pipe = run_command_with_input(client_command(server, {"--tls", "--name", "bot"}),
                                                "bob: over tls\n", home.env());
  INFO("uvchat's stderr: " << pipe.err);
  CHECK(pipe.status.describe() == "exited with 0");
  bob.expect("server:online bot");
  bob.expect_chat("bot: over tls");
}

TEST_CASE("client tls: a server that gives up waiting for the answer is connected to again after yes",
          "[client][tls]") {
  TlsServer tls({.args = {"--register-timeout", "1"}});
  const TestServer& server = tls.server;
  const TlsHome home;
  PtyProcess alice(client_command(server, {"--tls", "--name", "alice"}), {.env = home.env()});
  wait_for_question(alice);
  // The person reads for longer than the server waits for a name.
  REQUIRE(server.wait_for_log(" closed", Duration(5000)));
  CHECK(asks_to_trust(alice.screen()));
  alice.type("yes\r");
  wait_until_connected(alice, server, "alice");
  INFO(alice.describe());
  CHECK_FALSE(alice.screen().contains("idle"));
  CHECK(read_file_bytes(home.known_servers()) == server_key(server) + " " + tls.files.fingerprint + "\n");
}

TEST_CASE("client tls: no at the question exits 2, stores nothing and registers nobody", "[client][tls]") {
  TlsServer tls;
  RegisteredClient bob(tls.server, "bob");
  const TlsHome home;
  PtyProcess alice(client_command(tls.server, {"--tls", "--name", "alice"}), {.env = home.env()});
  wait_for_question(alice);
  alice.type("maybe\r");
  alice.wait_for_text("Please answer yes or no");
  wait_for_question(alice);
  alice.type("no\r");
  CHECK(alice.wait_for_exit().describe() == "exited with 2");
  CHECK(alice.screen().contains("not trusted"));
  expect_no_trace(home, bob, tls.server, "alice");
}

TEST_CASE("client tls: a pasted fingerprint that is not the server's is refused, its own is a yes",
          "[client][tls]") {
  TlsServer tls;
  const TlsHome home;
  const TempDir other_dir;
  const CertificateFiles other = make_certificate(other_dir, "other");
  PtyProcess alice(client_command(tls.server, {"--tls", "--name", "alice"}), {.rows = 40, .env = home.env()});
  wait_for_question(alice);
  alice.type(other.fingerprint + "\r");
  alice.wait_for_text("NOT the fingerprint");
  wait_for_question(alice);
  alice.type(tls.files.fingerprint + "\r");
  wait_until_connected(alice, tls.server, "alice");
  CHECK(read_file_bytes(home.known_servers()) == server_key(tls.server) + " " + tls.files.fingerprint + "\n");
}

TEST_CASE("client tls: a changed certificate is refused loudly, exit 2, and nothing is sent",
          "[client][tls]") {
  TlsServer tls;
  const TestServer& server = tls.server;
  RegisteredClient bob(server, "bob");
  const TlsHome home;
  // alice trusted the server's first certificate.
  REQUIRE(::mkdir(home.data().c_str(), 0700) == 0);
  REQUIRE(::mkdir((home.data() + "/uvchat").c_str(), 0700) == 0);
  write_file_bytes(home.known_servers(),
                   "# alice's\n" + server_key(server) + " " + tls.files.fingerprint + "\n");
  RunResult run =
      run_command_with_input(client_command(server, {"--tls", "--name", "alice"}), "", home.env());
  INFO("stderr: " << run.err);
  REQUIRE(run.status.describe() == "exited with 0");
  bob.expect("server:online alice");
  bob.expect("server:offline alice");

  // Then the server got a new one: a reload, or someone in between.
  const std::string renewed = renew_certificate(tls.files);
  server.stop(SIGHUP);
  REQUIRE(server.wait_for_log("fingerprint " + renewed));

  {
    PtyProcess alice(client_command(server, {"--tls", "--name", "alice"}), {.rows = 30, .env = home.env()});
    CHECK(alice.wait_for_exit().describe() == "exited with 2");
    const Screen screen = alice.screen();
    INFO(alice.describe());
    CHECK(screen.contains(std::string(kChanged)));
    CHECK(screen.contains("man-in-the-middle"));
    CHECK(screen.contains("remove line 2 of"));
    CHECK(screen.contains("    " + home.known_servers()));
    CHECK(shows_fingerprint(screen, tls.files.fingerprint));
    CHECK(shows_fingerprint(screen, renewed));
    CHECK_FALSE(screen.contains(std::string(kQuestion)));
  }

  run =
      run_command_with_input(client_command(server, {"--tls", "--name", "alice2"}), "bob: hi\n", home.env());
  CHECK(run.status.describe() == "exited with 2");
  CHECK_THAT(run.err, Catch::Contains(std::string(kChanged)) &&
                          Catch::Contains("remove line 2 of\n    " + home.known_servers() + "\n"));
  CHECK(run.out.empty());

  bob.expect_quiet();
  expect_never_registered(server, "alice2");
  // The file is left as the person wrote it.
  CHECK(read_file_bytes(home.known_servers()) ==
        "# alice's\n" + server_key(server) + " " + tls.files.fingerprint + "\n");
}

TEST_CASE("client tls: a pipe never asks: without --tls-ca or a stored fingerprint it exits 2",
          "[client][tls]") {
  TlsServer tls;
  RegisteredClient bob(tls.server, "bob");
  const TlsHome home;
  const RunResult run =
      run_command_with_input(client_command(tls.server, {"--tls", "--name", "bot"}), "bob: hi\n", home.env());
  INFO("stderr: " << run.err);
  CHECK(run.status.describe() == "exited with 2");
  CHECK_THAT(run.err, Catch::Contains("cannot trust " + server_key(tls.server)) &&
                          Catch::Contains(home.known_servers()) && Catch::Contains(tls.files.fingerprint) &&
                          Catch::Contains("--tls-ca") && Catch::Contains("at a terminal"));
  CHECK(run.out.empty());
  expect_no_trace(home, bob, tls.server, "bot");
}

TEST_CASE("client tls: --tls-ca with the server's certificate connects without asking; another is refused",
          "[client][tls]") {
  TlsServer tls;
  RegisteredClient bob(tls.server, "bob");
  const TlsHome home;
  {
    PtyProcess alice(client_command(tls.server, {"--tls-ca", tls.files.certificate, "--name", "alice"}),
                     {.env = home.env()});
    wait_until_connected(alice, tls.server, "alice");
    bob.expect("server:online alice");
    CHECK_FALSE(alice.screen().contains(std::string(kQuestion)));
    alice.type("/quit\r");
    CHECK(alice.wait_for_exit().describe() == "exited with 0");
    bob.expect("server:offline alice");
  }
  // The name is checked too: "localhost" is in the certificate.
  RunResult run = run_command_with_input(
      {uvchat_path(), "--host", "localhost", "--port", std::to_string(tls.server.port()), "--tls-ca",
       tls.files.certificate, "--name", "bot"},
      "bob: verified\n", home.env());
  INFO("stderr: " << run.err);
  CHECK(run.status.describe() == "exited with 0");
  bob.expect("server:online bot");
  bob.expect_chat("bot: verified");
  bob.expect("server:offline bot");
  CHECK_FALSE(read_file_bytes(home.known_servers()));

  // A CA file that does not vouch for the server: no question, even at a
  // terminal, and no retrying.
  const CertificateFiles other = make_certificate(tls.dir, "other");
  PtyProcess carol(client_command(tls.server, {"--tls-ca", other.certificate, "--name", "carol"}),
                   {.env = home.env()});
  CHECK(carol.wait_for_exit().describe() == "exited with 2");
  INFO(carol.describe());
  CHECK(carol.screen().contains("its certificate is not one this file vouches for:"));
  CHECK(carol.screen().contains("    " + other.certificate));
  run = run_command_with_input(client_command(tls.server, {"--tls-ca", other.certificate, "--name", "dave"}),
                               "bob: hi\n", home.env());
  CHECK(run.status.describe() == "exited with 2");
  CHECK_THAT(run.err, Catch::Contains("vouches for"));
  bob.expect_quiet();
  expect_never_registered(tls.server, "carol");
  expect_never_registered(tls.server, "dave");
}

TEST_CASE("client tls: DMs both ways between the TLS client and nc on the same port", "[client][tls]") {
  TlsServer tls;
  NcClient bob(tls.server);
  bob.register_as("bob");
  const TlsHome home;
  PtyProcess alice(client_command(tls.server, {"--tls-ca", tls.files.certificate, "--name", "alice"}),
                   {.env = home.env()});
  wait_until_connected(alice, tls.server, "alice");
  bob.expect("server:online alice");

  alice.type("/msg bob sealed in transit\r");
  bob.expect_chat("alice: sealed in transit");
  bob.send_line("alice: read you");
  alice.wait_for_text("bob: read you");
  alice.type("/quit\r");
  CHECK(alice.wait_for_exit().describe() == "exited with 0");
  bob.expect("server:offline alice");
  INFO(tls.server.log());
  // The TLS connection was one, and alice's /quit ended it cleanly.
  CHECK(tls.server.log().find(": TLSv1.3 ") != std::string::npos);
}

TEST_CASE("client tls: --tls against a plain-text server fails to connect, status 1 in a pipe",
          "[client][tls]") {
  TestServer plain;
  const TlsHome home;
  const RunResult run = run_command_with_input(client_command(plain, {"--tls", "--name", "bot"}), "hi\n",
                                               home.env(), Duration(15000));
  INFO("stderr: " << run.err);
  CHECK(run.status.describe() == "exited with 1");
  CHECK_THAT(run.err, Catch::Contains("cannot connect to " + server_key(plain)) && Catch::Contains("TLS"));
}

TEST_CASE("client tls: tls and tls-ca in client.toml; a bad value or CA file exits 2",
          "[client][tls][config]") {
  TlsServer tls;
  RegisteredClient bob(tls.server, "bob");
  const TlsHome home;
  REQUIRE(::mkdir(home.config().c_str(), 0700) == 0);
  const std::string config_dir = home.config() + "/uvchat";
  REQUIRE(::mkdir(config_dir.c_str(), 0700) == 0);
  const std::string config = config_dir + "/client.toml";

  write_file_bytes(config, "name = \"cfgbot\"\ntls-ca = \"" + tls.files.certificate + "\"\n");
  RunResult run = run_command_with_input(client_command(tls.server, {}), "bob: from the file\n", home.env());
  INFO("stderr: " << run.err);
  CHECK(run.status.describe() == "exited with 0");
  bob.expect("server:online cfgbot");
  bob.expect_chat("cfgbot: from the file");
  bob.expect("server:offline cfgbot");

  // tls = true without a CA file: trust on first use, which a pipe cannot give.
  write_file_bytes(config, "name = \"cfgbot\"\ntls = true\n");
  run = run_command_with_input(client_command(tls.server, {}), "bob: hi\n", home.env());
  CHECK(run.status.describe() == "exited with 2");
  CHECK_THAT(run.err, Catch::Contains("cannot trust"));

  write_file_bytes(config, "tls = \"yes\"\n");
  run = run_command_with_input(client_command(tls.server, {"--name", "x"}), "", home.env());
  CHECK(run.status.describe() == "exited with 2");
  CHECK_THAT(run.err, Catch::Contains(config + ":1") && Catch::Contains("tls"));

  write_file_bytes(config, "");
  run = run_command_with_input(
      client_command(tls.server, {"--name", "x", "--tls-ca", tls.dir.file("missing.pem")}), "", home.env());
  CHECK(run.status.describe() == "exited with 2");
  CHECK_THAT(run.err, Catch::Contains(tls.dir.file("missing.pem")));
  bob.expect_quiet();
}
