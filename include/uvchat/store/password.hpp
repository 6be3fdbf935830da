// Password hashing: argon2id through libsodium's crypto_pwhash_str. Slow on
// purpose, so always called off the loop thread.
#pragma once

#include <string>
#include <string_view>

namespace uvchat::store {

// A self-describing hash string (algorithm, parameters, salt, hash).
// Throws StoreError when libsodium cannot run (out of memory).
std::string hash_password(std::string_view password);
bool verify_password(std::string_view password, const std::string& hash);

// Overwrites a password in memory (in a way the compiler may not skip) and
// empties the string.
void wipe(std::string& secret);

}  // namespace uvchat::store
