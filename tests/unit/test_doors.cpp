// Which door a first line opens, and the native codec's round trip.
#include <catch2/catch.hpp>

#include "uvchat/protocol/door.hpp"

namespace {

using uvchat::protocol::Door;
using uvchat::protocol::door_of_line;

TEST_CASE("door_of_line: IRC's first commands, in any case", "[door]") {
  CHECK(door_of_line("NICK alice") == Door::kIrc);
  CHECK(door_of_line("USER alice 0 * :Alice") == Door::kIrc);
  CHECK(door_of_line("CAP LS 302") == Door::kIrc);
  CHECK(door_of_line("PASS secret") == Door::kIrc);
  CHECK(door_of_line("nick alice") == Door::kIrc);
  CHECK(door_of_line("CAP") == Door::kIrc);
}

TEST_CASE("door_of_line: the classic dialect's words, in capitals", "[door]") {
  CHECK(door_of_line("JOIN:alice") == Door::kClassic);
  CHECK(door_of_line("MESSAGE:hello") == Door::kClassic);
  CHECK(door_of_line("PRIVATE:bob:hi") == Door::kClassic);
  CHECK(door_of_line("JOIN_ROOM:team") == Door::kClassic);
  CHECK(door_of_line("LIST_USERS") == Door::kClassic);
  CHECK(door_of_line("QUIT") == Door::kClassic);
  CHECK(door_of_line("QUIT  ") == Door::kClassic);
}

TEST_CASE("door_of_line: everything else is the native protocol", "[door]") {
  CHECK(door_of_line("server:register alice") == Door::kNative);
  CHECK(door_of_line("join: hi") == Door::kNative);  // a DM to a user called join
  CHECK(door_of_line("NICKNAME alice") == Door::kNative);
  CHECK(door_of_line("QUITTER") == Door::kNative);
  CHECK(door_of_line("LIST_USERS:hi") == Door::kNative);
  CHECK(door_of_line("") == Door::kNative);
  CHECK(door_of_line(" NICK alice") == Door::kNative);
}

}  // namespace
