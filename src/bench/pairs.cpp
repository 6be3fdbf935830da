#include "pairs.hpp"

#include <algorithm>

#include "driver.hpp"
#include "queue_reader.hpp"
#include "report.hpp"

namespace uvchat::bench {
namespace {

// Registers (and leaves) once the DMs are all read; its queue is empty.
constexpr std::string_view kStoreProbeName = "bench-dm-sync";

// Well inside the stall limit, which is whole seconds.
constexpr std::uint64_t kKeepaliveIntervalMs = 500;

}  // namespace

RepeatingTimer::RepeatingTimer(uv_loop_t* loop, std::function<void()> tick)
    : loop_(loop), tick_(std::move(tick)) {
  uv_timer_init(loop_, &timer_);
  timer_.data = this;
}

RepeatingTimer::~RepeatingTimer() {
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_),
           [](uv_handle_t* handle) { static_cast<RepeatingTimer*>(handle->data)->closed_ = true; });
  while (!closed_) uv_run(loop_, UV_RUN_NOWAIT);
}

void RepeatingTimer::start(std::uint64_t interval_ms) {
  uv_timer_start(
      &timer_, [](uv_timer_t* timer) { static_cast<RepeatingTimer*>(timer->data)->tick_(); }, interval_ms,
      interval_ms);
}

void RepeatingTimer::stop() { uv_timer_stop(&timer_); }

PairEnd::PairEnd(Driver& driver, Report& report, const Dialect& dialect, std::string name, ChatSink on_chat)
    : report_(report),
      dialect_(dialect),
      name_(std::move(name)),
      on_chat_(std::move(on_chat)),
      client_(driver, *this) {
  client_.use_websocket(dialect.over_websocket());
}

void PairEnd::on_connected() {
  std::string lines;
  dialect_.append_register(lines, name_);
  client_.send_bytes(lines);
}

void PairEnd::ping() {
  std::string line;
  dialect_.append_ping(line);
  client_.send_bytes(line);
}

void PairEnd::on_line(std::string_view line) {
  const Heard heard = dialect_.hear(line);
  switch (heard.kind) {
    case Heard::Kind::kChat: take_chat(line, heard); break;
    case Heard::Kind::kWelcome:
      if (!dialect_.announces_empty_queue()) {
        queue_pong_due_ = true;
        ping();
      }
      break;
    case Heard::Kind::kQueueCount: announced_ = heard.count; break;
    case Heard::Kind::kPong:
      if (queue_pong_due_ && !announced_) announced_ = 0;
      queue_pong_due_ = false;
      break;
    case Heard::Kind::kRefused:
    case Heard::Kind::kUndelivered: fail(line); break;
    case Heard::Kind::kJoined:
    case Heard::Kind::kOther: break;  // presence and the like need nothing
  }
}

void PairEnd::take_chat(std::string_view line, const Heard& heard) {
  if (!announced_) {
    report_.add_error(name_ + ": a line before its queue was announced: " + std::string(line));
  } else if (stale_ < *announced_) {
    ++stale_;
  } else {
    on_chat_(line, heard);
  }
}

void PairEnd::fail(std::string_view line) {
  report_.add_error(name_ + ": " + std::string(line));
  client_.close();
}

void PairEnd::on_closed(CloseReason reason, std::string_view error) {
  if (reason == CloseReason::kError) {
    report_.add_error(name_ + ": " + std::string(error));
  } else if (reason == CloseReason::kByServer) {
    report_.add_error(name_ + ": the server closed the connection");
  }
}

DmPair::DmPair(PairContext& context, std::uint32_t index)
    : context_(context),
      index_(index),
      sender_(context.driver, context.report, context.dialect, indexed_name(kPairSenderPrefix, index),
              [this](std::string_view line, const Heard&) {
                context_.report.add_error(sender_.name() + ": a DM it did not expect: " + std::string(line));
              }),
      receiver_(context.driver, context.report, context.dialect, indexed_name(kPairReceiverPrefix, index),
                [this](std::string_view line, const Heard& heard) { take_receipt(line, heard); }) {}

void DmPair::connect() {
  sender_.connect();
  receiver_.connect();
}

void DmPair::send_next() {
  const MessageKey key{index_, sent_++};
  line_.clear();
  context_.dialect.begin_say(line_, receiver_.name());
  append_message_text(line_, key, context_.text_size);
  context_.dialect.end_line(line_);
  context_.ledger.record_sent(key, 0);
  // The receiver is online, so every DM sent must arrive: there is no
  // answer from the server to wait for.
  context_.ledger.record_acknowledged(index_, 0);
  send_times_.push_back(SteadyClock::now());
  sender_.send_bytes(line_);
}

void DmPair::ping() { sender_.ping(); }

void DmPair::take_receipt(std::string_view line, const Heard& heard) {
  const SteadyClock::time_point now = SteadyClock::now();
  ++received_;
  last_receipt_at_ = now;
  const std::optional<MessageKey> key = key_of(heard);
  if (!key || !context_.ledger.record_delivered(*key)) {
    context_.report.add_corrupt(receiver_.name() + " got '" + std::string(line) + "'");
  } else {
    time_in_order(*key, now);
  }
  if (on_receipt_) on_receipt_();
}

// The key of a DM if it is intact and from this pair's sender.
std::optional<MessageKey> DmPair::key_of(const Heard& heard) const {
  if (!heard.room.empty() || heard.name.empty() || heard.name != sender_.name()) return std::nullopt;
  const auto key = parse_message_text(heard.text, context_.text_size);
  if (!key || key->sender != index_) return std::nullopt;
  return key;
}

// A DM older than the newest read is not timed: it is a duplicate (the
// ledger counts it) or out of order. DMs it overtook lose their send times;
// should they arrive after all, they are out of order.
void DmPair::time_in_order(MessageKey key, SteadyClock::time_point now) {
  if (key.sequence < next_expected_) {
    if (key.sequence + 1 < next_expected_) {
      context_.report.add_error(receiver_.name() + " got DM n" + std::to_string(key.sequence) +
                                " after a newer one");
    }
    return;
  }
  const auto overtaken = static_cast<std::ptrdiff_t>(key.sequence - next_expected_);
  const auto trip = now - send_times_[static_cast<std::size_t>(overtaken)];
  context_.latencies.record(
      static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(trip).count()));
  send_times_.erase(send_times_.begin(), send_times_.begin() + overtaken + 1);
  next_expected_ = key.sequence + 1;
}

DmPairs::DmPairs(Driver& driver, Report& report, std::uint32_t count, std::size_t text_size, Dialect dialect)
    : driver_(driver), report_(report), ledger_(count, 1), dialect_(dialect), context_{driver,   report,
                                                                                       ledger_,  latencies_,
                                                                                       dialect_, text_size} {
  pairs_.reserve(count);
  for (std::uint32_t index = 0; index < count; ++index) {
    pairs_.push_back(std::make_unique<DmPair>(context_, index));
  }
}

DmPairs::~DmPairs() { driver_.close_all_clients(); }

bool DmPairs::register_all() {
  for (const auto& pair : pairs_) pair->connect();
  const bool ran = driver_.run_until("registering the pairs", [this] {
    return std::ranges::all_of(pairs_, [](const auto& pair) { return pair->registered() || pair->closed(); });
  });
  return ran && report_.errors == 0;
}

void DmPairs::start_clock() {
  cpu_before_ = driver_.server_probe().cpu_microseconds();
  own_cpu_before_ = own_cpu_microseconds();
  started_at_ = SteadyClock::now();
}

bool DmPairs::drained() const {
  return std::ranges::all_of(pairs_,
                             [](const auto& pair) { return pair->closed() || pair->in_flight() == 0; });
}

void DmPairs::finish(bool completed) {
  const SteadyClock::time_point last_receipt = last_receipt_at();
  const bool none_ended = std::ranges::none_of(pairs_, [](const auto& pair) { return pair->closed(); });
  if (completed && none_ended) wait_for_store(last_receipt);
  const std::optional<std::uint64_t> cpu_after = driver_.server_probe().cpu_microseconds();
  const std::optional<std::uint64_t> own_cpu_after = own_cpu_microseconds();
  std::uint64_t stale = 0;
  for (const auto& pair : pairs_) stale += pair->stale();
  driver_.close_all_clients();

  const Tally tally = ledger_.tally();
  report_.messages = tally.delivered;
  report_.seconds = std::chrono::duration<double>(last_receipt - started_at_).count();
  // When a connection ended, the server keeps the DMs that had not reached
  // it for the receiver's next registration: what did not arrive here was
  // not necessarily lost. The errors say why the run failed.
  if (completed && none_ended) report_.lost = tally.lost;
  report_.duplicated = tally.duplicated;
  report_server_cpu(cpu_after);
  if (const auto per_message = cpu_per_unit(own_cpu_before_, own_cpu_after, report_.messages)) {
    report_.metrics.push_back({"bench_cpu_us_per_message", *per_message});
  }
  if (store_lag_seconds_) report_.metrics.push_back({"store_lag_seconds", *store_lag_seconds_});
  report_latencies();
  report_.metrics.push_back(count_field("sent", tally.sent));
  report_.metrics.push_back(count_field("delivered", tally.delivered));
  report_.metrics.push_back(count_field("stale", stale));
}

SteadyClock::time_point DmPairs::last_receipt_at() const {
  SteadyClock::time_point last = started_at_;
  for (const auto& pair : pairs_) last = std::max(last, pair->last_receipt_at().value_or(started_at_));
  return last;
}

// Meanwhile the server may send nothing for longer than the stall limit, so
// pings show that it is alive.
//
// The probe speaks the native door whatever the pairs speak: it asks the
// store, which is the same behind every door.
void DmPairs::wait_for_store(SteadyClock::time_point last_receipt) {
  store_probe_ =
      std::make_unique<QueueReader>(driver_, report_, std::string(kStoreProbeName), [](std::string_view) {});
  DmPair& pinger = *pairs_.front();
  RepeatingTimer keepalive(driver_.loop(), [&pinger] { pinger.ping(); });
  store_probe_->start();
  keepalive.start(kKeepaliveIntervalMs);
  const bool caught_up = driver_.run_until("waiting for the server's store to catch up",
                                           [this] { return store_probe_->done(); });
  if (caught_up) {
    store_lag_seconds_ = std::chrono::duration<double>(SteadyClock::now() - last_receipt).count();
  }
}

void DmPairs::report_server_cpu(std::optional<std::uint64_t> cpu_after) {
  if (!driver_.server_probe().enabled()) return;
  if (!cpu_before_ || !cpu_after) {
    report_.add_error("could not read the server's CPU time from /proc (--server-pid)");
    return;
  }
  if (const auto per_message = cpu_per_unit(cpu_before_, cpu_after, report_.messages)) {
    report_.metrics.push_back({"server_cpu_us_per_message", *per_message});
  }
}

void DmPairs::report_latencies() {
  report_.metrics.push_back(count_field("latency_p50_us", latencies_.percentile(0.50)));
  report_.metrics.push_back(count_field("latency_p99_us", latencies_.percentile(0.99)));
  report_.metrics.push_back(count_field("latency_p999_us", latencies_.percentile(0.999)));
  report_.metrics.push_back(count_field("latency_max_us", latencies_.max()));
}

}  // namespace uvchat::bench
