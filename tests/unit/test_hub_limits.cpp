// The hub's limits for strangers (PROTOCOL.md section 6): connections and
// registrations per address, and the idle and register timeouts.
#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <vector>

#include "uvchat/chat/hub.hpp"
#include "uvchat/door/native.hpp"
#include "uvchat/protocol/parser.hpp"

using namespace uvchat;
using chat::Monotonic;
using chat::SessionId;
using std::chrono::seconds;

namespace {

// A hub driven directly: sessions connect from addresses, lines go in,
// and what each session was sent (and whether it was closed) comes out.
class LimitsFixture {
 public:
  explicit LimitsFixture(chat::HubConfig config) : hub_(config) {}

  void connect(SessionId id, const std::string& ip, Monotonic now = Monotonic{0}) {
    hub_.connect(id, ip + ":1000", ip, now, effects_);
    collect();
  }
  void send(SessionId id, const std::string& line, Monotonic now = Monotonic{0}) {
    hub_.note_activity(id, now);
    hub_.handle(id, protocol::parse_line(line), chat::TimePoint{}, effects_);
    collect();
  }
  void tick(Monotonic now) {
    hub_.tick(now, effects_);
    collect();
  }
  void disconnect(SessionId id) {
    hub_.disconnect(id, effects_);
    collect();
  }
  void shutdown() {
    hub_.shutdown(effects_);
    collect();
  }
  void password_hashed(SessionId id, const std::string& name) {
    hub_.on_password_hashed(id, name, "$argon2id$fake", chat::TimePoint{}, effects_);
    collect();
  }

  // Everything sent to `id` since last asked, and "<closed>" for a close.
  std::vector<std::string> take(SessionId id) { return std::exchange(lines_[id], {}); }

 private:
  void collect() {
    for (const chat::Effect& effect : effects_) {
      if (effect.kind == chat::EffectKind::kSend) {
        std::string line = *native_.render(effect.event);
        line.pop_back();
        lines_[effect.session].push_back(line);
      } else if (effect.kind == chat::EffectKind::kClose) {
        lines_[effect.session].push_back("<closed>");
      }
    }
    effects_.clear();
  }

  chat::Hub hub_;
  door::NativeCodec native_{protocol::LineEnding::kLf, /*utc=*/true};
  chat::Effects effects_;
  std::map<SessionId, std::vector<std::string>> lines_;
};

using Lines = std::vector<std::string>;

chat::HubConfig config_with(void (*set)(chat::HubConfig&)) {
  chat::HubConfig config;
  config.max_per_ip = 0;
  config.max_registrations_per_minute = 0;
  config.register_timeout = seconds(0);
  set(config);
  return config;
}

}  // namespace

TEST_CASE("Connections past max_per_ip from one address are refused", "[hub][limits]") {
  LimitsFixture hub(config_with([](chat::HubConfig& c) { c.max_per_ip = 2; }));
  hub.connect(1, "10.0.0.1");
  hub.connect(2, "10.0.0.1");
  hub.connect(3, "10.0.0.1");
  CHECK(hub.take(3) == Lines{"server:error server-full too many connections from your address", "<closed>"});
  hub.connect(4, "10.0.0.2");
  CHECK(hub.take(4).empty());

  hub.disconnect(1);
  hub.connect(5, "10.0.0.1");
  CHECK(hub.take(5).empty());
}

TEST_CASE("Registrations past the limit in a minute are rate-limited", "[hub][limits]") {
  LimitsFixture hub(config_with([](chat::HubConfig& c) { c.max_registrations_per_minute = 2; }));
  hub.connect(1, "10.0.0.1");
  hub.connect(2, "10.0.0.1");
  hub.send(1, "server:register alice", Monotonic{1000});
  hub.send(2, "server:register alice", Monotonic{2000});  // refused, but counted
  CHECK(hub.take(2) == Lines{"server:error name-taken alice"});

  hub.send(2, "server:register bob", Monotonic{3000});
  CHECK(hub.take(2) ==
        Lines{"server:error rate-limited too many registrations from your address, wait a minute"});

  // Another address has its own count; a minute later this one may again.
  hub.connect(3, "10.0.0.2");
  hub.send(3, "server:register carol", Monotonic{3000});
  CHECK(hub.take(3).front() == "server:welcome carol");
  hub.send(2, "server:register bob", Monotonic{62'000});
  CHECK(hub.take(2).front() == "server:welcome bob");
}

TEST_CASE("A connection that does not register in time is closed", "[hub][limits]") {
  LimitsFixture hub(config_with([](chat::HubConfig& c) { c.register_timeout = seconds(30); }));
  hub.connect(1, "10.0.0.1", Monotonic{0});
  hub.connect(2, "10.0.0.1", Monotonic{0});
  hub.send(2, "server:register bob", Monotonic{1000});
  hub.take(2);
  hub.send(1, "server:ping", Monotonic{20'000});  // activity is not registration
  hub.take(1);

  hub.tick(Monotonic{29'999});
  CHECK(hub.take(1).empty());
  hub.tick(Monotonic{30'000});
  CHECK(hub.take(1) == Lines{"server:error idle-timeout not registered within 30 s", "<closed>"});
  CHECK(hub.take(2).empty());
  hub.tick(Monotonic{31'000});
  CHECK(hub.take(1).empty());  // told once
}

TEST_CASE("A connection silent past the idle timeout is closed; any line keeps it", "[hub][limits]") {
  LimitsFixture hub(config_with([](chat::HubConfig& c) { c.idle_timeout = seconds(10); }));
  hub.connect(1, "10.0.0.1", Monotonic{0});
  hub.connect(2, "10.0.0.1", Monotonic{0});
  for (int second = 5; second <= 25; second += 5) {
    hub.send(1, "server:ping", Monotonic{second * 1000});
    hub.tick(Monotonic{second * 1000 + 1});
  }
  CHECK(hub.take(1) == Lines(5, "server:pong"));
  CHECK(hub.take(2) == Lines{"server:error idle-timeout nothing received for 10 s", "<closed>"});
}

// Found by fuzz_hub: the sweep timer still ticks during the shutdown grace.
TEST_CASE("No timeout fires once the server is shutting down", "[hub][limits][shutdown]") {
  LimitsFixture hub(config_with([](chat::HubConfig& c) {
    c.register_timeout = seconds(30);
    c.idle_timeout = seconds(10);
  }));
  hub.connect(1, "10.0.0.1", Monotonic{0});
  hub.connect(2, "10.0.0.2", Monotonic{0});
  hub.send(2, "server:register bob", Monotonic{0});
  hub.take(2);

  hub.shutdown();
  CHECK(hub.take(1) == Lines{"server:shutdown", "<closed>"});
  CHECK(hub.take(2) == Lines{"server:shutdown", "<closed>"});
  hub.tick(Monotonic{60'000});
  CHECK(hub.take(1).empty());
  CHECK(hub.take(2).empty());
}

// Found by fuzz_hub: the hash of a new password came back for a session
// that had meanwhile been closed for silence, and it was welcomed.
TEST_CASE("A session that times out while its password is hashed is not welcomed", "[hub][limits]") {
  LimitsFixture hub(config_with([](chat::HubConfig& c) { c.idle_timeout = seconds(10); }));
  hub.connect(1, "10.0.0.1", Monotonic{0});
  hub.send(1, "server:register bo secret1", Monotonic{0});
  CHECK(hub.take(1).empty());
  hub.tick(Monotonic{10'000});
  CHECK(hub.take(1) == Lines{"server:error idle-timeout nothing received for 10 s", "<closed>"});

  hub.password_hashed(1, "bo");
  CHECK(hub.take(1).empty());
  hub.disconnect(1);
  hub.connect(2, "10.0.0.2", Monotonic{11'000});
  hub.send(2, "server:register bo", Monotonic{11'000});
  // bo never registered: nothing can be queued, so no store round trip.
  CHECK(hub.take(2) == Lines{"server:welcome bo", "server:queued-messages 0"});
}
