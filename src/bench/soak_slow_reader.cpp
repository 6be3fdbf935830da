#include "soak_slow_reader.hpp"

#include <algorithm>
#include <fstream>

#include "soak_dm_book.hpp"

namespace uvchat::bench {
namespace {

constexpr std::uint64_t kShortestHoldMs = 15'000;
constexpr std::uint64_t kLongestHoldMs = 50'000;
// PROTOCOL.md, section 6: a client may have this many times --max-outbuf
// waiting at any moment (or less for 5 s) before it is cut.
constexpr std::uint64_t kHardLimitFactor = 8;
constexpr std::uint64_t kShortestReadMs = 1'000;
constexpr std::uint64_t kLongestReadMs = 3'000;
constexpr std::uint64_t kShortestAbsenceMs = 1'000;
constexpr std::uint64_t kLongestAbsenceMs = 5'000;
// When /proc does not say: Linux's defaults (4 MiB, 128 KiB).
constexpr std::uint64_t kDefaultSendBufferMax = 4 * 1024 * 1024;
constexpr std::uint64_t kDefaultReceiveBuffer = 128 * 1024;
// What may arrive while it catches up, before its ping, per second of that.
constexpr std::uint64_t kInflowPerSecond = 2 * 1024 * 1024;

// The `field`th number (from 0) of a /proc/sys file such as tcp_wmem.
std::uint64_t proc_number(const char* path, int field, std::uint64_t fallback) {
  std::ifstream file(path);
  std::uint64_t value = 0;
  for (int i = 0; i <= field; ++i) {
    if (!(file >> value)) return fallback;
  }
  return value;
}

}  // namespace

std::uint64_t SlowReader::backlog_allowed(const SoakConfig& config) {
  if (config.max_outbuf == 0) return 0;
  const std::uint64_t send_max = proc_number("/proc/sys/net/ipv4/tcp_wmem", 2, kDefaultSendBufferMax);
  // The receive buffer grows only as the reader reads, and this one does not.
  const std::uint64_t receive = proc_number("/proc/sys/net/ipv4/tcp_rmem", 1, kDefaultReceiveBuffer);
  const std::uint64_t inflow = kInflowPerSecond * (config.slow_reader_wait_ms + 500) / 1000;
  return kHardLimitFactor * config.max_outbuf + send_max + 2 * receive + inflow;
}

SlowReader::SlowReader(SoakContext& context, std::uint32_t slot)
    : IdentityClient(context, Role::kSlowReader, slot, context.book.slow_reader_identity(slot)) {}

void SlowReader::soak_session_began() {
  measuring_ = false;
  pong_seen_ = false;
  bye_seen_ = false;
  told_too_slow_ = false;
  send_line("server:join " + std::string(kFloodRoom));
  client().pause_reading();
  holding_ = true;
  ++context_.stats.slow_holds;
  pacer_.start(random_between(kShortestHoldMs, kLongestHoldMs), [this] { start_reading_again(); });
}

void SlowReader::start_reading_again() {
  holding_ = false;
  measuring_ = true;
  backlog_bytes_ = 0;
  client().resume_reading();
  pacer_.start(context_.config.slow_reader_wait_ms, [this] { ask_where_backlog_ends(); });
}

// Still open after catching up: not cut, or the server closed the
// connection and the end has not arrived yet.
void SlowReader::ask_where_backlog_ends() { send_line("server:ping"); }

void SlowReader::soak_line(std::string_view line) {
  if (measuring_) backlog_bytes_ += line.size() + 1;
}

void SlowReader::soak_event(std::string_view line, const ServerEvent& event) {
  if (event.event == "pong") {
    take_pong();
  } else if (event.event == "bye") {
    bye_seen_ = true;
  } else if (event.event == "error" && event.args.starts_with("too-slow")) {
    told_too_slow_ = true;
  } else if (event.event == "error") {
    fail(line);
  }
}

void SlowReader::take_pong() {
  if (!measuring_) return;
  measuring_ = false;
  pong_seen_ = true;
  SoakStats& stats = context_.stats;
  stats.slow_largest_backlog = std::max(stats.slow_largest_backlog, backlog_bytes_);
  if (stats.slow_backlog_allowed > 0 && backlog_bytes_ > stats.slow_backlog_allowed) {
    fail(std::to_string(backlog_bytes_) + " bytes waited for it and it was not cut: more than " +
         std::to_string(kHardLimitFactor) + " times --max-outbuf " +
         std::to_string(context_.config.max_outbuf) + " and the kernel's buffers allow");
  }
  pacer_.start(random_between(kShortestReadMs, kLongestReadMs), [this] { leave(); });
}

// Reading again, it waits as after a hold before it says anything.
void SlowReader::wind_down() {
  if (pong_seen_) {
    leave();
    return;
  }
  if (holding_) {
    holding_ = false;
    client().resume_reading();
  }
  pacer_.start(context_.config.slow_reader_wait_ms, [this] { leave(); });
}

// The server ended the connection before the backlog was read: too slow.
bool SlowReader::was_cut(CloseReason reason) const {
  return reason != CloseReason::kByUs && !pong_seen_ && !bye_seen_;
}

std::uint64_t SlowReader::soak_session_ended(CloseReason reason, std::string_view error) {
  holding_ = false;
  measuring_ = false;
  if (was_cut(reason)) {
    ++context_.stats.slow_cuts;
    if (told_too_slow_) ++context_.stats.slow_cuts_told;
  } else {
    check_close(reason, error);
  }
  return random_between(kShortestAbsenceMs, kLongestAbsenceMs);
}

}  // namespace uvchat::bench
