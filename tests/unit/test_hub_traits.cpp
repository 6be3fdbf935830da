// What a door may ask of the hub beyond its events (chat::SessionTraits):
// the classic dialect shows a user their own lines, and replays the last
// lines said to everyone at registration.
#include <catch2/catch.hpp>
#include <set>
#include <string>

#include "hub_fixture.hpp"
#include "uvchat/chat/hub.hpp"

namespace uvchat::test {
namespace {

// A session with `traits`, registered as `name`; what that sent is forgotten.
SessionId sign_in_with(HubFixture& server, std::string_view name, chat::SessionTraits traits) {
  const SessionId id = server.new_session();
  server.hub().set_traits(id, traits);
  server.send(id, HubFixture::register_line(name));
  REQUIRE(!server.lines(id).empty());
  server.forget();
  return id;
}

TEST_CASE("With echo a user gets their own room and broadcast lines, not their own DMs", "[hub][traits]") {
  HubFixture server;
  const SessionId alice = sign_in_with(server, "alice", {.echo = true});
  const SessionId bob = server.sign_in("bob");
  server.send(alice, "server:join #team");
  server.send(bob, "server:join #team");
  server.forget();

  server.send(alice, "#team: hello");
  CHECK(server.lines(alice) == Lines{"[22:13:20] #team alice: hello"});
  CHECK(server.lines(bob) == Lines{"[22:13:20] #team alice: hello"});
  server.send(alice, "*: everyone");
  CHECK(server.lines(alice) == Lines{"[22:13:20] * alice: everyone"});
  CHECK(server.lines(bob) == Lines{"[22:13:20] * alice: everyone"});
  server.send(alice, "bob: psst");
  CHECK(server.lines(alice).empty());
  CHECK(server.lines(bob) == Lines{"[22:13:20] alice: psst"});

  // Without it, as before: bob does not hear himself.
  server.send(bob, "#team: hi");
  CHECK(server.lines(bob).empty());
}

TEST_CASE("The echoed line is the one event every recipient shares", "[hub][traits]") {
  HubFixture server;
  const SessionId alice = sign_in_with(server, "alice", {.echo = true});
  server.sign_in("bob");
  server.send(alice, "*: one for all");
  std::set<const chat::Event*> events;
  std::size_t sends = 0;
  for (const chat::Effect& effect : server.last_effects()) {
    if (effect.kind != chat::EffectKind::kSend) continue;
    ++sends;
    events.insert(effect.event.get());
  }
  CHECK(sends == 2);
  CHECK(events.size() == 1);
}

TEST_CASE("A lobby history replays the last lines to everyone after the offline queue", "[hub][traits]") {
  HubFixture server;
  server.load_user("carol", {}, 1);
  const SessionId alice = server.sign_in("alice");
  server.send(alice, "server:join #team");
  for (int n = 1; n <= 3; ++n) server.send(alice, "*: news " + std::to_string(n));
  server.send(alice, "#team: not for the lobby");
  server.forget();

  const SessionId carol = server.new_session();
  server.hub().set_traits(carol, {.lobby_history = 2});
  server.send(carol, "server:register carol");
  CHECK(server.lines(carol) == Lines{"server:welcome carol", "server:queued-messages 1",
                                     "[2023-11-14 22:13:20] someone: queued 1", "server:history 2",
                                     "[2023-11-14 22:13:20] * alice: news 2",
                                     "[2023-11-14 22:13:20] * alice: news 3"});
}

TEST_CASE("A lobby history with nothing said yet says nothing", "[hub][traits]") {
  HubFixture server;
  const SessionId carol = server.new_session();
  server.hub().set_traits(carol, {.lobby_history = 10});
  server.send(carol, "server:register carol");
  CHECK(server.lines(carol) == Lines{"server:welcome carol", "server:queued-messages 0"});
}

}  // namespace
}  // namespace uvchat::test
