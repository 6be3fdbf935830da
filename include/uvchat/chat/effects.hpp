// What the hub asks the shell to do, and what the shell reports back. The
// hub decides; the shell executes. All plain data: no libuv, no SQLite.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <utility>
#include <vector>

#include "uvchat/chat/event.hpp"
#include "uvchat/log.hpp"
#include "uvchat/recycler.hpp"
#include "uvchat/spare_pool.hpp"

namespace uvchat::chat {

using SessionId = std::uint64_t;
using MessageId = std::int64_t;  // 0: none

// Payload, make_payload (event.hpp): the bytes of one or more whole lines.
// A line sent to many sessions is built once and shared by all of them.

using uvchat::LogLevel;

// ---- Requests to the message store (run in order, on the store thread) ----

struct MessageRecord {
  MessageId id = 0;
  TimePoint received_at;
  std::string sender;
  MessageKind kind = MessageKind::kDirect;
  std::string target;  // recipient, room without '#', or empty
  std::string text;
};

// Stores a message. With a ticket, the hub hears (StoreAck) once the
// transaction holding it has committed and is on disk, or failed.
struct InsertMessage {
  MessageRecord message;
  std::uint64_t ticket = 0;
  // A message sent as it came (a live DM, a room or broadcast line) and
  // no longer than kInline: its text is here, not in message.text, and the
  // event its recipients are sent shares it, holding this request's block
  // (Hub::store_sent). One copy of the text, and no block more than the
  // request: the store holds thousands of requests until a batch is freed
  // (docs/BENCHMARKS.md, "The native door before and after the event
  // boundary").
  static constexpr std::size_t kInline = 128;
  std::array<char, kInline> inline_text{};
  std::uint8_t inline_size = 0;

  std::string_view text() const {
    return inline_size != 0 ? std::string_view(inline_text.data(), inline_size) : std::string_view(message.text);
  }
  // Sets the text; it must not change once an event shares it.
  void set_text(std::string_view text) {
    if (text.size() > kInline || text.empty()) {
      message.text.assign(text);
      return;
    }
    text.copy(inline_text.data(), text.size());
    inline_size = static_cast<std::uint8_t>(text.size());
  }
  // The message with its text, whichever way it is held.
  MessageRecord record() const {
    MessageRecord copy = message;
    if (inline_size != 0) copy.text = text();
    return copy;
  }
};
struct MarkDelivered {
  std::vector<MessageId> ids;
  TimePoint when;
};
struct TouchUser {
  std::string name;
  TimePoint when;
  // Users touched right after it, in order. The hub never sets this: the
  // store worker folds a run of TouchUser into the first (StoreWorker::
  // submit), so that a crowd arriving costs tens of bytes a name while it
  // waits, not a whole request each.
  std::vector<std::pair<std::string, TimePoint>> more;
};
// With a ticket, the hub hears (StoreAck) once the hash is on disk, or
// could not be put there.
struct SetPasswordHash {
  std::string name;
  std::string hash;
  std::uint64_t ticket = 0;
};
// One page of the undelivered DMs to `user`, for the session registered as
// it: those with after < id <= up_to, oldest first, at most max_count of
// them and no more than max_bytes of text (at least one, however long). A
// queue of any length is replayed page by page, each asked for once the
// session's output has room (Hub::on_output_drained).
struct FetchQueued {
  SessionId session = 0;
  std::string user;
  std::uint64_t ticket = 0;  // the answer's place in the session's output
  MessageId after = 0;
  MessageId up_to = 0;
  std::size_t max_count = 256;
  std::size_t max_bytes = 256 * 1024;
  bool count_total = false;  // the first page: count every DM up to up_to too
};
// A room's last messages, the DMs between `asker` and `target`, or (with
// of_broadcast) the last lines to everyone.
struct FetchHistory {
  SessionId session = 0;
  bool of_room = false;
  std::string target;
  std::string asker;
  int limit = 0;
  MessageId up_to = 0;
  bool for_join = false;     // the replay after server:join: silent when empty
  std::uint64_t ticket = 0;  // the answer's place in the session's output
  bool of_broadcast = false;
};
// Retention: delivered messages received before `cutoff` go.
struct DeleteDeliveredBefore {
  TimePoint cutoff;
};
using StoreRequest = std::variant<InsertMessage, MarkDelivered, TouchUser, SetPasswordHash, FetchQueued, FetchHistory,
                                  DeleteDeliveredBefore>;

// ---- What comes back from the store ----

struct StoreAck {
  std::uint64_t ticket = 0;
  bool committed = false;
};
struct QueuedFetched {
  FetchQueued request;
  bool ok = false;
  std::vector<MessageRecord> messages;  // oldest first
  bool more = false;       // DMs up to request.up_to remain after these
  std::size_t total = 0;   // with request.count_total: every DM up to up_to
};
struct HistoryFetched {
  FetchHistory request;
  bool ok = false;
  std::vector<MessageRecord> messages;  // oldest first
};
using StoreResult = std::variant<StoreAck, QueuedFetched, HistoryFetched>;

// ---- Password work (slow: off the loop thread) ----

struct HashPassword {
  SessionId session = 0;
  std::string name;
  std::string password;
};
struct VerifyPassword {
  SessionId session = 0;
  std::string name;
  std::string password;
  std::string hash;
  // A wrong password is reported only after this long, so that guessing is
  // slow; the loop is not blocked meanwhile.
  std::chrono::milliseconds failure_delay{0};
};

// ---- Effects ----

enum class EffectKind {
  kSend,            // render `event` in the session's door and queue it
  kClose,           // close the session once what is queued for it has been sent
  kLog,             // log payload (text, no line end) at level
  kStore,           // hand `store` to the store worker
  kHashPassword,    // hash `hash_password` off the loop, then Hub::on_password_hashed
  kVerifyPassword,  // verify off the loop, then Hub::on_password_checked
  kPauseInput,      // read no more lines from the session until kResumeInput
  kResumeInput,
  // Call Hub::on_output_drained once the session's output that is not yet
  // in its socket is down to HubConfig::page_bytes: the hub has more of an
  // answer (a page of a replay, of a history) to send it then.
  kWatchOutput,
};

struct Effect {
  EffectKind kind = EffectKind::kSend;
  SessionId session = 0;
  EventRef event;   // kSend
  Payload payload;  // kLog
  // kSend of a DM: the shell reports the id (Hub::on_delivered) once the
  // bytes have been handed to the socket.
  MessageId message_id = 0;
  LogLevel level = LogLevel::kInfo;
  std::shared_ptr<StoreRequest> store;
  std::shared_ptr<HashPassword> hash_password;
  std::shared_ptr<VerifyPassword> verify_password;
};

using Effects = std::vector<Effect>;

}  // namespace uvchat::chat
