// DMs between online pairs of users, for the dm and latency scenarios:
// bench-dm-s-N sends to bench-dm-r-N. The bench holds both ends, so it
// checks each DM as it arrives and times its trip with one steady clock.
#pragma once

#include <uv.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "latency_histogram.hpp"
#include "ledger.hpp"
#include "line_client.hpp"
#include "message_text.hpp"
#include "wire.hpp"

namespace uvchat::bench {

class Driver;
class QueueReader;
struct Report;

inline constexpr std::string_view kPairSenderPrefix = "bench-dm-s-";
inline constexpr std::string_view kPairReceiverPrefix = "bench-dm-r-";

using SteadyClock = std::chrono::steady_clock;

// A uv_timer that calls `tick` every `interval_ms` once started. Destroying
// it closes the timer and runs the loop until libuv lets go of it.
class RepeatingTimer {
 public:
  RepeatingTimer(uv_loop_t* loop, std::function<void()> tick);
  ~RepeatingTimer();
  RepeatingTimer(const RepeatingTimer&) = delete;
  RepeatingTimer& operator=(const RepeatingTimer&) = delete;

  void start(std::uint64_t interval_ms);
  void stop();

 private:
  uv_loop_t* loop_;
  std::function<void()> tick_;
  uv_timer_t timer_{};
  bool closed_ = false;
};

// One connection of a pair, speaking its dialect's door. It registers as
// `name` and reads the queue the server replays (DMs that a run which
// failed left behind: stale, not checked), then hands every other chat line
// to `on_chat`.
//
// An error, or a DM kept for later (`server:queued`, IRC's 301: the DM's
// receiver went offline), closes the connection, as the DMs in flight would
// never arrive; other lines (presence, numerics) are ignored.
class PairEnd final : public LineHandler {
 public:
  using ChatSink = std::function<void(std::string_view line, const Heard& heard)>;

  PairEnd(Driver& driver, Report& report, const Dialect& dialect, std::string name, ChatSink on_chat);

  void connect() { client_.connect(); }
  // Welcomed, and its queue read.
  bool registered() const { return announced_ && stale_ == *announced_; }
  bool closed() const { return client_.closed(); }
  const std::string& name() const { return name_; }
  std::uint64_t stale() const { return stale_; }
  // Whole lines, line ends included (Dialect).
  void send_bytes(std::string_view lines) { client_.send_bytes(lines); }
  void ping();

 private:
  void on_connected() override;
  void on_line(std::string_view line) override;
  void on_closed(CloseReason reason, std::string_view error) override;

  void take_chat(std::string_view line, const Heard& heard);
  void fail(std::string_view line);

  Report& report_;
  const Dialect& dialect_;
  std::string name_;
  ChatSink on_chat_;
  std::optional<std::uint64_t> announced_;  // N of `server:queued-messages N`
  bool queue_pong_due_ = false;             // IRC: the pong after the welcome ends the replay
  std::uint64_t stale_ = 0;
  LineClient client_;
};

// What the pairs of a run share.
struct PairContext {
  Driver& driver;
  Report& report;
  Ledger& ledger;  // a sender per pair, one stream each
  LatencyHistogram& latencies;
  const Dialect& dialect;
  std::size_t text_size = 64;
};

// Sender N and receiver N. Each DM the receiver reads must be one the sender
// sent, intact and not older than one read before; its trip, from the
// moment it was queued to be sent to the moment it was read, goes into the
// latency histogram.
class DmPair {
 public:
  DmPair(PairContext& context, std::uint32_t index);

  void connect();
  bool registered() const { return sender_.registered() && receiver_.registered(); }
  // Either connection has ended: no more DMs will be sent or read.
  bool closed() const { return sender_.closed() || receiver_.closed(); }

  void send_next();
  // Asks for a `server:pong`: proof that the server is alive when it has
  // nothing else to say.
  void ping();
  std::uint64_t sent() const { return sent_; }
  // Sent and not yet read by the receiver.
  std::uint64_t in_flight() const { return sent_ - received_; }
  std::uint64_t stale() const { return sender_.stale() + receiver_.stale(); }
  std::optional<SteadyClock::time_point> last_receipt_at() const { return last_receipt_at_; }
  // Called after each DM the receiver reads.
  void on_receipt(std::function<void()> listener) { on_receipt_ = std::move(listener); }

 private:
  void take_receipt(std::string_view line, const Heard& heard);
  std::optional<MessageKey> key_of(const Heard& heard) const;
  void time_in_order(MessageKey key, SteadyClock::time_point now);

  PairContext& context_;
  std::uint32_t index_;
  std::uint64_t sent_ = 0;  // also the next sequence number
  std::uint64_t received_ = 0;
  // When each DM from `next_expected_` on was sent: at most those in flight.
  std::deque<SteadyClock::time_point> send_times_;
  std::uint64_t next_expected_ = 0;
  std::optional<SteadyClock::time_point> last_receipt_at_;
  std::function<void()> on_receipt_;
  std::string line_;  // reused for each DM, so sending allocates nothing
  PairEnd sender_;
  PairEnd receiver_;
};

// Every pair of a run and what they share, from registering to the report:
// the DMs delivered, from the first sent to the last read; the exactly-once
// check; the latency percentiles; and the server's CPU time per DM when
// --server-pid was given.
//
// The server delivers a DM at once but stores it on a thread of its own,
// which may fall behind: the DMs are all read while the store still has
// seconds of work queued. So before the server's CPU time is read, a
// registration (which reads the database, after every write queued before
// it) waits for the store to catch up; the CPU per DM includes that work,
// and `store_lag_seconds` says how long it took after the last DM arrived.
class DmPairs {
 public:
  DmPairs(Driver& driver, Report& report, std::uint32_t count, std::size_t text_size,
          Dialect dialect = Dialect{});
  // Closes every connection.
  ~DmPairs();
  DmPairs(const DmPairs&) = delete;
  DmPairs& operator=(const DmPairs&) = delete;

  std::uint32_t size() const { return static_cast<std::uint32_t>(pairs_.size()); }
  DmPair& operator[](std::uint32_t index) { return *pairs_[index]; }
  auto begin() { return pairs_.begin(); }
  auto end() { return pairs_.end(); }

  // Both ends of every pair register; false when any could not.
  bool register_all();
  // The timed part begins: the first DM is about to be sent.
  void start_clock();
  SteadyClock::time_point started_at() const { return started_at_; }
  // Every pair has read all its sender sent, or has ended.
  bool drained() const;
  // The timed part is over (`completed`: its phase did not fail): waits for
  // the server's store, reads the server's CPU time, closes the connections
  // and fills the report.
  void finish(bool completed);

 private:
  SteadyClock::time_point last_receipt_at() const;
  void wait_for_store(SteadyClock::time_point last_receipt);
  void report_server_cpu(std::optional<std::uint64_t> cpu_after);
  void report_latencies();

  Driver& driver_;
  Report& report_;
  Ledger ledger_;
  LatencyHistogram latencies_;
  Dialect dialect_;
  PairContext context_;
  std::vector<std::unique_ptr<DmPair>> pairs_;
  std::unique_ptr<QueueReader> store_probe_;  // freed once closed, with the pairs
  SteadyClock::time_point started_at_;
  std::optional<std::uint64_t> cpu_before_;
  std::optional<std::uint64_t> own_cpu_before_;
  std::optional<double> store_lag_seconds_;
};

}  // namespace uvchat::bench
