#include "idle.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "driver.hpp"
#include "line_client.hpp"
#include "option_values.hpp"
#include "wire.hpp"

namespace uvchat::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::string_view kIdlePrefix = "bench-idle-";
// Not an idle connection's name: "check" is not a number.
constexpr std::string_view kCheckerName = "bench-idle-check";
// Descriptors besides the connections: stdio, the loop's own, the checker.
constexpr std::uint64_t kSpareDescriptors = 64;
// How long the server may take to let the closed connections go, and how
// often the checker asks who is still online meanwhile.
constexpr std::uint64_t kLetGoLimitMs = 10'000;
constexpr std::uint64_t kAskEveryMs = 100;

// A connection that registers and then says nothing. Whatever the server
// sends it after that (presence of those who come later, a queue left by
// an earlier run) is ignored, except errors.
class IdleClient final : public LineHandler {
 public:
  // `registered`: false when the connection failed before it registered.
  using SettledCallback = std::function<void(bool registered)>;

  IdleClient(Driver& driver, Report& report, std::string name, SettledCallback on_settled)
      : report_(report), name_(std::move(name)), on_settled_(std::move(on_settled)), client_(driver, *this) {}

  void connect() { client_.connect(); }

 private:
  void on_connected() override { client_.send_line("server:register " + name_); }

  void on_line(std::string_view line) override {
    const auto event = parse_server_event(line);
    if (!event) return;
    if (event->event == "queued-messages") {
      settle(true);
    } else if (event->event == "error") {
      report_.add_error(name_ + ": " + std::string(line));
    }
  }

  void on_closed(CloseReason reason, std::string_view error) override {
    if (reason == CloseReason::kError) {
      report_.add_error(name_ + ": " + std::string(error));
    } else if (reason == CloseReason::kByServer) {
      report_.add_error(name_ + ": the server closed the connection");
    }
    settle(false);
  }

  void settle(bool registered) {
    if (settled_) return;
    settled_ = true;
    on_settled_(registered);
  }

  Report& report_;
  std::string name_;
  SettledCallback on_settled_;
  bool settled_ = false;
  LineClient client_;
};

// Asks the server who is online (`server:who`), again and again, so that
// the run can wait until none of the idle connections is: the server has
// then noticed every close and let the session go.
class OnlineChecker final : public LineHandler {
 public:
  OnlineChecker(Driver& driver, Report& report) : driver_(driver), report_(report), client_(driver, *this) {}

  void start() { client_.connect(); }
  bool closed() const { return client_.closed(); }
  // Idle connections online in the last answer; null before the first.
  std::optional<std::uint64_t> still_online() const { return still_online_; }
  // Asks again once the last answer is kAskEveryMs old. The first question
  // follows the registration.
  void ask_again_if_due(std::uint64_t now_ms) {
    if (!still_online_ || asking_ || now_ms - answered_at_ms_ < kAskEveryMs) return;
    ask();
  }

 private:
  void on_connected() override {
    client_.send_line("server:register " + std::string(kCheckerName));
    ask();
  }

  void ask() {
    asking_ = true;
    client_.send_line("server:who");
  }

  void on_line(std::string_view line) override {
    const auto event = parse_server_event(line);
    if (!event) return;
    if (event->event == "users") {
      take_users(event->args);
    } else if (event->event == "error") {
      report_.add_error(std::string(kCheckerName) + ": " + std::string(line));
    }
  }

  void take_users(std::string_view names) {
    std::uint64_t idle = 0;
    while (!names.empty()) {
      const std::size_t end = std::min(names.find(' '), names.size());
      if (name_index(kIdlePrefix, names.substr(0, end))) ++idle;
      names.remove_prefix(std::min(end + 1, names.size()));
    }
    still_online_ = idle;
    asking_ = false;
    answered_at_ms_ = driver_.now_ms();
  }

  void on_closed(CloseReason reason, std::string_view error) override {
    if (reason == CloseReason::kError) {
      report_.add_error(std::string(kCheckerName) + ": " + std::string(error));
    } else if (reason == CloseReason::kByServer) {
      report_.add_error(std::string(kCheckerName) + ": the server closed the connection");
    }
  }

  Driver& driver_;
  Report& report_;
  std::optional<std::uint64_t> still_online_;
  bool asking_ = false;
  std::uint64_t answered_at_ms_ = 0;
  LineClient client_;
};

class IdleRun {
 public:
  IdleRun(Driver& driver, const IdleConfig& config) : driver_(driver), config_(config) {}

  Report run();

 private:
  void describe_parameters();
  bool register_timed();
  void connect_more();
  void on_client_settled(bool registered);
  void measure_registration(Clock::time_point started, std::optional<std::uint64_t> cpu_before,
                            std::optional<std::uint64_t> rss_before);
  bool hold();
  void close_everyone();
  void wait_until_server_lets_go();

  Driver& driver_;
  IdleConfig config_;
  Report report_;
  std::vector<std::unique_ptr<IdleClient>> clients_;
  std::size_t next_to_connect_ = 0;
  std::size_t settled_ = 0;
  std::uint64_t registered_ = 0;
  bool admitting_ = false;  // only while registering: a failed phase closes the rest unconnected
  Clock::time_point last_registered_at_;
};

Report IdleRun::run() {
  describe_parameters();
  if (!make_room_for_connections(config_.connections, report_)) return report_;
  if (register_timed() && hold()) {
    close_everyone();
    wait_until_server_lets_go();
  }
  driver_.close_all_clients();
  return report_;
}

void IdleRun::describe_parameters() {
  report_.scenario = "idle";
  report_.unit = "registrations/s";
  auto& parameters = report_.parameters;
  parameters.push_back(count_field("connections", config_.connections));
  parameters.push_back(count_field("in_flight", config_.in_flight));
  parameters.push_back({"hold", config_.hold_seconds});
}

// The timed part: from the first connect to the last registration.
bool IdleRun::register_timed() {
  const auto on_settled = [this](bool registered) { on_client_settled(registered); };
  for (std::uint32_t index = 0; index < config_.connections; ++index) {
    clients_.push_back(
        std::make_unique<IdleClient>(driver_, report_, indexed_name(kIdlePrefix, index), on_settled));
  }
  const std::optional<std::uint64_t> rss_before = driver_.server_probe().rss_kib();
  const std::optional<std::uint64_t> cpu_before = driver_.server_probe().cpu_microseconds();
  const Clock::time_point started = Clock::now();
  last_registered_at_ = started;
  admitting_ = true;
  connect_more();
  const bool registered = driver_.run_until(
      "connecting and registering", [&] { return report_.errors > 0 || settled_ == clients_.size(); });
  admitting_ = false;
  measure_registration(started, cpu_before, rss_before);
  return registered && report_.errors == 0;
}

void IdleRun::connect_more() {
  while (admitting_ && next_to_connect_ < clients_.size() &&
         next_to_connect_ - settled_ < config_.in_flight) {
    clients_[next_to_connect_++]->connect();
  }
}

void IdleRun::on_client_settled(bool registered) {
  ++settled_;
  if (registered) {
    ++registered_;
    last_registered_at_ = Clock::now();
  }
  connect_more();
}

void IdleRun::measure_registration(Clock::time_point started, std::optional<std::uint64_t> cpu_before,
                                   std::optional<std::uint64_t> rss_before) {
  const std::optional<std::uint64_t> cpu_after = driver_.server_probe().cpu_microseconds();
  const std::optional<std::uint64_t> rss_after = driver_.server_probe().rss_kib();
  report_.messages = registered_;
  report_.seconds = std::chrono::duration<double>(last_registered_at_ - started).count();
  if (const auto per_registration = cpu_per_unit(cpu_before, cpu_after, registered_)) {
    report_.metrics.push_back({"server_cpu_us_per_registration", *per_registration});
  }
  if (!rss_before || !rss_after) return;
  report_.metrics.push_back(count_field("rss_before_kib", *rss_before));
  report_.metrics.push_back(count_field("rss_after_kib", *rss_after));
  const double grown_bytes = (static_cast<double>(*rss_after) - static_cast<double>(*rss_before)) * 1024;
  report_.metrics.push_back({"rss_per_connection_bytes", grown_bytes / config_.connections});
}

bool IdleRun::hold() {
  const std::uint64_t until_ms = driver_.now_ms() + static_cast<std::uint64_t>(config_.hold_seconds * 1000);
  const bool held = driver_.run_until("holding the connections", [&] {
    // The connections are idle by design: the server's silence is no stall.
    driver_.note_progress();
    return report_.errors > 0 || driver_.now_ms() >= until_ms;
  });
  return held && report_.errors == 0;
}

// Any connection that the server closed, or that broke, before this has
// already counted as an error.
void IdleRun::close_everyone() { driver_.close_all_clients(); }

void IdleRun::wait_until_server_lets_go() {
  OnlineChecker checker(driver_, report_);
  checker.start();
  const std::uint64_t give_up_at_ms = driver_.now_ms() + kLetGoLimitMs;
  driver_.run_until("waiting for the server to let the connections go", [&] {
    if (checker.closed() || report_.errors > 0 || checker.still_online() == 0) return true;
    if (driver_.now_ms() >= give_up_at_ms) return true;
    checker.ask_again_if_due(driver_.now_ms());
    return false;
  });
  if (const auto still_online = checker.still_online(); still_online != 0) {
    report_.add_error("the server still had " + (still_online ? std::to_string(*still_online) : "some") +
                      " of the closed connections online after " + std::to_string(kLetGoLimitMs / 1000) +
                      " s");
  }
  if (const auto rss = driver_.server_probe().rss_kib()) {
    report_.metrics.push_back(count_field("rss_after_close_kib", *rss));
  }
  driver_.close_all_clients();
}

}  // namespace

namespace {

// Returns the limit then in force.
std::uint64_t raise_open_file_limit(std::uint64_t descriptors) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  if (limit.rlim_cur == RLIM_INFINITY || limit.rlim_cur >= descriptors) return limit.rlim_cur;
  // An unlimited hard limit still has the kernel's nr_open above it.
  limit.rlim_cur = limit.rlim_max == RLIM_INFINITY ? descriptors : limit.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &limit) != 0 || getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  return limit.rlim_cur;
}

}  // namespace

bool make_room_for_connections(std::uint64_t connections, Report& report) {
  const std::uint64_t needed = connections + kSpareDescriptors;
  const std::uint64_t limit = raise_open_file_limit(needed);
  if (limit >= needed) return true;
  report.add_error(std::to_string(connections) + " connections need about " + std::to_string(needed) +
                   " open files, and the limit is " + std::to_string(limit) + " (ulimit -n)");
  return false;
}

void add_idle_options(cxxopts::Options& parser) {
  const IdleConfig defaults;
  // clang-format off
  parser.add_options("idle")
    ("connections", "Connections to open and register (bench-idle-N)", number_option(defaults.connections), "C")
    ("in-flight", "Connections connecting or registering at once", number_option(defaults.in_flight), "N")
    ("hold", "Seconds to keep them all open and idle before closing them", number_option(2), "SECONDS");
  // clang-format on
}

ScenarioRun configure_idle(const cxxopts::ParseResult& options) {
  IdleConfig config;
  config.connections = static_cast<std::uint32_t>(whole_number(options, "connections", 1, 1'000'000));
  config.in_flight = static_cast<std::uint32_t>(whole_number(options, "in-flight", 1, 100'000));
  config.hold_seconds = real_number(options, "hold", 0, 3600);
  return [config](Driver& driver) { return run_idle(driver, config); };
}

Report run_idle(Driver& driver, const IdleConfig& config) { return IdleRun(driver, config).run(); }

}  // namespace uvchat::bench
