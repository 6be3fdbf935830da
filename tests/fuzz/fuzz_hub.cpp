// Fuzz target: the Hub driven by a program of random events (see
// hub_world.hpp for the world it runs in and what is checked).
//
// Input: a few bytes of configuration (presence, line ending, history on
// join, max clients, max queue, max line, per-address limits, timeouts,
// users known at start-up), then
// operations, each an opcode byte and its arguments, until the input ends.
// Lines are mostly built from templates over a tiny alphabet of names and
// rooms, so that users meet; raw bytes go through the framer as sent.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "byte_reader.hpp"
#include "fuzz_targets.hpp"
#include "hub_world.hpp"

namespace uvchat::fuzz {
namespace {

// Case variants and bad names included: "AL" is "al", "server" is reserved,
// "x!" is no name at all.
constexpr std::string_view kNames[] = {"al", "AL", "bo", "cy", "dee", "server", "x!"};
constexpr std::string_view kRooms[] = {"#r", "#R", "r", "#s", "#t.1", "#", "#x!"};
constexpr std::string_view kTexts[] = {"hi",          "hello there", " ",          "a:b",
                                       "caf\xC3\xA9", "tab\there",   "\x1B[31mred"};
// Each holds a '!', so that the world can tell one in a log line.
constexpr std::string_view kPasswords[] = {"pw!1", "PW!1", "pw!2 two"};
constexpr std::string_view kHistoryCounts[] = {"", " 1", " 2", " 0", " 600", " x"};
constexpr std::string_view kLineEnds[] = {"\n", "\r\n"};
// The same IPv6 address twice, as its hex is case-insensitive.
constexpr std::string_view kAddresses[] = {"192.0.2.1", "192.0.2.2", "2001:db8::1", "2001:DB8::1"};

constexpr chat::Presence kPresences[] = {chat::Presence::kAll, chat::Presence::kRooms, chat::Presence::kOff};
constexpr int kHistoryOnJoin[] = {0, 1, 3};
constexpr std::size_t kMaxClients[] = {0, 0, 2, 5};
constexpr std::size_t kMaxQueues[] = {1000, 0, 1, 2};
constexpr std::size_t kMaxLines[] = {4096, 16, 40};
constexpr std::size_t kMaxPerIp[] = {0, 1, 2, 16};
constexpr std::size_t kMaxRegistrations[] = {0, 1, 3, 60};
constexpr std::chrono::seconds kRegisterTimeouts[] = {std::chrono::seconds{0}, std::chrono::seconds{5},
                                                      std::chrono::seconds{30}};
// Tiny pages and bounds, so that short inputs replay in pages and overflow.
constexpr std::size_t kPageBytes[] = {256 * 1024, 1, 40};
constexpr std::size_t kPageMessages[] = {256, 1, 2};
constexpr std::size_t kMaxWaiting[] = {1024 * 1024, 1, 60, 200};
constexpr std::chrono::seconds kIdleTimeouts[] = {std::chrono::seconds{0}, std::chrono::seconds{10},
                                                  std::chrono::seconds{600}};

enum class Op {
  kConnect,
  kLine,
  kRawBytes,
  kClientCloses,
  kConnectionLost,
  kStoreResults,
  kDiskFull,
  kPasswordAnswer,
  kDeliveries,
  kAdvanceTime,
  kClockJump,
  kTick,
  kShutdown,
  kClientsRead,
};

constexpr const char* kOpNames[] = {
    "connect",       "line",      "raw bytes",       "client closes", "connection lost",
    "store results", "disk full", "password answer", "deliveries",    "advance time",
    "clock jump",    "tick",      "shutdown",        "clients read",
};

// Lines are what most programs are made of; shutdown ends the interesting
// part of one, so it is rare.
constexpr Op kOpcodes[] = {
    Op::kConnect,        Op::kConnect,      Op::kLine,           Op::kLine,     Op::kLine,
    Op::kLine,           Op::kLine,         Op::kLine,           Op::kRawBytes, Op::kClientCloses,
    Op::kConnectionLost, Op::kStoreResults, Op::kStoreResults,   Op::kDiskFull, Op::kPasswordAnswer,
    Op::kPasswordAnswer, Op::kDeliveries,   Op::kAdvanceTime,    Op::kConnect,  Op::kLine,
    Op::kLine,           Op::kStoreResults, Op::kPasswordAnswer, Op::kTick,     Op::kTick,
    Op::kClockJump,      Op::kAdvanceTime,  Op::kShutdown,       Op::kClientsRead, Op::kClientsRead,
};

WorldConfig read_config(ByteReader& input) {
  WorldConfig config;
  config.hub.presence = input.pick(kPresences);
  config.line_ending = input.flag() ? protocol::LineEnding::kCrLf : protocol::LineEnding::kLf;
  config.hub.history_on_join = input.pick(kHistoryOnJoin);
  config.hub.max_clients = input.pick(kMaxClients);
  config.hub.max_queue = input.pick(kMaxQueues);
  config.max_line = input.pick(kMaxLines);
  config.hub.max_per_ip = input.pick(kMaxPerIp);
  config.hub.max_registrations_per_minute = input.pick(kMaxRegistrations);
  config.hub.register_timeout = input.pick(kRegisterTimeouts);
  config.hub.idle_timeout = input.pick(kIdleTimeouts);
  config.hub.page_bytes = input.pick(kPageBytes);
  config.hub.page_messages = input.pick(kPageMessages);
  config.hub.max_waiting = input.pick(kMaxWaiting);
  return config;
}

// Users the store knows at start-up: one with a password, one with queued
// DMs, one plain.
void load_users(ByteReader& input, HubWorld& world) {
  const std::uint8_t known = input.byte();
  if (known & 1) world.load_user("al", "pw!1", 0);
  if (known & 2) world.load_user("bo", "", (known >> 2) & 3);
  if (known & 16) world.load_user("cy", "", 0);
}

std::string history_line(ByteReader& input) {
  const std::string_view target = input.flag() ? input.pick(kRooms) : input.pick(kNames);
  return "server:history " + std::string(target) + std::string(input.pick(kHistoryCounts));
}

std::string template_line(ByteReader& input) {
  const auto name = [&] { return std::string(input.pick(kNames)); };
  const auto room = [&] { return std::string(input.pick(kRooms)); };
  const auto text = [&] { return std::string(input.pick(kTexts)); };
  switch (input.below(14)) {
    case 0: return "server:register " + name();
    case 1: return "server:register " + name() + " " + std::string(input.pick(kPasswords));
    case 2: return name() + ": " + text();
    case 3: return room() + ": " + text();
    case 4: return "*: " + text();
    case 5: return "server:join " + room();
    case 6: return "server:leave " + room();
    case 7: return "server:members " + room();
    case 8: return history_line(input);
    case 9: return "server:who";
    case 10: return "server:rooms";
    case 11: return "server:ping";
    case 12: return "server:help";
    default: return "server:exit";
  }
}

void run_op(Op op, ByteReader& input, HubWorld& world) {
  switch (op) {
    case Op::kConnect: {
      const std::size_t slot = input.below(HubWorld::kSlots);
      world.connect(slot, input.pick(kAddresses));
      break;
    }
    case Op::kLine: {
      const std::size_t slot = input.below(HubWorld::kSlots);
      const std::string line = template_line(input);
      world.client_sends(slot, line + std::string(input.pick(kLineEnds)));
      break;
    }
    case Op::kRawBytes: {
      const std::size_t slot = input.below(HubWorld::kSlots);
      world.client_sends(slot, input.bytes(input.byte()));
      break;
    }
    case Op::kClientCloses: world.client_closes(input.below(HubWorld::kSlots)); break;
    case Op::kConnectionLost: world.connection_lost(input.below(HubWorld::kSlots)); break;
    case Op::kStoreResults: world.release_store_results(1 + input.below(4)); break;
    case Op::kDiskFull: world.set_disk_full(input.flag()); break;
    case Op::kPasswordAnswer: world.answer_password_work(input.byte(), input.byte() < 32); break;
    case Op::kDeliveries: world.report_deliveries(); break;
    case Op::kAdvanceTime: world.advance_time(std::chrono::seconds{1 + input.byte()}); break;
    case Op::kClockJump: world.jump_wall_clock(std::chrono::hours{input.byte() - 128}); break;
    case Op::kTick: world.tick(); break;
    case Op::kShutdown: world.shutdown(); break;
    case Op::kClientsRead: world.clients_read(input.flag()); break;
  }
}

}  // namespace

void fuzz_hub(std::span<const std::uint8_t> data) {
  ByteReader input(data);
  HubWorld world(read_config(input));
  load_users(input, world);
  while (!input.empty()) {
    const Op op = input.pick(kOpcodes);
    world.trace(kOpNames[static_cast<int>(op)]);
    run_op(op, input, world);
  }
  world.trace("finish");
  world.finish();
}

}  // namespace uvchat::fuzz

#ifdef UVCHAT_LIBFUZZER
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  uvchat::fuzz::fuzz_hub({data, size});
  return 0;
}
#endif
