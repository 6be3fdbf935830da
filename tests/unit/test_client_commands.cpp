// docs/CLIENT.md, "What a typed line does".
#include <catch2/catch.hpp>

#include "uvchat/client/commands.hpp"

using uvchat::client::interpret;
using uvchat::client::Typed;
using Lines = std::vector<std::string>;

TEST_CASE("Plain text goes to the current target", "[client][commands]") {
  CHECK(interpret("hello there", "bob").wire == Lines{"bob: hello there"});
  CHECK(interpret("  hi  ", "#team").wire == Lines{"#team: hi"});
  CHECK(interpret("everyone?", "*").wire == Lines{"*: everyone?"});
}

TEST_CASE("Plain text with no target says how to choose one", "[client][commands]") {
  const Typed typed = interpret("hello", "");
  CHECK(typed.wire.empty());
  REQUIRE(typed.notes.size() == 1);
  CHECK_THAT(typed.notes[0],
             Catch::Contains("/msg NAME") && Catch::Contains("/join #room") && Catch::Contains("/all"));
}

TEST_CASE("Wire syntax is sent as it is, and the target stays", "[client][commands]") {
  for (const char* line : {"bob: hi", "bob:hi", "#team: hi", "*: all", "server:who"}) {
    CAPTURE(line);
    const Typed typed = interpret(line, "carol");
    CHECK(typed.wire == Lines{line});
    CHECK_FALSE(typed.changes_target);
  }
  // Not a name before the colon: plain text.
  CHECK(interpret("well, note: this", "bob").wire == Lines{"bob: well, note: this"});
  CHECK(interpret(":-) hi", "bob").wire == Lines{"bob: :-) hi"});
}

TEST_CASE("/msg chooses a name, and sends the text if any", "[client][commands]") {
  Typed typed = interpret("/msg bob", "");
  CHECK(typed.wire.empty());
  CHECK(typed.changes_target);
  CHECK(typed.target == "bob");

  typed = interpret("/msg bob lunch at noon?", "#team");
  CHECK(typed.wire == Lines{"bob: lunch at noon?"});
  CHECK(typed.target == "bob");

  typed = interpret("/msg", "bob");
  CHECK_FALSE(typed.changes_target);
  CHECK(typed.notes == Lines{"usage: /msg NAME [text]"});
}

TEST_CASE("/join joins and chooses the room; the # may be left out", "[client][commands]") {
  for (const char* line : {"/join #team", "/join team"}) {
    const Typed typed = interpret(line, "");
    CHECK(typed.wire == Lines{"server:join #team"});
    CHECK(typed.target == "#team");
  }
  CHECK(interpret("/join", "").notes == Lines{"usage: /join #room"});
}

TEST_CASE("/leave leaves the named room or the current one", "[client][commands]") {
  Typed typed = interpret("/leave", "#team");
  CHECK(typed.wire == Lines{"server:leave #team"});
  CHECK(typed.changes_target);
  CHECK(typed.target.empty());

  typed = interpret("/leave #other", "#team");
  CHECK(typed.wire == Lines{"server:leave #other"});
  CHECK_FALSE(typed.changes_target);

  CHECK(interpret("/leave", "bob").notes == Lines{"usage: /leave #room"});
}

TEST_CASE("/all, /who, /rooms, /members", "[client][commands]") {
  const Typed all = interpret("/all", "bob");
  CHECK(all.changes_target);
  CHECK(all.target == "*");
  CHECK(interpret("/who", "").wire == Lines{"server:who"});
  CHECK(interpret("/rooms", "").wire == Lines{"server:rooms"});
  CHECK(interpret("/members", "#team").wire == Lines{"server:members #team"});
  CHECK(interpret("/members dev", "#team").wire == Lines{"server:members #dev"});
  CHECK(interpret("/members", "bob").notes == Lines{"usage: /members #room"});
}

TEST_CASE("/history of the current target or a named one, with a count", "[client][commands]") {
  CHECK(interpret("/history", "#team").wire == Lines{"server:history #team"});
  CHECK(interpret("/history 5", "bob").wire == Lines{"server:history bob 5"});
  CHECK(interpret("/history #dev", "bob").wire == Lines{"server:history #dev"});
  CHECK(interpret("/history carol 50", "bob").wire == Lines{"server:history carol 50"});
  CHECK(interpret("/history", "").notes == Lines{"usage: /history #room|NAME [N]"});
  CHECK(interpret("/history", "*").notes == Lines{"usage: /history #room|NAME [N]"});
  CHECK(interpret("/history bob many", "").notes == Lines{"usage: /history #room|NAME [N]"});
}

TEST_CASE("/quit, /help, unknown commands, // and blank lines", "[client][commands]") {
  CHECK(interpret("/quit", "bob").quit);
  CHECK(interpret("/help", "").notes == uvchat::client::help_text());
  CHECK(interpret("/frobnicate", "").notes == Lines{"unknown command /frobnicate; /help lists the commands"});
  CHECK(interpret("//shrug", "bob").wire == Lines{"bob: /shrug"});
  const Typed blank = interpret("   ", "bob");
  CHECK(blank.wire.empty());
  CHECK(blank.notes.empty());
  CHECK_FALSE(blank.quit);
}
