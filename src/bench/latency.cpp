#include "latency.hpp"

#include <algorithm>
#include <cmath>

#include "driver.hpp"
#include "option_values.hpp"
#include "pairs.hpp"
#include "precise_timer.hpp"

namespace uvchat::bench {
namespace {

// Leaves room in a line of the server's default --max-line (4096) for
// "bench-dm-r-NNNNNN:" in front of the text.
constexpr std::uint64_t kMaxTextSize = 4000;

// The shortest tick: at most 100,000 wake-ups a second of the load
// generator, whatever the rate.
constexpr std::uint64_t kShortestTickUs = 10;

// Sends `total` DMs at `rate` per second, starting at once, the DMs due by
// each tick round-robin over the pairs that are still open. DM k is due
// k / rate seconds after the start; a tick that comes late sends all that
// are due, so the offered rate holds on average.
//
// The tick sets the shape of the load. By default it is one DM's share of
// a second (50 µs at 20,000 DMs/s), so DMs go out one at a time as they
// fall due, as from independent clients, and a DM's trip is the server's
// time and not the time the load generator takes to write the rest of a
// burst. --tick 1000 gives the bursts of earlier runs (20 DMs each
// millisecond at 20,000 DMs/s).
class RateSchedule {
 public:
  RateSchedule(Driver& driver, DmPairs& pairs, std::uint64_t rate, std::uint64_t total,
               std::chrono::nanoseconds tick);

  void start();
  bool done() const { return sent_ == total_ || no_pair_open_; }
  std::uint64_t sent() const { return sent_; }
  // From the start to the last DM sent.
  double sending_seconds() const {
    return std::chrono::duration<double>(last_sent_at_ - started_at_).count();
  }

 private:
  void on_tick();
  void send_due();
  std::uint64_t due_now() const;
  bool send_to_next_open_pair();

  DmPairs& pairs_;
  std::uint64_t rate_;
  std::uint64_t total_;
  std::uint64_t sent_ = 0;
  std::uint32_t next_pair_ = 0;
  bool no_pair_open_ = false;
  SteadyClock::time_point started_at_;
  SteadyClock::time_point last_sent_at_;
  std::chrono::nanoseconds tick_;
  PreciseTimer timer_;
};

RateSchedule::RateSchedule(Driver& driver, DmPairs& pairs, std::uint64_t rate, std::uint64_t total,
                           std::chrono::nanoseconds tick)
    : pairs_(pairs), rate_(rate), total_(total), tick_(tick), timer_(driver.loop(), [this] { on_tick(); }) {}

void RateSchedule::start() {
  started_at_ = SteadyClock::now();
  last_sent_at_ = started_at_;
  send_due();
  if (!done()) timer_.start(tick_);
}

void RateSchedule::on_tick() {
  send_due();
  if (done()) timer_.stop();
}

void RateSchedule::send_due() {
  const std::uint64_t due = due_now();
  const std::uint64_t before = sent_;
  while (sent_ < due && send_to_next_open_pair()) ++sent_;
  if (sent_ > before) last_sent_at_ = SteadyClock::now();
}

// DM 0 is due at the start, DM k at k / rate seconds.
std::uint64_t RateSchedule::due_now() const {
  const double elapsed = std::chrono::duration<double>(SteadyClock::now() - started_at_).count();
  const auto due = static_cast<std::uint64_t>(std::floor(elapsed * static_cast<double>(rate_))) + 1;
  return std::min(due, total_);
}

bool RateSchedule::send_to_next_open_pair() {
  for (std::uint32_t tried = 0; tried < pairs_.size(); ++tried) {
    DmPair& pair = pairs_[next_pair_];
    next_pair_ = (next_pair_ + 1) % pairs_.size();
    if (pair.closed()) continue;
    pair.send_next();
    return true;
  }
  no_pair_open_ = true;
  return false;
}

class LatencyRun {
 public:
  LatencyRun(Driver& driver, const LatencyConfig& config) : driver_(driver), config_(config) {}

  Report run();

 private:
  void describe_parameters();
  std::uint64_t total() const;
  std::chrono::nanoseconds tick() const;

  Driver& driver_;
  LatencyConfig config_;
  Report report_;
};

Report LatencyRun::run() {
  describe_parameters();
  DmPairs pairs(driver_, report_, config_.pairs, config_.text_size);
  if (!pairs.register_all()) return report_;

  RateSchedule schedule(driver_, pairs, config_.rate, total(), tick());
  pairs.start_clock();
  schedule.start();
  const bool completed =
      driver_.run_until("sending at the offered rate", [&] { return schedule.done() && pairs.drained(); });
  pairs.finish(completed);
  const double sending = schedule.sending_seconds();
  report_.metrics.push_back(
      {"achieved_rate", sending > 0 ? static_cast<double>(schedule.sent()) / sending : 0.0});
  return report_;
}

void LatencyRun::describe_parameters() {
  report_.scenario = "latency";
  auto& parameters = report_.parameters;
  parameters.push_back(count_field("pairs", config_.pairs));
  parameters.push_back(count_field("rate", config_.rate));
  parameters.push_back({"seconds", config_.seconds});
  parameters.push_back(count_field("size", config_.text_size));
  parameters.push_back({"tick_us", std::chrono::duration<double, std::micro>(tick()).count()});
}

// --tick, or one DM's share of a second, in whole nanoseconds.
std::chrono::nanoseconds LatencyRun::tick() const {
  if (config_.tick_us != 0) return std::chrono::microseconds(config_.tick_us);
  const auto share = std::chrono::nanoseconds(1'000'000'000 / config_.rate);
  return std::max<std::chrono::nanoseconds>(share, std::chrono::microseconds(kShortestTickUs));
}

std::uint64_t LatencyRun::total() const {
  const double total = std::round(static_cast<double>(config_.rate) * config_.seconds);
  return std::max<std::uint64_t>(1, static_cast<std::uint64_t>(total));
}

}  // namespace

void add_latency_options(cxxopts::Options& parser) {
  const LatencyConfig defaults;
  // clang-format off
  parser.add_options("latency")
    ("pairs", "Sender/receiver pairs (bench-dm-s-N sends to bench-dm-r-N)", number_option(defaults.pairs), "P")
    ("rate", "DMs per second, over all pairs", number_option(defaults.rate), "R")
    ("seconds", "How long to send for", cxxopts::value<std::string>()->default_value("5"), "T")
    ("size", "Bytes of text per DM", number_option(defaults.text_size), "BYTES")
    ("tick", "Send what is due every US microseconds; 0: each DM at its own time (1,000,000 / rate, at least 10)", number_option(defaults.tick_us), "US");
  // clang-format on
}

ScenarioRun configure_latency(const cxxopts::ParseResult& options) {
  LatencyConfig config;
  config.pairs = static_cast<std::uint32_t>(whole_number(options, "pairs", 1, 100'000));
  config.rate = whole_number(options, "rate", 1, 10'000'000);
  config.seconds = real_number(options, "seconds", 0.001, 3600);
  config.text_size = whole_number(options, "size", 1, kMaxTextSize);
  config.tick_us = whole_number(options, "tick", 0, 1'000'000);
  if (config.tick_us != 0 && config.tick_us < kShortestTickUs) {
    throw BadOption{"--tick must be 0 or at least " + std::to_string(kShortestTickUs) + " microseconds"};
  }
  return [config](Driver& driver) { return run_latency(driver, config); };
}

Report run_latency(Driver& driver, const LatencyConfig& config) { return LatencyRun(driver, config).run(); }

}  // namespace uvchat::bench
