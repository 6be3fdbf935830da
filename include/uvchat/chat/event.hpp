// What the hub tells a session, in no door's words.
//
// The hub decides what each session is told and emits it as an Event; the
// session's door (its codec, src/door/) renders it into that door's lines:
// `server:joined #team alice` for the native door, `:alice!alice@uvchat JOIN
// #team` for IRC, nothing at all for the classic dialect. One event sent to
// many sessions (a room line, presence) is one object shared by all of
// them, and each door renders it once: the lines are cached in the event
// (`rendered`), one set per style of rendering, and every session of that
// style shares them.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "uvchat/protocol/command.hpp"
#include "uvchat/recycler.hpp"
#include "uvchat/spare_pool.hpp"

namespace uvchat::chat {

using TimePoint = std::chrono::system_clock::time_point;
using Payload = std::shared_ptr<const std::string>;

// Lines of their own, in a block from the thread's Recycler.
inline Payload make_payload(std::string bytes) {
  return std::allocate_shared<const std::string>(Recycler<std::string>{}, std::move(bytes));
}

// An immutable text that whoever holds it shares: a chat line's text is
// one copy held by its event and by the store's insert (Hub::store_sent).
// A short text is copied into a block of its own from the thread's
// Recycler (a type of its own, so that the store's batches, which hold
// thousands of them, do not drain the StringPool the lines are rendered
// into); a longer one, or a string given whole, is a Payload.
class SharedText {
 public:
  SharedText() = default;

  static SharedText copy_of(std::string_view text) {
    if (text.size() > kInline) return of(std::string(text));
    auto block = std::allocate_shared<Inline>(Recycler<Inline>{});
    text.copy(block->bytes, text.size());
    SharedText shared;
    shared.view_ = std::string_view(block->bytes, text.size());
    shared.owner_ = std::move(block);
    return shared;
  }
  static SharedText of(std::string text) {
    SharedText shared;
    Payload lines = make_payload(std::move(text));
    shared.view_ = *lines;
    shared.owner_ = std::move(lines);
    shared.whole_string_ = true;
    return shared;
  }

  // `text`, which `owner` holds and keeps as it is for as long as it lives
  // (Hub::store_sent: a message's text in its store request).
  static SharedText held_by(std::shared_ptr<const void> owner, std::string_view text) {
    SharedText shared;
    shared.owner_ = std::move(owner);
    shared.view_ = text;
    return shared;
  }

  explicit operator bool() const { return owner_ != nullptr; }
  std::string_view view() const { return view_; }
  // The text as lines of their own: its own block when that is a string,
  // else a copy.
  Payload payload() const {
    if (whole_string_) return std::static_pointer_cast<const std::string>(owner_);
    return make_payload(std::string(view_));
  }

 private:
  static constexpr std::size_t kInline = 128;
  struct Inline {
    char bytes[kInline];
  };
  std::shared_ptr<const void> owner_;
  std::string_view view_;       // all of what owner_ holds
  bool whole_string_ = false;  // owner_ is a const std::string
};

enum class MessageKind { kDirect, kRoom, kBroadcast };

enum class EventKind : std::uint8_t {
  kWelcome,         // name: the session is registered as `name`; count: users online now
  kChat,            // a message: scope, when, sender, target, text, replayed
  kQueued,          // name: the DM the session sent to `name`, offline, is stored for later
  kQueuedMessages,  // count: the replay of the offline queue starts, with this many DMs
  kHistory,         // target (a room if of_room, else a name; empty for scope kBroadcast), count: the history that follows
  kOnline,          // name came online
  kOffline,         // name went offline
  kJoined,          // name joined room target
  kLeft,            // name left room target; `quit`: because name went offline
  kMembers,         // names: the members of room target, sorted
  kUsers,           // names: the users online, sorted
  kRooms,           // names: the rooms there are, sorted; counts: their members
  kPong,
  kHelp,            // text: one line of the native door's help
  kMissed,          // count: lines the session was not sent while it lagged
  kBye,             // the session asked to leave; it closes after its answers
  kShutdown,        // the server is stopping
  kError,           // code, subject, text (the detail)
  kReply,           // text: lines a codec rendered itself, kept in order with the rest
};

// The number of ways to render an event that may be cached in it: one per
// door, one more for IRC with IRCv3 tags, and each of those framed for a
// WebSocket (door/codec.hpp numbers them).
inline constexpr std::size_t kRenderStyles = 8;

struct Event {
  EventKind kind = EventKind::kPong;
  // kChat
  MessageKind scope = MessageKind::kDirect;
  bool replayed = false;  // from the store: an offline queue or a history, shown with its date
  // kLeft
  bool quit = false;
  // kHistory
  bool of_room = false;
  // Sent to one session (a live DM, a welcome, an answer): its lines are
  // made for that session alone instead of cached in it, and the event
  // need not outlive the turn that sent it.
  bool one_recipient = false;
  protocol::ErrorCode code = protocol::ErrorCode::kUnknownCommand;
  TimePoint when{};
  std::size_t count = 0;
  std::string name;    // a user: the subject of kWelcome, kQueued, presence, joined/left
  std::string sender;  // kChat
  // kChat: the recipient of a DM or the room (without '#'), empty for a
  // broadcast; kJoined, kLeft, kMembers: the room; kHistory: room or name;
  // kError: the subject.
  std::string target;
  std::vector<std::string> names;
  std::vector<std::size_t> counts;

  Event() = default;
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  // kChat, kHelp, kReply; kError: the detail. Immutable and shared: a
  // message sent as it came has one copy of its text, which its event and
  // the store's insert both hold (Hub::store_sent). Read through text(),
  // set through set_text, so that a view of it cannot outlive it.
  std::string_view text() const { return text_.view(); }
  void set_text(SharedText text) { text_ = std::move(text); }
  void set_text(std::string text) { text_ = SharedText::of(std::move(text)); }
  // The text as lines of their own (kReply): not a copy.
  Payload text_payload() const { return text_ ? text_.payload() : make_payload({}); }

  // About how many bytes its lines take, whatever the door: what the hub
  // counts against a session's pages and backlog. The parts that vary, and
  // kFrame for the words and stamps around them (a native DM's line is
  // within a few bytes of it; an IRC line's prefix is longer).
  static constexpr std::size_t kFrame = 12;
  std::size_t weight() const {
    if (kind == EventKind::kChat) {
      return kFrame + sender.size() + text().size() + (scope == MessageKind::kRoom ? target.size() : 0);
    }
    std::size_t bytes = kFrame + name.size() + target.size() + text().size();
    for (const std::string& each : names) bytes += each.size() + 1;
    return bytes;
  }

  // The event's lines in each style, once rendered (see render_once): made
  // with the first, so that an event for one session carries none.
  struct Rendered {
    std::array<std::string, kRenderStyles> lines;
    std::uint8_t styles = 0;  // a bit for each style rendered
    static_assert(kRenderStyles <= 8, "a bit a style in `styles`");
    bool pooled = false;      // the lines are the StringPool's: a chat line's
    Rendered() = default;
    Rendered(const Rendered&) = delete;
    Rendered& operator=(const Rendered&) = delete;
    ~Rendered() {
      if (!pooled) return;
      for (std::string& each : lines) StringPool::give_back(std::move(each));
    }
  };
  mutable std::unique_ptr<Rendered> rendered;

  // The lines cached for `style`, or null when none were.
  const std::string* cached(std::size_t style) const {
    if (!rendered || (rendered->styles & (1U << style)) == 0) return nullptr;
    return &rendered->lines[style];
  }

 private:
  SharedText text_;
};

using EventRef = std::shared_ptr<const Event>;

// What a session's door asks of the hub beyond the events (Hub::set_traits).
struct SessionTraits {
  // The user's own room and broadcast lines come back to them, as everyone
  // else's do (the classic dialect shows a user their own MESSAGE:).
  bool echo = false;
  // At registration, after the offline queue, the last this many lines
  // said to everyone are replayed (kHistory with scope kBroadcast, then
  // the lines); 0: none. 16 bits, as SessionTraits sits in every session
  // (the option's bound is 500).
  std::int16_t lobby_history = 0;
};

// A string whose buffer comes from the thread's StringPool and goes back
// to it with the last reference.
struct PooledString {
  std::string text = StringPool::take();
  ~PooledString() { StringPool::give_back(std::move(text)); }
};

// For the lines made once a message (a DM, a room or broadcast line):
// `write(std::string&)` fills the line, and neither the shared block nor
// the characters come from malloc once the loop has warmed up.
template <typename Write>
Payload make_pooled_payload(Write&& write) {
  auto block = std::allocate_shared<PooledString>(Recycler<PooledString>{});
  std::forward<Write>(write)(block->text);
  return Payload(block, &block->text);  // shares the block's count
}

// A string from the StringPool for a chat event's text or lines. The pool
// holds both, so each is given room for either: a 64-byte text's line in
// any door fits, and a text taken after a line (or a line after a text)
// does not grow its string, which would cost a malloc and a free a message.
inline constexpr std::size_t kPooledCapacity = 128;
inline std::string pooled_string() {
  std::string text = StringPool::take();
  text.reserve(kPooledCapacity);
  return text;
}

// A new event. A chat line's block comes from the thread's Recycler, its
// text is shared (SharedText) and its lines come from the StringPool
// (render_once): a DM costs no malloc once the loop has warmed up. Other
// events come from the heap and go back to it: 10,000 arrivals make 20,000
// welcomes and queue counts at once, and a pool that kept their blocks
// would keep that burst's memory for good.
inline std::shared_ptr<Event> make_event(EventKind kind) {
  std::shared_ptr<Event> event =
      kind == EventKind::kChat ? std::allocate_shared<Event>(Recycler<Event>{}) : std::make_shared<Event>();
  event->kind = kind;
  return event;
}

// The lines of `event` in `style`: rendered by `render(std::string&)` the
// first time they are asked for, and shared by every later ask (the payload
// keeps the event alive). Null when the style has nothing to say for it.
template <typename Render>
Payload render_once(const EventRef& event, std::size_t style, Render&& render) {
  const bool chat = event->kind == EventKind::kChat;
  if (event->one_recipient) {
    Payload lines = chat ? make_pooled_payload([&](std::string& bytes) {
      bytes.reserve(kPooledCapacity);
      std::forward<Render>(render)(bytes);
    })
                         : [&] {
                             std::string bytes;
                             std::forward<Render>(render)(bytes);
                             return make_payload(std::move(bytes));
                           }();
    return lines->empty() ? nullptr : lines;
  }
  if (!event->rendered) {
    event->rendered = std::make_unique<Event::Rendered>();
    event->rendered->pooled = chat;
  }
  Event::Rendered& cache = *event->rendered;
  const auto bit = static_cast<std::uint8_t>(1U << style);
  std::string& lines = cache.lines[style];
  if ((cache.styles & bit) == 0) {
    if (chat) lines = pooled_string();
    std::forward<Render>(render)(lines);
    cache.styles |= bit;
  }
  if (lines.empty()) return nullptr;
  return Payload(event, &lines);
}

}  // namespace uvchat::chat
