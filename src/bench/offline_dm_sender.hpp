// A sender of DMs to users who are offline, for the offline scenario.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "line_client.hpp"
#include "message_text.hpp"
#include "wire.hpp"

namespace uvchat::bench {

class Driver;
class Ledger;
struct Report;

inline constexpr std::string_view kOfflineRecipientPrefix = "bench-r-";
inline constexpr std::string_view kOfflineSenderPrefix = "bench-s-";

// Each sender goes round the recipients, starting at its own number so that
// the senders do not all write to the same queue at once. The verification
// uses this to check that a message reached the right recipient.
std::uint32_t offline_recipient_of(MessageKey key, std::uint32_t recipients);

// Registers as bench-s-INDEX; once started, sends DMs with at most `window`
// of them unanswered. The server answers each DM with `server:queued NAME`
// once it is on disk, or with `server:error CODE NAME...`; the sender counts
// the answers per recipient (see Ledger for why not per message).
class OfflineDmSender final : public LineHandler {
 public:
  using Clock = std::chrono::steady_clock;

  struct Plan {
    std::uint32_t index = 0;
    std::uint32_t recipients = 1;
    std::uint64_t quota = 0;  // messages to send, unless the deadline comes first
    std::uint32_t window = 1;
    std::size_t text_size = 64;
  };

  OfflineDmSender(Driver& driver, Report& report, Ledger& ledger, const Plan& plan);

  void connect() { client_.connect(); }
  // Welcomed, and its own queue (if any) read.
  bool registered() const { return registered_; }
  // Starts sending. With a deadline (loop time, ms) it sends nothing after
  // it and finishes once what is in flight has been answered.
  void start(std::optional<std::uint64_t> deadline_ms);
  // Every DM it sent has been answered, or its connection has ended.
  bool finished() const { return finished_ || client_.closed(); }
  // When the last answer came; null if none did.
  std::optional<Clock::time_point> last_answer_at() const { return last_answer_at_; }

 private:
  void on_connected() override;
  void on_line(std::string_view line) override;
  void on_closed(CloseReason reason, std::string_view error) override;

  void take_event(std::string_view line, const ServerEvent& event);
  void take_answer(std::string_view line, bool queued, std::string_view recipient);
  std::optional<std::uint32_t> recipient_awaiting_answer(std::string_view name) const;
  void fill_window();
  bool may_send_more() const;
  void send_next();
  std::uint64_t in_flight() const { return sent_ - answered_; }
  std::string what(std::string_view detail) const;

  Driver& driver_;
  Report& report_;
  Ledger& ledger_;
  Plan plan_;
  std::string name_;
  std::optional<std::uint64_t> deadline_ms_;
  bool registered_ = false;
  bool started_ = false;
  std::uint64_t sent_ = 0;  // also the next sequence number
  std::uint64_t answered_ = 0;
  std::vector<std::uint64_t> sent_to_;      // by recipient
  std::vector<std::uint64_t> answered_by_;  // by recipient
  bool finished_ = false;
  std::optional<Clock::time_point> last_answer_at_;
  std::string line_;  // reused for each DM, so sending allocates nothing
  LineClient client_;
};

}  // namespace uvchat::bench
