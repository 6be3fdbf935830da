// Issue 17, certificates that reload: SIGHUP builds a new TLS context from
// the files and serves it to new connections if it loads; open sessions
// keep theirs; a certificate that does not load changes nothing, and the
// log says why.
#include <catch2/catch.hpp>
#include <csignal>
#include <string>

#include "harness.hpp"
#include "harness_tls.hpp"

using namespace uvchat::test;

namespace {

// SIGHUP, and the log line that says the reload is done with the TLS
// part: a certificate loaded (its fingerprint) or `failure`.
void reload_and_wait_for(TlsServer& tls, const std::string& line) {
  tls.server.stop(SIGHUP);
  if (!tls.server.wait_for_log(line))
    FAIL("no '" << line << "' after SIGHUP; the log:\n" << tls.server.log());
}

// Registered as `name` over TLS; the server's certificate is not checked.
class TlsUser : public TlsTestClient {
 public:
  TlsUser(const TestServer& server, const std::string& name) : TlsTestClient(server, {.label = name}) {
    register_as(name);
  }
};

// `from` and `to` DM each other, both ways.
void talk(LinePeer& from, const std::string& from_name, LinePeer& to, const std::string& to_name,
          const std::string& text) {
  from.send_line(to_name + ": " + text);
  to.expect_chat(from_name + ": " + text);
  to.send_line(from_name + ": re: " + text);
  from.expect_chat(to_name + ": re: " + text);
}

}  // namespace

TEST_CASE(
    "TLS reload: after SIGHUP a renewed certificate is served to the next connection while an open "
    "session keeps talking",
    "[tls][reload]") {
  TlsServer tls({.args = {"--presence", "off"}});
  const std::string old_fingerprint = tls.files.fingerprint;
  TlsUser before(tls.server, "before");
  CHECK(before.fingerprint() == old_fingerprint);
  RegisteredClient plain(tls.server, "plain");
  talk(before, "before", plain, "plain", "before the renewal");

  const std::string new_fingerprint = renew_certificate(tls.files);
  REQUIRE(new_fingerprint != old_fingerprint);
  // Renewed on disk, not yet reloaded: still the old one.
  TlsUser unreloaded(tls.server, "unreloaded");
  CHECK(unreloaded.fingerprint() == old_fingerprint);

  reload_and_wait_for(tls, "SHA-256 fingerprint " + new_fingerprint);
  TlsUser after(tls.server, "after");
  CHECK(after.fingerprint() == new_fingerprint);

  // The sessions made with the old certificate go on, with each other and
  // with the new one.
  talk(before, "before", plain, "plain", "after the renewal");
  talk(before, "before", after, "after", "old session to new");
  talk(unreloaded, "unreloaded", after, "after", "another old session to new");
  before.expect_quiet();
  after.expect_quiet();
  CHECK(count_of(tls.server.log(), "reload: ") == 0);
}

TEST_CASE("TLS reload: after SIGHUP a certificate that does not load changes nothing and the log says why",
          "[tls][reload]") {
  struct Breakage {
    std::string what;
    // Breaks the files of `tls`; returns what the log must say.
    std::string (*apply)(TlsServer& tls);
  };
  const Breakage breakage = GENERATE(
      Breakage{"garbage in the certificate file",
               [](TlsServer& tls) {
                 write_file_bytes(tls.files.certificate, "-----BEGIN CERTIFICATE-----\nnot base64 at all\n");
                 return "reload: cannot use certificate " + tls.files.certificate;
               }},
      Breakage{"no certificate file",
               [](TlsServer& tls) {
                 REQUIRE(std::remove(tls.files.certificate.c_str()) == 0);
                 return "reload: cannot use certificate " + tls.files.certificate;
               }},
      Breakage{"a key that is not the certificate's", [](TlsServer& tls) {
                 const CertificateFiles other = make_certificate(tls.dir, "other");
                 write_file_bytes(tls.files.key, read_file_bytes(other.key).value());
                 return "reload: cannot use key " + tls.files.key;
               }});
  INFO(breakage.what);
  TlsServer tls({.args = {"--presence", "off"}});
  TlsUser before(tls.server, "before");

  const std::string why = breakage.apply(tls);
  reload_and_wait_for(tls, why);
  CHECK(tls.server.wait_for_log("new connections get the certificate they got before"));
  TlsUser after(tls.server, "after");
  CHECK(after.fingerprint() == tls.files.fingerprint);
  talk(before, "before", after, "after", "nothing changed");

  // A good certificate later is taken as usual.
  const std::string renewed = renew_certificate(tls.files);
  reload_and_wait_for(tls, "SHA-256 fingerprint " + renewed);
  TlsUser renewed_user(tls.server, "renewed");
  CHECK(renewed_user.fingerprint() == renewed);
  talk(before, "before", renewed_user, "renewed", "and now a new one");
}

// certbot's deploy hook sends SIGHUP whatever else is in the config file:
// a config file broken meanwhile keeps its old settings, but the renewed
// certificate is served.
TEST_CASE("TLS reload: a renewed certificate is served even when the config file is broken",
          "[tls][reload]") {
  TempDir config_dir;
  const std::string config = config_dir.file("uvchatd.toml");
  write_file_bytes(config, "presence = \"off\"\n");
  TlsServer tls({.args = {"--config", config}});
  TlsUser before(tls.server, "before");

  write_file_bytes(config, "presence = \"loud\"\n");
  const std::string renewed = renew_certificate(tls.files);
  reload_and_wait_for(tls, "the configuration stays as it was");
  CHECK(tls.server.wait_for_log("SHA-256 fingerprint " + renewed));
  TlsUser after(tls.server, "after");
  CHECK(after.fingerprint() == renewed);
  // presence "off" still holds: before hears nothing of after.
  before.expect_quiet();
  talk(before, "before", after, "after", "renewed under a broken config");
}
