#include "soak_client.hpp"

#include <algorithm>

#include "driver.hpp"
#include "report.hpp"
#include "soak_sources.hpp"
#include "wire.hpp"

namespace uvchat::bench {
namespace {

// Of the TLS sessions of a client that has had one before, those that
// offer the server its session again (resumption) rather than a full
// handshake.
constexpr double kResumeChance = 0.5;

std::uint64_t count_line_ends(std::string_view bytes) {
  return static_cast<std::uint64_t>(std::ranges::count(bytes, '\n'));
}

}  // namespace

SoakClient::SoakClient(SoakContext& context, Role role, std::uint32_t slot)
    : context_(context),
      role_(role),
      slot_(slot),
      name_(indexed_name(role_prefix(role), slot)),
      pacer_(context.driver.loop()),
      next_session_(context.driver.loop()) {
  // Each client draws its own numbers, so that one seed repeats a run's
  // choices (though not its timing).
  std::seed_seq seed{static_cast<std::uint32_t>(context.config.seed),
                     static_cast<std::uint32_t>(context.config.seed >> 32), static_cast<std::uint32_t>(role),
                     slot};
  random_.seed(seed);
}

SoakClient::~SoakClient() = default;

void SoakClient::start(std::uint64_t delay_ms) {
  stopping_ = false;
  next_session_.start(delay_ms, [this] { begin_session(); });
}

void SoakClient::stop() {
  stopping_ = true;
  next_session_.stop();
  if (session_open()) wind_down();
}

void SoakClient::begin_session() {
  if (const std::optional<std::uint64_t> later = postpone_session()) {
    next_session_.start(*later, [this] { begin_session(); });
    return;
  }
  // The previous client is closed, so it may go.
  client_ = std::make_unique<LineClient>(context_.driver, *this);
  choose_tls();
  ++sessions_;
  leaving_ = false;
  ++context_.stats.connections[static_cast<std::size_t>(role_)];
  const std::optional<sockaddr_in> source = context_.sources.address(role_, source_number());
  client_->connect(source ? reinterpret_cast<const sockaddr*>(&*source) : nullptr, receive_buffer());
}

// Drawn only when the share is neither none nor all, so that a run without
// TLS makes the choices it always made for the same seed.
void SoakClient::choose_tls() {
  const double share = context_.config.tls_share;
  const bool tls = share >= 1 || (share > 0 && chance(share));
  const bool resume = tls && tls_session_ && chance(kResumeChance);
  client_->use_tls(tls, resume ? tls_session_ : nullptr);
}

void SoakClient::on_connected() {
  if (client_->speaks_tls()) {
    ++context_.stats.tls_connections;
    if (client_->tls_resumed()) ++context_.stats.tls_resumed;
  }
  session_began();
}

void SoakClient::on_line(std::string_view line) {
  ++context_.stats.lines_received;
  context_.stats.bytes_received += line.size() + 1;
  line_arrived(line);
}

void SoakClient::on_closed(CloseReason reason, std::string_view error) {
  pacer_.stop();
  if (auto session = client_->tls_session()) tls_session_ = std::move(session);
  const std::optional<std::uint64_t> pause = session_ended(reason, error);
  if (pause && !stopping_) next_session_.start(*pause, [this] { begin_session(); });
}

void SoakClient::send_line(std::string_view line) {
  ++context_.stats.lines_sent;
  context_.stats.bytes_sent += line.size() + 1;
  client_->send_line(line);
}

void SoakClient::send_bytes(std::string_view bytes) {
  context_.stats.lines_sent += count_line_ends(bytes);
  context_.stats.bytes_sent += bytes.size();
  client_->send_bytes(bytes);
}

void SoakClient::leave() {
  if (leaving_ || !session_open()) return;
  leaving_ = true;
  pacer_.stop();
  send_line("server:exit");
}

void SoakClient::check_close(CloseReason reason, std::string_view error) {
  if (reason == CloseReason::kByUs || (reason == CloseReason::kByServer && leaving_)) return;
  fail(reason == CloseReason::kByServer ? "the server closed the connection" : error);
}

std::uint64_t SoakClient::now_ms() const { return context_.driver.now_ms(); }

std::uint64_t SoakClient::random_between(std::uint64_t low, std::uint64_t high) {
  return std::uniform_int_distribution<std::uint64_t>(low, high)(random_);
}

bool SoakClient::chance(double probability) { return std::bernoulli_distribution(probability)(random_); }

void SoakClient::fail(std::string_view what) { context_.report.add_error(name_ + ": " + std::string(what)); }

void SoakClient::note_missed(std::string_view line, std::string_view args) {
  const std::optional<std::uint64_t> count = parse_count(args);
  if (!count || *count == 0) {
    fail("a bad count: " + std::string(line));
    return;
  }
  ++context_.stats.missed_notices;
  context_.stats.missed_lines += *count;
}

}  // namespace uvchat::bench
