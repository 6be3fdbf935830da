#include <catch2/catch.hpp>

#include <string>
#include <utility>

#include "uvchat/chat/name_map.hpp"

using uvchat::chat::CaseInsensitiveHash;
using uvchat::chat::NameMap;

TEST_CASE("A NameMap finds a name in any case, and only that name", "[names]") {
  NameMap<int> users;
  // Enough names for long bucket chains at the default load factor.
  for (int i = 0; i < 500; ++i) users.emplace("User" + std::to_string(i), i);
  for (int i = 0; i < 500; ++i) {
    const std::string folded = "user" + std::to_string(i);
    const auto found = users.find(folded);
    REQUIRE(found != users.end());
    CHECK(found->second == i);
    CHECK(found->first == "User" + std::to_string(i));  // the name as it was first written
  }
  CHECK(users.find("user500") == users.end());
  CHECK(users.find("user") == users.end());
  CHECK_FALSE(users.emplace("USER7", 0).second);
  CHECK(users.erase("uSeR7") == 1);
  CHECK(users.find("user7") == users.end());
  CHECK(users.size() == 499);
}

TEST_CASE("CaseInsensitiveHash agrees for names equal but for case", "[names]") {
  const CaseInsensitiveHash hash;
  CHECK(hash("Alice.B-2_") == hash("aLICE.b-2_"));
  CHECK(hash("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456") == hash("abcdefghijklmnopqrstuvwxyz0123456"));
  CHECK(hash("alice") != hash("alicf"));
  CHECK(hash("alice") != hash(std::string_view("alice\0", 6)));  // the length counts
  CHECK(hash("") == hash(""));
}

TEST_CASE("CaseInsensitiveEqual folds ASCII letters only, at any offset", "[names]") {
  const uvchat::chat::CaseInsensitiveEqual equal;
  // Every byte value against every other, at each of the eight places in a
  // word and past the first word: equal exactly when ASCII folding says so.
  for (int x = 0; x < 256; ++x) {
    for (int y = 0; y < 256; ++y) {
      const auto fold = [](int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; };
      const bool expected = fold(x) == fold(y);
      // (16 bytes: two whole words; 13: a word and an overlapping last
      // word; 5: less than a word.)
      for (const auto& [size, at] : {std::pair<std::size_t, std::size_t>{16, 0}, {16, 3}, {16, 7}, {16, 8},
                                    {16, 15}, {13, 0}, {13, 5}, {13, 9}, {13, 12}, {5, 0}, {5, 4}}) {
        std::string a(size, 'k');
        std::string b(size, 'K');
        a[at] = static_cast<char>(x);
        b[at] = static_cast<char>(y);
        if (equal(a, b) != expected) {
          CAPTURE(x, y, size, at);
          FAIL("wrong answer");
        }
      }
    }
  }
  CHECK_FALSE(equal("alice", "alice "));
  CHECK(equal("", ""));
}
