// Issue 17, the TLS options: --tls-cert, --tls-key, --tls-only (and the
// config-file keys of the same names), and --make-cert DIR.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <regex>
#include <string>
#include <vector>

#include "harness.hpp"
#include "harness_tls.hpp"

using namespace uvchat::test;

namespace {

// A uvchatd that would serve on loopback with `args`, if it started.
std::vector<std::string> serve_args(std::vector<std::string> args) {
  std::vector<std::string> all = {"--config", "none", "--host", "127.0.0.1",
                                  "--port",   "0",    "--db",   ":memory:"};
  all.insert(all.end(), args.begin(), args.end());
  return all;
}

// A file's permission bits, or -1 when it is not there.
int mode_of(const std::string& path) {
  struct stat status {};
  if (::stat(path.c_str(), &status) != 0) return -1;
  return static_cast<int>(status.st_mode & 07777);
}

// This process's umask, which the server's files get too.
mode_t current_umask() {
  const mode_t mask = ::umask(0);
  ::umask(mask);
  return mask;
}

// "AB:CD:..." from `openssl x509 -fingerprint -sha256`, or nothing when
// the command is not installed.
std::optional<std::string> openssl_fingerprint(const std::string& certificate) {
  const std::optional<std::string> openssl = find_program("openssl");
  if (!openssl) return std::nullopt;
  const RunResult run =
      run_command({*openssl, "x509", "-noout", "-fingerprint", "-sha256", "-in", certificate});
  INFO("openssl x509: " << run.err);
  REQUIRE(run.status.describe() == "exited with 0");
  // "sha256 Fingerprint=AB:CD:...\n" (the case of the first word varies).
  static const std::regex kLine(R"(^\S+ Fingerprint=([0-9A-F:]+)\n$)", std::regex::icase);
  std::smatch match;
  INFO("openssl x509 printed '" << run.out << "'");
  REQUIRE(std::regex_match(run.out, match, kLine));
  return match[1].str();
}

}  // namespace

TEST_CASE("TLS options: --tls-only or --tls-key without --tls-cert exits 2 with a message",
          "[tls][options]") {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"--tls-only"}, std::vector<std::string>{"--tls-key", "/nowhere/key.pem"}}) {
    CAPTURE(args);
    const RunResult run = run_uvchatd(serve_args(args));
    INFO("stderr: " << run.err);
    CHECK(run.status.describe() == "exited with 2");
    CHECK(run.err.find(args[0]) != std::string::npos);
    CHECK(run.err.find("--tls-cert") != std::string::npos);
    CHECK(run.err.find("listening on") == std::string::npos);
    CHECK(run.out.empty());
  }
}

TEST_CASE("TLS options: a certificate or key that does not load stops the start with exit 1 and its path",
          "[tls][options]") {
  TempDir dir;
  const CertificateFiles good = make_certificate(dir, "good");
  const CertificateFiles other = make_certificate(dir, "other");
  const std::string garbage = dir.file("garbage.pem");
  write_file_bytes(garbage, "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n");
  const std::string missing = dir.file("missing.pem");
  struct Broken {
    std::vector<std::string> args;
    std::string says;
  };
  const std::vector<Broken> cases = {
      {{"--tls-cert", missing, "--tls-key", good.key}, "cannot use certificate " + missing},
      {{"--tls-cert", garbage, "--tls-key", good.key}, "cannot use certificate " + garbage},
      {{"--tls-cert", good.certificate, "--tls-key", missing}, "cannot use key " + missing},
      {{"--tls-cert", good.certificate, "--tls-key", garbage}, "cannot use key " + garbage},
      {{"--tls-cert", good.certificate, "--tls-key", other.key}, "cannot use key " + other.key},
      // Without --tls-key the key is looked for in the certificate's file.
      {{"--tls-cert", good.certificate}, "cannot use key " + good.certificate},
  };
  for (const Broken& broken : cases) {
    CAPTURE(broken.args);
    const RunResult run = run_uvchatd(serve_args(broken.args));
    INFO("stderr: " << run.err);
    CHECK(run.status.describe() == "exited with 1");
    CHECK(run.err.find(broken.says) != std::string::npos);
    CHECK(run.err.find("listening on") == std::string::npos);
  }
}

TEST_CASE("TLS options: a certificate and key in one file are served with --tls-cert alone",
          "[tls][options]") {
  TempDir dir;
  const CertificateFiles files = make_certificate(dir);
  const std::string both = dir.file("both.pem");
  write_file_bytes(both, read_file_bytes(files.certificate).value() + read_file_bytes(files.key).value());
  TestServer server({.args = {"--tls-cert", both}});
  TlsTestClient client(server, {.label = "TLS", .ca_file = files.certificate});
  CHECK(client.fingerprint() == files.fingerprint);
  client.register_as("alice");
}

TEST_CASE(
    "TLS options: --make-cert writes a certificate and a 0600 key, prints the fingerprint, and never "
    "overwrites",
    "[tls][options]") {
  TempDir dir;
  const std::string target = dir.file("tls");
  const std::string certificate = target + "/cert.pem";
  const std::string key = target + "/key.pem";
  const RunResult made = run_uvchatd({"--make-cert", target});
  INFO("stdout: " << made.out << "stderr: " << made.err);
  REQUIRE(made.status.describe() == "exited with 0");
  const mode_t mask = current_umask();
  CHECK(mode_of(certificate) == static_cast<int>(0644 & ~mask));
  CHECK(mode_of(key) == static_cast<int>(0600 & ~mask));

  static const std::regex kFingerprint(R"(SHA-256 fingerprint: ((?:[0-9A-F]{2}:){31}[0-9A-F]{2})\n)");
  std::smatch match;
  REQUIRE(std::regex_search(made.out, match, kFingerprint));
  const std::string printed = match[1].str();
  if (const std::optional<std::string> openssl = openssl_fingerprint(certificate)) {
    CHECK(*openssl == printed);
  } else {
    WARN("no openssl command: the fingerprint is checked against the server's only");
  }

  // What it made is served, under the fingerprint it printed.
  {
    TestServer server({.args = {"--tls-cert", certificate, "--tls-key", key}});
    CHECK(server.wait_for_log("SHA-256 fingerprint " + printed));
    TlsTestClient client(server, {.label = "TLS", .ca_file = certificate});
    CHECK(client.verified());
    CHECK(client.fingerprint() == printed);
    client.register_as("alice");
  }

  const std::optional<std::string> certificate_bytes = read_file_bytes(certificate);
  const std::optional<std::string> key_bytes = read_file_bytes(key);
  const RunResult again = run_uvchatd({"--make-cert", target});
  INFO("the second time, stdout: " << again.out << "stderr: " << again.err);
  CHECK(again.status.describe() == "exited with 1");
  CHECK(again.err.find(certificate + " already exists") != std::string::npos);
  CHECK(read_file_bytes(certificate) == certificate_bytes);
  CHECK(read_file_bytes(key) == key_bytes);
  CHECK(mode_of(key) == static_cast<int>(0600 & ~mask));
}

TEST_CASE("TLS options: the config-file keys tls-cert, tls-key and tls-only work as the options do",
          "[tls][options]") {
  TempDir dir;
  const CertificateFiles files = make_certificate(dir);
  const std::string config = dir.file("uvchatd.toml");
  write_file_bytes(
      config, "tls-cert = \"" + files.certificate + "\"\ntls-key = \"" + files.key + "\"\ntls-only = true\n");
  const RunResult check = run_uvchatd({"--config", config, "--check-config"});
  INFO("--check-config: " << check.out << check.err);
  CHECK(check.status.describe() == "exited with 0");

  TestServer server({.args = {"--config", config}});
  CHECK(server.wait_for_log("SHA-256 fingerprint " + files.fingerprint));
  TestClient remote_plain("127.0.0.1", server.port(), "plain from 127.0.0.2", 0, "127.0.0.2");
  remote_plain.send_line("server:register mallory");
  remote_plain.expect_match("server:error tls-required .+");
  remote_plain.expect_closed();
  TlsTestClient remote_tls(
      "127.0.0.1", server.port(),
      {.label = "TLS from 127.0.0.2", .source = "127.0.0.2", .ca_file = files.certificate});
  CHECK(remote_tls.verified());
  remote_tls.register_as("mallory");
  RegisteredClient local_plain(server, "local");
  remote_tls.expect("server:online local");

  // tls-only without a certificate is refused in a file as on the command line.
  const std::string lonely = dir.file("lonely.toml");
  write_file_bytes(lonely, "tls-only = true\n");
  const RunResult refused = run_uvchatd({"--config", lonely, "--check-config"});
  INFO("--check-config of tls-only alone: " << refused.err);
  CHECK(refused.status.describe() == "exited with 2");
  CHECK(refused.err.find("tls-only") != std::string::npos);
  CHECK(refused.err.find(lonely) != std::string::npos);
}
