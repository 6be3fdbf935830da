// Password hashing with argon2id. The parameters, and what they cost on a
// development machine and on a Raspberry Pi, are in docs/STORAGE.md.
#include "uvchat/store/password.hpp"

#include <sodium.h>

#include <array>
#include <cstddef>

#include "uvchat/store/store.hpp"

namespace uvchat::store {
namespace {

// libsodium's "interactive" pass count with half its 64 MiB of memory: about
// 40 ms per hash on the development machine and, by the Pi's 3-5x slower
// core, 120-200 ms there, with room for several hashes at once on a 1 GiB Pi.
// Still above OWASP's argon2id floor (19 MiB, t=2). A stored hash carries
// its own parameters, so changing these later keeps old hashes verifiable.
constexpr unsigned long long kOpsLimit = crypto_pwhash_OPSLIMIT_INTERACTIVE;
constexpr std::size_t kMemLimit = std::size_t{32} * 1024 * 1024;

static_assert(kOpsLimit >= crypto_pwhash_argon2id_OPSLIMIT_MIN);
static_assert(kMemLimit >= crypto_pwhash_argon2id_MEMLIMIT_MIN);

void ensure_sodium() {
  // sodium_init is thread-safe and may be called again; the static makes the
  // check once. It fails only when the system has no source of randomness.
  static const bool ready = sodium_init() >= 0;
  if (!ready) throw StoreError("libsodium cannot initialise (no source of randomness)");
}

}  // namespace

std::string hash_password(std::string_view password) {
  ensure_sodium();
  std::array<char, crypto_pwhash_STRBYTES> hash{};
  // The algorithm is named rather than left to crypto_pwhash_str's default,
  // so that a libsodium with another default cannot change it under us.
  if (crypto_pwhash_str_alg(hash.data(), password.data(), password.size(), kOpsLimit, kMemLimit,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    throw StoreError("hash a password: out of memory");
  }
  return hash.data();
}

bool verify_password(std::string_view password, const std::string& hash) {
  ensure_sodium();
  // Longer than any hash libsodium writes: not one of ours, and
  // crypto_pwhash_str_verify expects at most crypto_pwhash_STRBYTES.
  if (hash.size() >= crypto_pwhash_STRBYTES) return false;
  return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

void wipe(std::string& secret) {
  if (!secret.empty()) sodium_memzero(secret.data(), secret.size());
  secret.clear();
}

}  // namespace uvchat::store
