// Password hashing: argon2id strings that verify, differ per call and never
// contain the password.
#include <sodium.h>

#include <catch2/catch.hpp>
#include <string>

#include "uvchat/store/password.hpp"

namespace uvchat::test {
namespace {

using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using store::hash_password;
using store::verify_password;

TEST_CASE("A password hash is an argon2id string with our parameters", "[password]") {
  const std::string hash = hash_password("correct horse battery staple");
  CHECK_THAT(hash, StartsWith("$argon2id$"));
  CHECK_THAT(hash, Contains("m=32768,t=2,p=1"));
}

TEST_CASE("wipe overwrites and empties a secret", "[password]") {
  std::string secret = "correct horse battery staple";
  uvchat::store::wipe(secret);
  CHECK(secret.empty());
  std::string empty;
  uvchat::store::wipe(empty);
  CHECK(empty.empty());
}

TEST_CASE("Hashing the same password twice gives different hashes", "[password]") {
  // A fresh random salt each time: equal passwords do not show in the table.
  CHECK(hash_password("hunter2") != hash_password("hunter2"));
}

TEST_CASE("A hash verifies its password and nothing else", "[password]") {
  const std::string hash = hash_password("s3cret with spaces");
  CHECK(verify_password("s3cret with spaces", hash));
  CHECK_FALSE(verify_password("s3cret with space", hash));
  CHECK_FALSE(verify_password("S3cret with spaces", hash));
  CHECK_FALSE(verify_password("", hash));
}

TEST_CASE("An empty password can be hashed and verified", "[password]") {
  const std::string hash = hash_password("");
  CHECK(verify_password("", hash));
  CHECK_FALSE(verify_password(" ", hash));
}

TEST_CASE("A hash never contains the password", "[password]") {
  const std::string password = "plaintext-canary-1234";
  const std::string hash = hash_password(password);
  CHECK(hash.find(password) == std::string::npos);
  CHECK(hash.find("canary") == std::string::npos);
}

TEST_CASE("Verifying against a malformed hash is false, not an error", "[password]") {
  CHECK_FALSE(verify_password("x", ""));
  CHECK_FALSE(verify_password("x", "x"));
  CHECK_FALSE(verify_password("x", "$argon2id$v=19$m=32768,t=2,p=1$garbage"));
  CHECK_FALSE(verify_password("x", std::string(1000, 'a')));
}

TEST_CASE("A hash made with other parameters still verifies", "[password]") {
  // Stored hashes carry their own parameters, so changing ours later keeps
  // every existing password working.
  char hash[crypto_pwhash_STRBYTES];
  REQUIRE(crypto_pwhash_str_alg(hash, "old", 3, crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN,
                                crypto_pwhash_ALG_ARGON2ID13) == 0);
  CHECK(verify_password("old", hash));
  CHECK_FALSE(verify_password("new", hash));
}

}  // namespace
}  // namespace uvchat::test
