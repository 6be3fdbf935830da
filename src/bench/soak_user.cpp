#include "soak_user.hpp"

#include "report.hpp"

namespace uvchat::bench {
namespace {

constexpr std::array<std::string_view, 4> kRooms = {"#soak-lobby", "#soak-r1", "#soak-r2", "#soak-r3"};
constexpr std::uint64_t kShortestPauseMs = 300;
constexpr std::uint64_t kLongestPauseMs = 1200;
constexpr std::uint64_t kShortestSessionMs = 10'000;
constexpr std::uint64_t kLongestSessionMs = 60'000;
constexpr std::uint64_t kShortestAbsenceMs = 1'000;
constexpr std::uint64_t kLongestAbsenceMs = 8'000;

}  // namespace

SoakUser::SoakUser(SoakContext& context, std::uint32_t slot)
    : IdentityClient(context, Role::kUser, slot, /*identity=*/slot) {}

void SoakUser::soak_registered() {
  leave_at_ms_ = now_ms() + random_between(kShortestSessionMs, kLongestSessionMs);
  join_rooms();
  act_later();
}

void SoakUser::join_rooms() {
  rooms_.clear();
  const std::size_t first = random_between(0, kRooms.size() - 1);
  const std::size_t count = random_between(1, 2);
  for (std::size_t i = 0; i < count; ++i) {
    rooms_.push_back(kRooms[(first + i) % kRooms.size()]);
    send_line("server:join " + std::string(rooms_.back()));
  }
}

void SoakUser::act_later() {
  pacer_.start(random_between(kShortestPauseMs, kLongestPauseMs), [this] { act(); });
}

void SoakUser::act() {
  if (now_ms() >= leave_at_ms_) {
    leave();
    return;
  }
  // Of every 100 actions: 55 DMs, 15 room lines, 3 broadcasts, 20 pings,
  // 4 history queries and 3 questions.
  const std::uint64_t roll = random_between(0, 99);
  if (roll < 55) {
    send_dm();
  } else if (roll < 70) {
    send_room_line();
  } else if (roll < 73) {
    send_broadcast();
  } else if (roll < 93) {
    send_ping();
  } else if (roll < 97) {
    ask_history();
  } else {
    ask_about_server();
  }
  act_later();
}

// The ping right after it tells whether the DM was queued, refused or
// pushed live, even when an earlier DM to the same user got no answer yet.
void SoakUser::send_dm() {
  answers_.dm_sent(context_.book.write_next(identity_, line_));
  send_line(line_);
  send_ping();
}

void SoakUser::send_room_line() {
  const std::string_view room = rooms_[random_between(0, rooms_.size() - 1)];
  send_line(std::string(room) + ": line " + std::to_string(++lines_said_) + " from " + name_);
  ++context_.stats.room_lines;
}

void SoakUser::send_broadcast() {
  send_line("*: hello everyone, " + name_ + " here");
  ++context_.stats.broadcasts;
}

void SoakUser::send_ping() {
  answers_.ping_sent(now_ms());
  send_line("server:ping");
}

void SoakUser::ask_history() {
  if (chance(0.5)) {
    send_line("server:history " + std::string(rooms_.front()) + " 20");
  } else {
    const auto other = static_cast<std::uint32_t>(random_between(0, context_.book.identities() - 1));
    send_line("server:history " + context_.book.identity_name(other) + " 20");
  }
  ++context_.stats.history_queries;
}

void SoakUser::ask_about_server() {
  constexpr std::array<std::string_view, 3> kQuestions = {"server:who", "server:rooms",
                                                          "server:members #soak-lobby"};
  send_line(kQuestions[random_between(0, kQuestions.size() - 1)]);
}

// Presence, room events and the answers to questions need nothing.
void SoakUser::soak_event(std::string_view line, const ServerEvent& event) {
  if (event.event == "queued") {
    take_answer(line, event.args, /*queued=*/true);
  } else if (event.event == "error") {
    take_error(line, event.args);
  } else if (event.event == "pong") {
    take_pong();
  } else if (event.event == "bye") {
    settle_live(answers_.take_all());
  }
}

// A DM may be refused (its recipient's queue is full); nothing else this
// user sends should be.
void SoakUser::take_error(std::string_view line, std::string_view args) {
  const std::string_view code = error_code(args);
  if (code == "queue-full" || code == "no-such-user") {
    take_answer(line, error_subject(args), /*queued=*/false);
    if (code == "no-such-user") fail(line);  // every identity was made known before the run
  } else {
    fail(line);
  }
}

void SoakUser::take_answer(std::string_view line, std::string_view recipient_name, bool queued) {
  if (!settle_answer(answers_, context_.book, recipient_name, queued)) {
    fail("an answer to no DM that waits for one: " + std::string(line));
  }
}

void SoakUser::take_pong() {
  const auto settled = answers_.take_pong();
  if (!settled) {
    fail("a pong to no ping");
    return;
  }
  const std::uint64_t waited_ms = now_ms() - settled->ping_sent_ms;
  context_.stats.ping_ms.push_back(static_cast<std::uint32_t>(waited_ms));
  if (context_.config.max_ping_ms > 0 && waited_ms > context_.config.max_ping_ms) {
    fail("waited " + std::to_string(waited_ms) + " ms for a pong");
  }
  settle_live(settled->live);
}

void SoakUser::settle_live(const std::vector<SoakDm>& dms) {
  for (const SoakDm& dm : dms) context_.book.acknowledge(dm, Acknowledgement::kLive);
}

std::uint64_t SoakUser::soak_session_ended(CloseReason reason, std::string_view error) {
  check_close(reason, error);
  if (const std::size_t unknown = answers_.forget_all(); unknown > 0) {
    fail(std::to_string(unknown) + " DMs left without an answer");
  }
  return random_between(kShortestAbsenceMs, kLongestAbsenceMs);
}

}  // namespace uvchat::bench
