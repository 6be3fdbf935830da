// A user of the soak who comes back to a large offline queue.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "soak_identity.hpp"
#include "soak_timer.hpp"

namespace uvchat::bench {

// Stays away for 8 to 40 s while the bulk senders fill its queue (QueueFeed:
// until 600 to 900 DMs of 1 to 4 KB wait for it, a few MB, or the 40 s are
// up), then registers and reads at 256 KiB to 1 MiB a second. In half of its
// sessions its receive buffer is small, as over a thin link; reading at 384
// KiB/s or more it joins the flood room, whose lines then wait behind its
// replay. In half of its sessions it stops reading once or twice
// mid-replay, for 1 to 3.5 s (less than the server's 5 s soft limit).
//
// It leaves mid-replay in two sessions out of five: with `server:exit`,
// after which it reads on at its pace to the `bye` (the server sends the
// rest first), or with a TCP reset, after reading whatever has arrived (see
// LineClient::read_all_then_reset: a DM its TCP acknowledged counts as
// delivered). Otherwise it reads the queue to its end, and then what waited
// behind it (DMs that came meanwhile, live or spilled to the store; the
// join's answer; `server:missed N` for the room lines the server dropped),
// stays 1 to 4 s and leaves with `server:exit`. It comes back after the
// next absence, and when the run stops the load it comes back once more and
// reads its queue at its fastest pace (drain_queue()).
//
// It must never be cut: any close it did not ask for, or an error, is one
// of the run's. Every DM acknowledged to it must be read exactly once over
// its sessions, and in order (the book).
class LargeQueueUser final : public IdentityClient {
 public:
  // The pace of its reading: bytes a second.
  static constexpr std::uint64_t kSlowestRate = 256 * 1024;
  static constexpr std::uint64_t kFastestRate = 1024 * 1024;

  LargeQueueUser(SoakContext& context, std::uint32_t slot);

 private:
  void soak_take_part() override { begin_absence(/*first=*/true); }
  std::optional<std::uint64_t> postpone_session() override;
  int receive_buffer() override;
  void soak_session_began() override;
  void soak_line(std::string_view line) override;
  void drain_session_began() override { start_pacing(kFastestRate); }
  void drain_line(std::string_view line) override { pace(line.size() + 1); }
  void drain_session_ended() override;
  void soak_event(std::string_view line, const ServerEvent& event) override;
  void soak_registered() override;
  std::uint64_t soak_session_ended(CloseReason reason, std::string_view error) override;
  void wind_down() override;

  enum class Ending { kReadAll, kExit, kReset };

  void begin_absence(bool first);
  void plan_replay(std::uint64_t queued);
  void take_replay_line(std::size_t bytes);
  void note_replay_time();
  void start_pacing(std::uint64_t rate);
  void pace(std::size_t bytes);
  void hold(std::uint64_t ms);
  void release();
  void stall();
  void end_mid_replay();
  void reset_when_quiet();
  void look_for_quiet();

  // The absence.
  std::uint64_t away_since_ms_ = 0;
  std::uint64_t shortest_absence_ms_ = 0;
  std::uint64_t longest_absence_ms_ = 0;

  // The session's plan.
  bool small_window_ = false;
  double rate_ = 0;  // bytes a second
  Ending ending_ = Ending::kReadAll;
  std::uint64_t ending_percent_ = 0;  // of the replay read when it leaves
  std::uint64_t stalls_ = 0;
  std::uint64_t stall_percent_[2] = {0, 0};

  // Reading at its pace: a token bucket of bytes, a hold when it runs dry.
  double tokens_ = 0;
  std::uint64_t refilled_ms_ = 0;
  bool holding_ = false;
  bool hurrying_ = false;  // the run is ending: no more stops, the fastest pace
  Timer hold_timer_;

  // The replay.
  std::uint64_t replay_total_ = 0;  // from `server:queued-messages N`
  std::uint64_t replay_read_ = 0;
  std::uint64_t replay_bytes_ = 0;
  std::uint64_t replay_started_ms_ = 0;
  std::uint64_t ending_line_ = 0;  // 0: none
  std::uint64_t stall_lines_[2] = {0, 0};
  bool replay_timed_ = false;

  // Leaving with a reset: waiting for the receive window to shut.
  bool resetting_ = false;
  std::optional<std::size_t> last_unread_;
  std::uint64_t quiet_looks_ = 0;
  std::uint64_t reset_wait_began_ms_ = 0;
  Timer quiet_timer_;
};

}  // namespace uvchat::bench
