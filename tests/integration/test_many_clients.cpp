// Twenty clients at once: DMs around a ring, a room of twenty, a broadcast.
#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "harness.hpp"

using namespace uvchat::test;

namespace {

constexpr int kClients = 20;

std::string user_name(int index) {
  return "user" + std::string(index < 10 ? "0" : "") + std::to_string(index);
}

// "user00 user01 ... user{last}".
std::string names_up_to(int last) {
  std::string names;
  for (int i = 0; i <= last; ++i) names += (i == 0 ? "" : " ") + user_name(i);
  return names;
}

class Crowd {
 public:
  explicit Crowd(const TestServer& server) {
    for (int i = 0; i < kClients; ++i)
      clients_.push_back(std::make_unique<RegisteredClient>(server, user_name(i)));
  }

  TestClient& operator[](int index) { return *clients_.at(static_cast<std::size_t>(index)); }

 private:
  std::vector<std::unique_ptr<TestClient>> clients_;
};

}  // namespace

TEST_CASE("twenty clients: presence and DMs in a ring and a room and a broadcast", "[many]") {
  TestServer server;
  Crowd crowd(server);
  for (int i = 0; i < kClients; ++i) {
    for (int later = i + 1; later < kClients; ++later) crowd[i].expect("server:online " + user_name(later));
  }
  crowd[0].send_line("server:who");
  crowd[0].expect("server:users " + names_up_to(kClients - 1));

  for (int i = 0; i < kClients; ++i) {
    crowd[i].send_line(user_name((i + 1) % kClients) + ": hello from " + user_name(i));
  }
  for (int i = 0; i < kClients; ++i) {
    const int previous = (i + kClients - 1) % kClients;
    crowd[i].expect_chat(user_name(previous) + ": hello from " + user_name(previous));
  }

  for (int i = 0; i < kClients; ++i) {
    join_room(crowd[i], user_name(i), "#crowd", names_up_to(i));
  }
  for (int i = 0; i < kClients; ++i) {
    for (int later = i + 1; later < kClients; ++later)
      crowd[i].expect("server:joined #crowd " + user_name(later));
  }

  crowd[7].send_line("#crowd: room message");
  for (int i = 0; i < kClients; ++i) {
    if (i != 7) crowd[i].expect_chat("#crowd user07: room message");
  }
  crowd[12].send_line("*: broadcast message");
  for (int i = 0; i < kClients; ++i) {
    if (i != 12) crowd[i].expect_chat("* user12: broadcast message");
  }
  for (int i = 0; i < kClients; ++i) crowd[i].expect_quiet();
}

TEST_CASE("twenty clients: all chatting at once and every message arrives", "[many]") {
  TestServer server({.args = {"--presence", "off"}});
  Crowd crowd(server);
  constexpr int kRounds = 10;
  for (int round = 0; round < kRounds; ++round) {
    for (int i = 0; i < kClients; ++i) {
      crowd[i].send_line(user_name((i + 1) % kClients) + ": round " + std::to_string(round));
    }
  }
  for (int i = 0; i < kClients; ++i) {
    const std::string previous = user_name((i + kClients - 1) % kClients);
    for (int round = 0; round < kRounds; ++round) {
      crowd[i].expect_chat(previous + ": round " + std::to_string(round));
    }
    crowd[i].expect_quiet();
  }
}
