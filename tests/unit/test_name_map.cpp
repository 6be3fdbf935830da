#include <catch2/catch.hpp>

#include <string>

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
  CHECK(hash("alice") != hash("alicf"));
  CHECK(hash("") == hash(""));
}
