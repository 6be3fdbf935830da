// Cutting off clients that do not read: which ones, what they are told, and
// the reset timed so that exactly the DMs they can still read count as
// delivered (CutWait).
#include "uvchat/log.hpp"
#include "uvchat/net/server.hpp"

namespace uvchat::net {
namespace {

// How often cuts under way look at their clients' TCP.
constexpr std::uint64_t kCutTickMs = 20;

// A cut that ends with bytes in flight (CutWait): visible in the log,
// because the DMs among them may now be read twice.
void log_unsettled_cut(chat::SessionId id, const CutWait& wait, CutStep step, const SendQueueSample& sample,
                       std::uint64_t now_ms) {
  const std::string why =
      step == CutStep::kStalled
          ? "its TCP acknowledged nothing for " + std::to_string(CutWait::kStallMs) + " ms"
          : "it was still reading after " + std::to_string(CutWait::kLimitMs) + " ms";
  log(LogLevel::kInfo, "connection " + std::to_string(id) + " cut after " +
                           std::to_string(now_ms - wait.start_ms()) + " ms with " +
                           std::to_string(sample.in_flight) + " bytes sent and not acknowledged (" + why +
                           "): the DMs among them stay queued and may be read twice");
}

}  // namespace

// A client that does not read what it is sent would make the server hold
// it all. Past --max-outbuf it is cut.
void Server::cut_too_slow() {
  std::vector<chat::SessionId> ids;
  ids.swap(too_slow_);
  for (const chat::SessionId id : ids) {
    const auto found = connections_.find(id);
    if (found == connections_.end()) continue;
    Connection& connection = *found->second;
    const std::string who = "connection " + std::to_string(id) + " from " + std::string(hub_.peer(id));
    const std::string seconds = std::to_string(Connection::kSoftLimitMs / 1000);
    if (connection.pending_bytes() > config_.max_outbuf) {
      log(LogLevel::kWarn, who + " too slow: " + std::to_string(connection.pending_bytes()) +
                               " bytes of output waiting, over " + std::to_string(config_.max_outbuf) +
                               " (--max-outbuf); closed");
    } else {
      log(LogLevel::kWarn, who + " too slow: took nothing of a replay or history for " + seconds +
                               " s (--max-outbuf); closed");
    }
    // Best effort: its socket buffer is most likely full.
    cut(connection,
        "server:error too-slow more than " + std::to_string(config_.max_outbuf) + " bytes waiting\n");
  }
}

// The end is a reset, which drops what the kernel holds for the client as
// well: DMs it had not acknowledged are still undelivered in the store and
// come back at its next registration, and those it had are not. It waits
// until nothing sent is still on its way to the client (CutWait). The
// session ends only then, so that registering the name again (which reads
// the queue) waits for the store to know which is which.
void Server::cut(Connection& connection, std::string last_words) {
  if (connection.state() == Connection::State::kCutting || connection.state() == Connection::State::kClosing)
    return;
  connection.begin_cut();
  cutting_.push_back(
      Cut{connection.id(), std::move(last_words), CutWait(uv_now(loop_), connection.send_queue())});
  if (!uv_is_active(reinterpret_cast<uv_handle_t*>(&cut_timer_))) {
    uv_timer_start(&cut_timer_, on_cut_timer, kCutTickMs, kCutTickMs);
  }
}

void Server::on_cut_timer(uv_timer_t* handle) { static_cast<Server*>(handle->data)->finish_cuts(); }

void Server::finish_cuts() {
  const std::uint64_t now = uv_now(loop_);
  std::vector<Cut> waiting;
  waiting.swap(cutting_);
  for (Cut& pending : waiting) {
    const auto found = connections_.find(pending.id);
    if (found == connections_.end() || found->second->state() != Connection::State::kCutting) continue;
    Connection& connection = *found->second;
    SendQueueSample sample = connection.send_queue();
    CutStep step = pending.wait.step(sample, now);
    if (step != CutStep::kWait && !pending.last_words.empty()) {
      connection.say_last_words(pending.last_words);
      pending.last_words.clear();
      sample = connection.send_queue();
      step = pending.wait.step(sample, now);
    }
    if (step == CutStep::kWait) {
      cutting_.push_back(std::move(pending));
      continue;
    }
    // The reset straight after the look that allowed it: should the
    // client's window open in between, the kernel sends more, which the
    // client may read although it counts as undelivered. So nothing comes
    // between them, and the hub's work (it ends the session and tells
    // others) follows the reset.
    connection.reset(sample.acknowledged);
    if (sample.in_flight > 0) log_unsettled_cut(pending.id, pending.wait, step, sample, now);
    hub_.disconnect(pending.id, effects_);
    apply_effects();
  }
  if (cutting_.empty()) uv_timer_stop(&cut_timer_);
}

}  // namespace uvchat::net
