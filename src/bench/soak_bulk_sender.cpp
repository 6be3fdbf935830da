#include "soak_bulk_sender.hpp"

#include <cstdint>

#include "driver.hpp"
#include "soak_dm_book.hpp"
#include "soak_queue_feed.hpp"
#include "wire.hpp"

namespace uvchat::bench {
namespace {

constexpr std::uint64_t kBatchDms = 16;
constexpr std::uint64_t kBatchesInFlight = 2;
constexpr std::uint64_t kOnlineEveryMs = 500;
constexpr std::uint64_t kIdleLookMs = 250;  // anyone to send to yet?
constexpr std::uint64_t kShortestSessionMs = 20'000;
constexpr std::uint64_t kLongestSessionMs = 60'000;
constexpr std::uint64_t kShortestAbsenceMs = 1'000;
constexpr std::uint64_t kLongestAbsenceMs = 3'000;

}  // namespace

BulkSender::BulkSender(SoakContext& context, std::uint32_t slot)
    : SoakClient(context, Role::kBulkSender, slot),
      sender_(context.book.bulk_sender(slot)),
      retry_(context.driver.loop()) {}

void BulkSender::session_began() {
  sending_ = false;
  batches_unanswered_ = 0;
  ++context_.stats.bulk_sessions;
  send_line("server:register " + name_);
}

// Presence needs nothing.
void BulkSender::line_arrived(std::string_view line) {
  const auto event = parse_server_event(line);
  if (!event) return;
  if (event->event == "queued-messages" && !sending_ && !leaving()) {
    start_sending();
  } else if (event->event == "queued") {
    take_answer(line, event->args, /*queued=*/true);
  } else if (event->event == "pong") {
    take_pong();
  } else if (event->event == "bye") {
    settle_live(answers_.take_all());
  } else if (event->event == "missed") {
    note_missed(line, event->args);
  } else if (event->event == "error") {
    take_error(line, event->args);
  } else if (event->event == "shutdown") {
    fail(line);
  }
}

void BulkSender::start_sending() {
  sending_ = true;
  pacer_.start(random_between(kShortestSessionMs, kLongestSessionMs), [this] {
    retry_.stop();
    if (chance(0.5)) {
      leave();
    } else {
      client().reset();
    }
  });
  top_up();
}

// Batches until kBatchesInFlight are unanswered, as long as someone wants
// DMs; else a look again a little later.
void BulkSender::top_up() {
  while (!leaving() && batches_unanswered_ < kBatchesInFlight) {
    batch_.clear();
    for (std::uint64_t i = 0; i < kBatchDms; ++i) {
      const auto feed = context_.feed.pick(random_between(0, UINT32_MAX));
      if (!feed || (!feed->away && (i > 0 || now_ms() < next_online_ms_))) break;
      if (!feed->away) next_online_ms_ = now_ms() + kOnlineEveryMs;
      answers_.dm_sent(context_.book.write_to(sender_, feed->identity, line_));
      batch_.append(line_).push_back('\n');
      ++context_.stats.bulk_dms;
      context_.stats.bulk_dm_bytes += line_.size() + 1;
    }
    if (batch_.empty()) {
      if (batches_unanswered_ == 0) retry_.start(kIdleLookMs, [this] { top_up(); });
      return;
    }
    batch_.append("server:ping\n");
    answers_.ping_sent(now_ms());
    send_bytes(batch_);
    ++batches_unanswered_;
  }
}

// A DM may be refused (a queue is full); nothing else it sends should be.
void BulkSender::take_error(std::string_view line, std::string_view args) {
  if (error_code(args) == "queue-full") {
    take_answer(line, error_subject(args), /*queued=*/false);
  } else {
    fail(line);
  }
}

void BulkSender::take_answer(std::string_view line, std::string_view recipient_name, bool queued) {
  if (!settle_answer(answers_, context_.book, recipient_name, queued)) {
    fail("an answer to no DM that waits for one: " + std::string(line));
  }
}

void BulkSender::take_pong() {
  const auto settled = answers_.take_pong();
  if (!settled || batches_unanswered_ == 0) {
    fail("a pong to no ping");
    return;
  }
  --batches_unanswered_;
  settle_live(settled->live);
  top_up();
}

void BulkSender::settle_live(const std::vector<SoakDm>& dms) {
  for (const SoakDm& dm : dms) context_.book.acknowledge(dm, Acknowledgement::kLive);
}

// Without a `bye` (its own reset), what became of the DMs still unanswered
// is unknown.
std::optional<std::uint64_t> BulkSender::session_ended(CloseReason reason, std::string_view error) {
  retry_.stop();
  sending_ = false;
  check_close(reason, error);
  for (const SoakDm& dm : answers_.take_all()) context_.book.forget(dm);
  return random_between(kShortestAbsenceMs, kLongestAbsenceMs);
}

}  // namespace uvchat::bench
