#include "soak_large_queue.hpp"

#include <algorithm>
#include <cmath>

#include "driver.hpp"
#include "soak_dm_book.hpp"
#include "soak_queue_feed.hpp"

namespace uvchat::bench {
namespace {

constexpr std::uint64_t kShortestAbsenceMs = 8'000;
constexpr std::uint64_t kLongestAbsenceMs = 40'000;
// The first absence of a phase is shorter, so that a warm-up of 10 s has
// large-queue users read what came in it.
constexpr std::uint64_t kFirstShortestAbsenceMs = 2'000;
constexpr std::uint64_t kFirstLongestAbsenceMs = 8'000;
constexpr std::uint64_t kAbsenceLookMs = 250;  // is the queue ready yet?
// The server keeps --max-queue DMs (1000 by default) per offline user; the
// target leaves room for the users' DMs and those on their way.
constexpr std::uint64_t kSmallestQueue = 600;
constexpr std::uint64_t kLargestQueue = 900;

constexpr double kBurstBytes = 64 * 1024;
// Reading at least this fast, it joins the flood room (the flooders send it
// about 250 KB a second): lines it did not ask for then pile up behind its
// replay, and it still reads faster than they come.
constexpr std::uint64_t kRoomRate = 384 * 1024;
// In this share of its sessions its receive buffer is small (SO_RCVBUF,
// doubled by Linux), as over a thin link: the replay then waits in the
// server rather than in the kernel's buffers, and so does what comes behind
// it.
constexpr double kSmallWindowChance = 0.5;
constexpr int kSmallReceiveBuffer = 32 * 1024;
// Of its sessions, in percent: a mid-replay `server:exit`, a mid-replay
// reset (the rest read it all); stops reading mid-replay.
constexpr std::uint64_t kExitPercent = 20;
constexpr std::uint64_t kResetPercent = 20;
constexpr double kStallChance = 0.5;
constexpr std::uint64_t kShortestStallMs = 1'000;
constexpr std::uint64_t kLongestStallMs = 3'500;
// Shorter replays are read in one go.
constexpr std::uint64_t kFewestLinesForEvents = 50;
constexpr std::uint64_t kShortestStayMs = 1'000;
constexpr std::uint64_t kLongestStayMs = 4'000;

// Before a reset: the receive window is taken as shut once what has
// arrived stays the same for this many looks in a row, or after the wait.
constexpr std::uint64_t kQuietLookMs = 25;
constexpr std::uint64_t kQuietLooks = 3;
constexpr std::uint64_t kLongestQuietWaitMs = 2'500;

}  // namespace

LargeQueueUser::LargeQueueUser(SoakContext& context, std::uint32_t slot)
    : IdentityClient(context, Role::kLargeQueue, slot, context.book.large_queue_identity(slot)),
      hold_timer_(context.driver.loop()),
      quiet_timer_(context.driver.loop()) {}

void LargeQueueUser::begin_absence(bool first) {
  away_since_ms_ = now_ms();
  shortest_absence_ms_ = first ? kFirstShortestAbsenceMs : kShortestAbsenceMs;
  longest_absence_ms_ = first ? kFirstLongestAbsenceMs : kLongestAbsenceMs;
  context_.feed.away(slot_, random_between(kSmallestQueue, kLargestQueue));
}

// Back once the queue is as long as it wanted, or the absence is at its
// longest; never sooner than the shortest.
std::optional<std::uint64_t> LargeQueueUser::postpone_session() {
  if (draining()) return std::nullopt;
  const std::uint64_t away_ms = now_ms() - away_since_ms_;
  if (away_ms < shortest_absence_ms_) return shortest_absence_ms_ - away_ms;
  if (away_ms >= longest_absence_ms_ || context_.feed.queue_ready(slot_)) return std::nullopt;
  return kAbsenceLookMs;
}

int LargeQueueUser::receive_buffer() {
  small_window_ = !draining() && chance(kSmallWindowChance);
  return small_window_ ? kSmallReceiveBuffer : 0;
}

void LargeQueueUser::soak_session_began() {
  context_.feed.online(slot_);
  SoakStats& stats = context_.stats;
  ++stats.large_sessions;
  if (small_window_) ++stats.large_small_windows;
  const std::uint64_t rate = random_between(kSlowestRate, kFastestRate);
  start_pacing(rate);
  if (rate >= kRoomRate) {
    ++stats.large_in_flood_room;
    send_line("server:join " + std::string(kFloodRoom));
  }

  const std::uint64_t roll = random_between(0, 99);
  ending_ = roll < kExitPercent                   ? Ending::kExit
            : roll < kExitPercent + kResetPercent ? Ending::kReset
                                                  : Ending::kReadAll;
  ending_percent_ = random_between(10, 80);
  stalls_ = chance(kStallChance) ? random_between(1, 2) : 0;
  for (std::uint64_t& percent : stall_percent_) percent = random_between(5, 95);

  replay_total_ = 0;
  replay_read_ = 0;
  replay_bytes_ = 0;
  ending_line_ = 0;
  stall_lines_[0] = stall_lines_[1] = 0;
  replay_timed_ = false;
  resetting_ = false;
}

// The replay's line numbers (from 1) where it stops reading and where it
// leaves.
void LargeQueueUser::plan_replay(std::uint64_t queued) {
  replay_total_ = queued;
  replay_started_ms_ = now_ms();
  replay_timed_ = queued > 0;
  SoakStats& stats = context_.stats;
  stats.large_largest_queue = std::max(stats.large_largest_queue, queued);
  if (queued < kFewestLinesForEvents) return;
  for (std::uint64_t i = 0; i < stalls_; ++i) {
    stall_lines_[i] = std::max<std::uint64_t>(1, queued * stall_percent_[i] / 100);
  }
  if (ending_ != Ending::kReadAll) ending_line_ = std::max<std::uint64_t>(1, queued * ending_percent_ / 100);
}

// Every line it reads, before the inbox's verdict is known: the replay's
// lines (those after `server:queued-messages N`) are counted, and the
// reading is paced.
void LargeQueueUser::soak_line(std::string_view line) {
  const std::size_t bytes = line.size() + 1;
  if (replay_read_ < replay_total_) take_replay_line(bytes);
  pace(bytes);
}

void LargeQueueUser::take_replay_line(std::size_t bytes) {
  ++replay_read_;
  replay_bytes_ += bytes;
  if (replay_read_ == replay_total_) {
    note_replay_time();
    ++context_.stats.large_replays_read;
  }
  if (resetting_ || leaving() || hurrying_) return;
  if (replay_read_ == ending_line_) {
    end_mid_replay();
  } else if (replay_read_ == stall_lines_[0] || replay_read_ == stall_lines_[1]) {
    stall();
  }
}

void LargeQueueUser::note_replay_time() {
  if (!replay_timed_) return;
  replay_timed_ = false;
  SoakStats& stats = context_.stats;
  stats.large_replay_ms += now_ms() - replay_started_ms_;
  stats.large_replayed_bytes += replay_bytes_;
  stats.large_largest_replay = std::max(stats.large_largest_replay, replay_bytes_);
}

void LargeQueueUser::start_pacing(std::uint64_t rate) {
  hold_timer_.stop();
  holding_ = false;
  hurrying_ = false;
  rate_ = static_cast<double>(rate);
  tokens_ = kBurstBytes;
  refilled_ms_ = now_ms();
}

void LargeQueueUser::pace(std::size_t bytes) {
  if (resetting_) return;
  const std::uint64_t now = now_ms();
  tokens_ = std::min(kBurstBytes, tokens_ + rate_ * static_cast<double>(now - refilled_ms_) / 1000);
  refilled_ms_ = now;
  tokens_ -= static_cast<double>(bytes);
  if (tokens_ < 0 && !holding_) hold(static_cast<std::uint64_t>(std::ceil(-tokens_ * 1000 / rate_)));
}

void LargeQueueUser::hold(std::uint64_t ms) {
  holding_ = true;
  client().pause_reading();
  hold_timer_.start(ms, [this] { release(); });
}

// The bucket filled meanwhile (up to a burst).
void LargeQueueUser::release() {
  holding_ = false;
  hold_timer_.stop();
  if (!resetting_ && session_open()) client().resume_reading();
}

void LargeQueueUser::stall() {
  ++context_.stats.large_stalls;
  hold(random_between(kShortestStallMs, kLongestStallMs));
  tokens_ = 0;
}

void LargeQueueUser::end_mid_replay() {
  if (ending_ == Ending::kExit) {
    ++context_.stats.large_left_exit;
    leave();
  } else {
    ++context_.stats.large_left_reset;
    reset_when_quiet();
  }
}

// Reading stops; once nothing more arrives, what has arrived is read and
// the connection reset.
void LargeQueueUser::reset_when_quiet() {
  resetting_ = true;
  holding_ = false;
  hold_timer_.stop();
  client().pause_reading();
  last_unread_.reset();
  quiet_looks_ = 0;
  reset_wait_began_ms_ = now_ms();
  quiet_timer_.start(kQuietLookMs, [this] { look_for_quiet(); });
}

void LargeQueueUser::look_for_quiet() {
  const std::optional<std::size_t> unread = client().unread_in_kernel();
  quiet_looks_ = unread && unread == last_unread_ ? quiet_looks_ + 1 : 0;
  last_unread_ = unread;
  if (!unread || quiet_looks_ >= kQuietLooks || now_ms() - reset_wait_began_ms_ >= kLongestQuietWaitMs) {
    client().read_all_then_reset();
    return;
  }
  quiet_timer_.start(kQuietLookMs, [this] { look_for_quiet(); });
}

// `server:missed` is counted by IdentityClient; welcome, the join's answer
// and presence need nothing.
void LargeQueueUser::soak_event(std::string_view line, const ServerEvent& event) {
  if (event.event == "queued-messages") {
    plan_replay(parse_count(event.args).value_or(0));
  } else if (event.event == "error") {
    fail(line);
  }
}

// The queue is read: a while online, then `server:exit`.
void LargeQueueUser::soak_registered() {
  if (leaving() || resetting_) return;
  pacer_.start(random_between(kShortestStayMs, kLongestStayMs), [this] { leave(); });
}

std::uint64_t LargeQueueUser::soak_session_ended(CloseReason reason, std::string_view error) {
  hold_timer_.stop();
  quiet_timer_.stop();
  holding_ = false;
  resetting_ = false;
  note_replay_time();
  if (reason != CloseReason::kByUs && !(reason == CloseReason::kByServer && leaving())) {
    fail("cut by the server, having read " + std::to_string(replay_read_) + " of its " +
         std::to_string(replay_total_) + " queued DMs" + (error.empty() ? "" : ": " + std::string(error)));
  }
  begin_absence(/*first=*/false);
  return 0;
}

// A drain's pace may have held the reading when the session ended (over
// TLS the server's close_notify is read with the last lines, held or not):
// the hold must not outlive it, or its end would resume the reading of the
// next session's connection, which reads already.
void LargeQueueUser::drain_session_ended() {
  hold_timer_.stop();
  holding_ = false;
}

// The run is ending: it leaves, and reads the rest at its fastest pace.
// (Read at once, a replay of a few MB costs an ASan build's allocator some
// 10 MiB it keeps, which the memory check would take for growth.)
void LargeQueueUser::wind_down() {
  hurrying_ = true;
  rate_ = static_cast<double>(kFastestRate);
  if (resetting_) return;
  if (holding_) release();
  leave();
}

}  // namespace uvchat::bench
