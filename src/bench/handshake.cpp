#include "handshake.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "driver.hpp"
#include "idle.hpp"
#include "line_client.hpp"
#include "option_values.hpp"
#include "wire.hpp"

namespace uvchat::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::string_view kPrefix = "bench-hs-";
constexpr std::string_view kTicketName = "bench-hs-ticket";

// One new connection: it connects, shakes hands, registers, and closes.
class NewcomerClient final : public LineHandler {
 public:
  // `registered`: false when the connection failed before it registered.
  using SettledCallback = std::function<void(NewcomerClient& client, bool registered)>;

  NewcomerClient(Driver& driver, Report& report, std::string name, SettledCallback on_settled)
      : report_(report), name_(std::move(name)), on_settled_(std::move(on_settled)), client_(driver, *this) {}

  void connect(std::shared_ptr<SSL_SESSION> resume) {
    if (resume) client_.use_tls(true, std::move(resume));
    client_.connect();
  }
  bool resumed() const { return client_.tls_resumed(); }
  std::shared_ptr<SSL_SESSION> tls_session() const { return client_.tls_session(); }

 private:
  void on_connected() override { client_.send_line("server:register " + name_); }

  void on_line(std::string_view line) override {
    const auto event = parse_server_event(line);
    if (!event) return;
    if (event->event == "queued-messages") {
      settle(true);
      client_.close();
    } else if (event->event == "error") {
      report_.add_error(name_ + ": " + std::string(line));
    }
  }

  void on_closed(CloseReason reason, std::string_view error) override {
    if (reason == CloseReason::kError) {
      report_.add_error(name_ + ": " + std::string(error));
    } else if (reason == CloseReason::kByServer && !settled_) {
      report_.add_error(name_ + ": the server closed the connection");
    }
    settle(false);
  }

  void settle(bool registered) {
    if (settled_) return;
    settled_ = true;
    on_settled_(*this, registered);
  }

  Report& report_;
  std::string name_;
  SettledCallback on_settled_;
  bool settled_ = false;
  LineClient client_;
};

class HandshakeRun {
 public:
  HandshakeRun(Driver& driver, const HandshakeConfig& config) : driver_(driver), config_(config) {}

  Report run();

 private:
  void describe_parameters();
  bool take_ticket();
  bool connect_timed();
  void connect_more();
  void on_settled(NewcomerClient& client, bool registered);
  void measure(Clock::time_point started, std::optional<std::uint64_t> server_before,
               std::optional<std::uint64_t> own_before);

  Driver& driver_;
  HandshakeConfig config_;
  Report report_;
  std::shared_ptr<SSL_SESSION> ticket_;
  std::vector<std::unique_ptr<NewcomerClient>> clients_;
  std::size_t next_to_connect_ = 0;
  std::size_t settled_ = 0;
  std::uint64_t registered_ = 0;
  std::uint64_t resumed_ = 0;
  bool admitting_ = false;
  Clock::time_point last_registered_at_;
};

Report HandshakeRun::run() {
  describe_parameters();
  if (!make_room_for_connections(config_.in_flight, report_)) return report_;
  if ((!config_.resume || take_ticket()) && connect_timed() && config_.resume && resumed_ != registered_) {
    report_.add_error(std::to_string(registered_ - resumed_) + " of " + std::to_string(registered_) +
                      " connections were not resumed: the server did not take the session");
  }
  driver_.close_all_clients();
  return report_;
}

void HandshakeRun::describe_parameters() {
  report_.scenario = "handshake";
  report_.unit = "connections/s";
  auto& parameters = report_.parameters;
  parameters.push_back(count_field("connections", config_.connections));
  parameters.push_back(count_field("in_flight", config_.in_flight));
  parameters.push_back({"tls", std::string(driver_.tls_everywhere() ? "true" : "false")});
  parameters.push_back({"resume", std::string(config_.resume ? "true" : "false")});
}

// The first connection's session, from the ticket that came before its
// registration was answered.
bool HandshakeRun::take_ticket() {
  bool settled = false;
  NewcomerClient first(driver_, report_, std::string(kTicketName),
                       [&](NewcomerClient& client, bool registered) {
                         settled = true;
                         if (registered) ticket_ = client.tls_session();
                       });
  first.connect(nullptr);
  const bool done = driver_.run_until("taking a session ticket", [&] { return settled; });
  driver_.close_all_clients();
  if (done && report_.errors == 0 && !ticket_) report_.add_error("the server sent no session ticket");
  return done && ticket_ != nullptr && report_.errors == 0;
}

bool HandshakeRun::connect_timed() {
  const auto settled = [this](NewcomerClient& client, bool registered) { on_settled(client, registered); };
  clients_.reserve(config_.connections);
  for (std::uint32_t index = 0; index < config_.connections; ++index) {
    clients_.push_back(
        std::make_unique<NewcomerClient>(driver_, report_, indexed_name(kPrefix, index), settled));
  }
  const std::optional<std::uint64_t> server_before = driver_.server_probe().cpu_microseconds();
  const std::optional<std::uint64_t> own_before = own_cpu_microseconds();
  const Clock::time_point started = Clock::now();
  last_registered_at_ = started;
  admitting_ = true;
  connect_more();
  const bool done = driver_.run_until("connecting and registering",
                                      [&] { return report_.errors > 0 || settled_ == clients_.size(); });
  admitting_ = false;
  measure(started, server_before, own_before);
  return done && report_.errors == 0;
}

void HandshakeRun::connect_more() {
  while (admitting_ && next_to_connect_ < clients_.size() &&
         next_to_connect_ - settled_ < config_.in_flight) {
    clients_[next_to_connect_++]->connect(ticket_);
  }
}

void HandshakeRun::on_settled(NewcomerClient& client, bool registered) {
  ++settled_;
  if (registered) {
    ++registered_;
    if (client.resumed()) ++resumed_;
    last_registered_at_ = Clock::now();
  }
  connect_more();
}

void HandshakeRun::measure(Clock::time_point started, std::optional<std::uint64_t> server_before,
                           std::optional<std::uint64_t> own_before) {
  const std::optional<std::uint64_t> server_after = driver_.server_probe().cpu_microseconds();
  const std::optional<std::uint64_t> own_after = own_cpu_microseconds();
  report_.messages = registered_;
  report_.seconds = std::chrono::duration<double>(last_registered_at_ - started).count();
  report_.metrics.push_back(count_field("resumed", resumed_));
  if (const auto per_connection = cpu_per_unit(server_before, server_after, registered_)) {
    report_.metrics.push_back({"server_cpu_us_per_connection", *per_connection});
  }
  if (const auto per_connection = cpu_per_unit(own_before, own_after, registered_)) {
    report_.metrics.push_back({"bench_cpu_us_per_connection", *per_connection});
  }
}

}  // namespace

void add_handshake_options(cxxopts::Options& parser) {
  const HandshakeConfig defaults;
  // clang-format off
  parser.add_options("handshake")
    ("connections", "New connections to make, each registered (bench-hs-N) and closed", number_option(defaults.connections), "C")
    ("in-flight", "Connections connecting, shaking hands or registering at once", number_option(defaults.in_flight), "N")
    ("resume", "With --tls: every connection offers the session of a first one (TLS 1.3 resumption)");
  // clang-format on
}

ScenarioRun configure_handshake(const cxxopts::ParseResult& options) {
  HandshakeConfig config;
  config.connections = static_cast<std::uint32_t>(whole_number(options, "connections", 1, 1'000'000));
  config.in_flight = static_cast<std::uint32_t>(whole_number(options, "in-flight", 1, 10'000));
  config.resume = options.count("resume") > 0;
  if (config.resume && options.count("tls") == 0) throw BadOption{"--resume needs --tls"};
  return [config](Driver& driver) { return run_handshake(driver, config); };
}

Report run_handshake(Driver& driver, const HandshakeConfig& config) {
  return HandshakeRun(driver, config).run();
}

}  // namespace uvchat::bench
