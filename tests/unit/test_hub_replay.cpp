// The hub's outbox (issue 16): the offline queue replayed a page at a time
// as the client takes it, answers that go out in pages, and the bound on
// what waits behind them (overflow: DMs spill to the store, other lines
// are counted for server:missed, the session's input is paused).
#include <algorithm>
#include <catch2/catch.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "hub_fixture.hpp"
#include "uvchat/chat/hub.hpp"

namespace uvchat::test {
namespace {

using chat::HubConfig;

HubConfig pages_of(std::size_t messages, std::size_t bytes = 256 * 1024, std::size_t max_waiting = 1 << 20) {
  HubConfig config;
  config.page_messages = messages;
  config.page_bytes = bytes;
  config.max_waiting = max_waiting;
  config.history_on_join = 0;
  return config;
}

std::string queued(int n) { return "[2023-11-14 22:13:20] someone: queued " + std::to_string(n); }

Lines queued_lines(int from, int to) {
  Lines lines;
  for (int n = from; n <= to; ++n) lines.push_back(queued(n));
  return lines;
}

bool logged_text(const HubFixture& server, std::string_view words) {
  return std::any_of(server.logs().begin(), server.logs().end(),
                     [&](const LogLine& line) { return line.text.find(words) != std::string::npos; });
}

Lines concat(Lines a, const Lines& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// bob registers on a new session whose client takes nothing until told.
SessionId register_bob(HubFixture& server) {
  server.hold_output();
  const SessionId bob = server.new_session();
  server.send(bob, "server:register bob");
  return bob;
}

TEST_CASE("Replay: a queue longer than a page goes a page at a time, each read once the last has left",
          "[hub][replay]") {
  HubFixture server(pages_of(2));
  server.load_user("bob", {}, 5);
  const SessionId bob = register_bob(server);

  CHECK(server.lines(bob) == concat({"server:welcome bob", "server:queued-messages 5"}, queued_lines(1, 2)));
  CHECK(server.store_requests<chat::FetchQueued>().size() == 1);
  CHECK(server.watching_output(bob));

  server.forget();
  server.drain_output(bob);
  CHECK(server.lines(bob) == queued_lines(3, 4));
  const auto second = server.store_requests<chat::FetchQueued>();
  REQUIRE(second.size() == 1);
  CHECK(second[0].after == 2);
  CHECK(second[0].up_to == 5);
  CHECK_FALSE(second[0].count_total);

  server.drain_output(bob);
  CHECK(server.lines(bob) == queued_lines(5, 5));
  // The last page ends the replay: nothing more is asked of the store.
  server.forget();
  server.drain_output(bob);
  CHECK(server.store_requests<chat::FetchQueued>().empty());
  CHECK(server.hub().queued_count("bob") == 0);
}

TEST_CASE("Replay: a client that takes nothing is sent nothing more, however long the queue",
          "[hub][replay]") {
  HubFixture server(pages_of(3));
  server.load_user("bob", {}, 1000);
  const SessionId bob = register_bob(server);
  CHECK(server.lines(bob).size() == 2 + 3);
  server.forget();
  server.tick();
  server.tick();
  CHECK(server.nothing_sent());
  CHECK(server.store_requests<chat::FetchQueued>().empty());
}

TEST_CASE("Replay: a page holds at most page_bytes of text, and at least one DM", "[hub][replay]") {
  // "queued N" is 8 bytes: a page of 20 bytes holds three. The lines go
  // out 20 bytes at a time too: one at a time, as each is longer.
  HubFixture server(pages_of(256, 20));
  server.load_user("bob", {}, 7);
  const SessionId bob = register_bob(server);
  Lines all = server.lines(bob);
  for (int round = 0; round < 20 && server.watching_output(bob); ++round) {
    server.drain_output(bob);
    const Lines more = server.lines(bob);
    CHECK(more.size() <= 1);
    all.insert(all.end(), more.begin(), more.end());
  }
  CHECK(all == concat({"server:welcome bob", "server:queued-messages 7"}, queued_lines(1, 7)));
  const auto fetches = server.store_requests<chat::FetchQueued>();
  REQUIRE(fetches.size() == 3);
  CHECK(fetches[1].after == 3);
  CHECK(fetches[2].after == 6);
}

TEST_CASE("Replay: a live DM during the replay comes after its last line, once", "[hub][replay]") {
  HubFixture server(pages_of(2));
  server.load_user("bob", {}, 4);
  const SessionId alice = server.sign_in("alice");
  const SessionId bob = register_bob(server);
  server.send(alice, "bob: live one");
  server.drain_output(bob);
  server.send(alice, "bob: live two");
  server.drain_output(bob);
  server.drain_output(bob);
  CHECK(server.lines(bob) == concat(concat({"server:welcome bob", "server:queued-messages 4"}, queued_lines(1, 4)),
                                    {"[22:13:20] alice: live one", "[22:13:20] alice: live two"}));
  server.forget();
  server.drain_output(bob);
  CHECK(server.nothing_sent());
  // A DM after the replay goes straight out.
  server.send(alice, "bob: after");
  CHECK(server.lines(bob) == Lines{"[22:13:20] alice: after"});
}

TEST_CASE("Replay: the DMs it replays are those there when it began; later ones are not read twice",
          "[hub][replay]") {
  HubFixture server(pages_of(1));
  server.load_user("bob", {}, 2);
  const SessionId alice = server.sign_in("alice");
  const SessionId bob = register_bob(server);
  server.send(alice, "bob: live");
  const auto fetches = server.store_requests<chat::FetchQueued>();
  REQUIRE(!fetches.empty());
  const MessageId up_to = fetches.front().up_to;
  CHECK(up_to == 2);
  server.drain_output(bob);
  server.drain_output(bob);
  for (const auto& fetch : server.store_requests<chat::FetchQueued>()) CHECK(fetch.up_to == up_to);
  CHECK(server.lines(bob) == concat(concat({"server:welcome bob", "server:queued-messages 2"}, queued_lines(1, 2)),
                                    {"[22:13:20] alice: live"}));
}

TEST_CASE("Replay: exit during a replay gets the whole queue, then bye", "[hub][replay]") {
  HubFixture server(pages_of(2));
  server.load_user("bob", {}, 3);
  const SessionId bob = register_bob(server);
  server.send(bob, "server:exit");
  server.drain_output(bob);
  server.drain_output(bob);
  CHECK(server.lines(bob) ==
        concat(concat({"server:welcome bob", "server:queued-messages 3"}, queued_lines(1, 3)), {"server:bye", kClosed}));
}

TEST_CASE("Replay: a session that goes mid-replay leaves the rest queued", "[hub][replay]") {
  HubFixture server(pages_of(2));
  server.load_user("bob", {}, 5);
  const SessionId first = register_bob(server);
  server.disconnect(first);
  server.forget();
  const SessionId second = register_bob(server);
  CHECK(server.lines(second) == concat({"server:welcome bob", "server:queued-messages 3"}, queued_lines(3, 4)));
}

TEST_CASE("Replay: a page that cannot be read mid-replay is tried five more times, then the session ends",
          "[hub][replay]") {
  HubFixture server(pages_of(2));
  server.load_user("bob", {}, 5);
  const SessionId bob = register_bob(server);
  server.forget();
  server.hold_store_results();
  server.drain_output(bob);
  server.fail_store_result();
  CHECK(server.lines(bob).empty());
  for (int attempt = 0; attempt < 4; ++attempt) {
    server.tick();
    server.fail_store_result();
  }
  // The fifth retry is read: the replay goes on.
  server.tick();
  server.release_store_result();
  CHECK(server.lines(bob) == queued_lines(3, 4));
  server.drain_output(bob);
  for (int attempt = 0; attempt < 6; ++attempt) {
    server.fail_store_result();
    server.tick();
  }
  CHECK(server.lines(bob) ==
        Lines{"server:error unavailable could not read your queued messages; they stay queued", kClosed});
  CHECK_FALSE(server.store().delivered(5));
}

TEST_CASE("Replay: a history answer goes out a page at a time", "[hub][replay][history]") {
  HubFixture server(pages_of(256, 60));
  const SessionId alice = server.sign_in("alice");
  const SessionId bob = server.sign_in("bob");
  server.send(alice, "server:join #r");
  server.send(bob, "server:join #r");
  for (int n = 1; n <= 5; ++n) server.send(alice, "#r: line " + std::to_string(n));
  server.forget();
  server.hold_output();
  server.send(bob, "server:history #r 5");
  const Lines first = server.lines(bob);
  CHECK(first.size() < 6);
  CHECK(first.front() == "server:history #r 5");
  Lines all = first;
  for (int round = 0; round < 6 && server.watching_output(bob); ++round) {
    server.drain_output(bob);
    const Lines more = server.lines(bob);
    all.insert(all.end(), more.begin(), more.end());
  }
  REQUIRE(all.size() == 6);
  CHECK(all.back() == "[2023-11-14 22:13:20] #r alice: line 5");
  // Lines behind the answer wait for it.
  server.send(bob, "server:ping");
  CHECK(server.lines(bob) == Lines{"server:pong"});
}

TEST_CASE("Overflow: past max_waiting, DMs wait in the store and come after what waited, once, in order",
          "[hub][replay][overflow]") {
  // Each live line "[22:13:20] alice: dm N\n" is 24 bytes: three fit in 80.
  HubFixture server(pages_of(2, 256 * 1024, 80));
  server.load_user("bob", {}, 5);
  const SessionId alice = server.sign_in("alice");
  const SessionId bob = register_bob(server);
  server.forget();
  for (int n = 1; n <= 7; ++n) server.send(alice, "bob: dm " + std::to_string(n));
  CHECK(server.nothing_sent());
  CHECK(logged_text(server, "DMs to it wait in the store"));
  Lines all;
  for (int round = 0; round < 10 && server.watching_output(bob); ++round) {
    server.drain_output(bob);
    const Lines more = server.lines(bob);
    all.insert(all.end(), more.begin(), more.end());
  }
  Lines expected = queued_lines(3, 5);
  for (int n = 1; n <= 7; ++n) expected.push_back("[22:13:20] alice: dm " + std::to_string(n));
  CHECK(all == expected);
  // Caught up: the next DM goes straight out, and nothing was missed.
  server.send(alice, "bob: straight");
  CHECK(server.lines(bob) == Lines{"[22:13:20] alice: straight"});
  for (const auto& [id, message] : server.store().messages()) CHECK(server.store().delivered(id));
}

TEST_CASE("Overflow: lines bob did not ask for are dropped and counted; his own answers kept, input paused",
          "[hub][replay][overflow]") {
  HubFixture server(pages_of(1, 256 * 1024, 60));
  server.load_user("bob", {}, 3);
  const SessionId alice = server.sign_in("alice");
  const SessionId carol = server.sign_in("carol");
  server.send(alice, "server:join #r");
  const SessionId bob = register_bob(server);
  server.send(bob, "server:join #r");
  server.forget();
  for (int n = 1; n <= 6; ++n) server.send(alice, "#r: room " + std::to_string(n));
  server.send(carol, "*: everyone");
  server.send(bob, "server:ping");
  CHECK(server.input_paused(bob));
  server.send(bob, "server:who");  // waits unread in the socket
  CHECK(server.lines(bob).empty());
  Lines all;
  for (int round = 0; round < 10 && server.watching_output(bob); ++round) {
    server.drain_output(bob);
    const Lines more = server.lines(bob);
    all.insert(all.end(), more.begin(), more.end());
  }
  REQUIRE(all.size() >= 4);
  CHECK(all[0] == queued(2));
  CHECK(all[1] == queued(3));
  CHECK(all[2] == "server:joined #r bob");
  CHECK(all[3] == "server:members #r alice bob");
  const auto pong = std::find(all.begin(), all.end(), "server:pong");
  REQUIRE(pong != all.end());
  const auto missed = std::find_if(all.begin(), all.end(), [](const std::string& line) {
    return line.starts_with("server:missed ");
  });
  REQUIRE(missed != all.end());
  CHECK(missed > pong);
  const std::size_t room_lines = static_cast<std::size_t>(std::count_if(
      all.begin(), all.end(), [](const std::string& line) { return line.starts_with("[22:13:20] #r alice:"); }));
  const bool broadcast = std::find(all.begin(), all.end(), "[22:13:20] * carol: everyone") != all.end();
  CHECK(room_lines + (broadcast ? 1 : 0) + std::stoul(missed->substr(14)) == 7);
  CHECK(all.back() == "server:users alice bob carol");
  CHECK_FALSE(server.input_paused(bob));
}

TEST_CASE("Overflow: a session that exits mid-overflow gets its answers and bye, no missed line",
          "[hub][replay][overflow]") {
  // joined and members fit in 60 bytes; the first room line does not.
  HubFixture server(pages_of(1, 256 * 1024, 60));
  server.load_user("bob", {}, 3);
  const SessionId alice = server.sign_in("alice");
  server.send(alice, "server:join #r");
  const SessionId bob = register_bob(server);
  server.send(bob, "server:join #r");
  for (int n = 1; n <= 4; ++n) server.send(alice, "#r: room " + std::to_string(n));
  CHECK_FALSE(server.input_paused(bob));
  server.send(bob, "server:exit");
  Lines all = server.lines(bob);
  for (int round = 0; round < 10 && server.watching_output(bob); ++round) {
    server.drain_output(bob);
    const Lines more = server.lines(bob);
    all.insert(all.end(), more.begin(), more.end());
  }
  REQUIRE(all.size() >= 2);
  CHECK(all[all.size() - 2] == "server:bye");
  CHECK(all.back() == kClosed);
  for (const std::string& line : all) CHECK_FALSE(line.starts_with("server:missed"));
}

}  // namespace
}  // namespace uvchat::test
