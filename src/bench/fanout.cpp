#include "fanout.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "driver.hpp"
#include "idle.hpp"
#include "line_client.hpp"
#include "message_text.hpp"
#include "option_values.hpp"
#include "wire.hpp"

namespace uvchat::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::string_view kRoom = "#bench-fanout";
constexpr std::string_view kReceiverPrefix = "bench-fan-r-";
constexpr std::string_view kSenderPrefix = "bench-fan-s-";

// Leaves room in a line of the server's default --max-line (4096) for
// "#bench-fanout:" in front of the text.
constexpr std::uint64_t kMaxTextSize = 4000;
// Enough to keep the server busy, and well within its listen backlog (511).
constexpr std::uint32_t kJoiningAtOnce = 256;
// The book keeps 8 bytes per receiver and sender.
constexpr std::uint64_t kMaxReceiversTimesSenders = 10'000'000;

bool same_ignoring_case(std::string_view a, std::string_view b) {
  return std::ranges::equal(a, b, [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
  });
}

std::string describe_key(MessageKey key) {
  return "s" + std::to_string(key.sender) + " n" + std::to_string(key.sequence);
}

// What each receiver has read of each sender's messages. The server keeps
// each sender's order in what it sends a member, so a receiver needs only
// the number it expects next from each sender: an older one is a repeat,
// and a newer one means that the ones in between were skipped. Skipped
// messages count as lost (and as repeats too, should they come later).
//
// A sender's window is what it has sent that some receiver has not read
// yet. `read_by_` counts, for each message in a window, the receivers that
// have read it or skipped past it (so that a loss does not hold the window
// shut); a window slides once every receiver has.
class FanoutBook {
 public:
  enum class Arrival { kNext, kAhead, kRepeat, kNeverSent };

  FanoutBook(std::uint32_t receivers, std::uint32_t senders, std::uint32_t window)
      : receivers_(receivers),
        senders_(senders),
        window_(window),
        sent_(senders, 0),
        read_by_all_(senders, 0),
        read_by_(std::size_t{senders} * window, 0),
        next_expected_(std::size_t{receivers} * senders, 0) {}

  // Returns the new message's sequence number.
  std::uint64_t record_sent(std::uint32_t sender) { return sent_[sender]++; }
  Arrival record_delivered(std::uint32_t receiver, MessageKey key);

  std::uint64_t sent() const;
  // Sent by `sender` and not yet read by every receiver.
  std::uint64_t unread(std::uint32_t sender) const { return sent_[sender] - read_by_all_[sender]; }
  // Messages read in order, by all receivers together.
  std::uint64_t deliveries() const { return deliveries_; }
  std::uint64_t repeats() const { return repeats_; }
  // Sent and never read, by all receivers together.
  std::uint64_t lost() const;

 private:
  std::uint64_t& next_expected(std::uint32_t receiver, std::uint32_t sender) {
    return next_expected_[std::size_t{receiver} * senders_ + sender];
  }
  void count_read(std::uint32_t sender, std::uint64_t sequence);

  std::uint32_t receivers_;
  std::uint32_t senders_;
  std::uint32_t window_;
  std::vector<std::uint64_t> sent_;           // by sender
  std::vector<std::uint64_t> read_by_all_;    // by sender: where its window starts
  std::vector<std::uint32_t> read_by_;        // by sender, then sequence % window
  std::vector<std::uint64_t> next_expected_;  // by receiver, then sender
  std::uint64_t deliveries_ = 0;
  std::uint64_t skipped_ = 0;
  std::uint64_t repeats_ = 0;
};

FanoutBook::Arrival FanoutBook::record_delivered(std::uint32_t receiver, MessageKey key) {
  if (key.sender >= senders_ || key.sequence >= sent_[key.sender]) return Arrival::kNeverSent;
  std::uint64_t& next = next_expected(receiver, key.sender);
  if (key.sequence < next) {
    ++repeats_;
    return Arrival::kRepeat;
  }
  const std::uint64_t skipped = key.sequence - next;
  skipped_ += skipped;
  for (; next <= key.sequence; ++next) count_read(key.sender, next);
  ++deliveries_;
  return skipped == 0 ? Arrival::kNext : Arrival::kAhead;
}

// A sender never has more than `window_` messages unread, so the ones in
// its window have a slot each.
void FanoutBook::count_read(std::uint32_t sender, std::uint64_t sequence) {
  std::uint32_t* const read_by = &read_by_[std::size_t{sender} * window_];
  ++read_by[sequence % window_];
  std::uint64_t& start = read_by_all_[sender];
  while (start < sent_[sender] && read_by[start % window_] == receivers_) {
    read_by[start % window_] = 0;
    ++start;
  }
}

std::uint64_t FanoutBook::sent() const {
  std::uint64_t total = 0;
  for (const std::uint64_t count : sent_) total += count;
  return total;
}

std::uint64_t FanoutBook::lost() const {
  std::uint64_t never_read = skipped_;
  for (std::size_t member = 0; member < next_expected_.size(); ++member) {
    never_read += sent_[member % senders_] - next_expected_[member];
  }
  return never_read;
}

// A user who registers, joins the room once welcome (IRC refuses a JOIN
// before), and hands on every chat line it gets. The server's other lines
// (others' joins, members, history, presence) mean nothing to this
// scenario, except errors.
class RoomMember final : public LineHandler {
 public:
  using ChatSink = std::function<void(std::string_view line, const Heard& heard)>;
  using SettledCallback = std::function<void()>;

  RoomMember(Driver& driver, Report& report, const Dialect& dialect, std::string name, ChatSink on_chat,
             SettledCallback on_settled)
      : report_(report),
        dialect_(dialect),
        name_(std::move(name)),
        on_chat_(std::move(on_chat)),
        on_settled_(std::move(on_settled)),
        client_(driver, *this) {
    client_.use_websocket(dialect.over_websocket());
  }

  void join() { client_.connect(); }
  bool closed() const { return client_.closed(); }
  // The server answers a ping after everything it queued for the member
  // before it.
  void ping() {
    std::string line;
    dialect_.append_ping(line);
    client_.send_bytes(line);
  }
  bool ponged() const { return ponged_; }
  // Whole lines, line ends included (Dialect).
  void send_bytes(std::string_view lines) { client_.send_bytes(lines); }

 private:
  void on_connected() override {
    std::string lines;
    dialect_.append_register(lines, name_);
    client_.send_bytes(lines);
  }

  // Others' joins come too: only the member's own says it is in the room.
  void on_line(std::string_view line) override {
    const Heard heard = dialect_.hear(line);
    switch (heard.kind) {
      case Heard::Kind::kChat: on_chat_(line, heard); break;
      case Heard::Kind::kWelcome: {
        std::string join;
        dialect_.append_join(join, kRoom);
        client_.send_bytes(join);
        break;
      }
      case Heard::Kind::kJoined:
        if (same_ignoring_case(heard.name, name_) && same_ignoring_case(heard.room, kRoom)) settle();
        break;
      case Heard::Kind::kPong: ponged_ = true; break;
      case Heard::Kind::kRefused: report_.add_error(name_ + ": " + std::string(line)); break;
      case Heard::Kind::kQueueCount:
      case Heard::Kind::kUndelivered:
      case Heard::Kind::kOther: break;
    }
  }

  void on_closed(CloseReason reason, std::string_view error) override {
    if (reason == CloseReason::kError) {
      report_.add_error(name_ + ": " + std::string(error));
    } else if (reason == CloseReason::kByServer) {
      report_.add_error(name_ + ": the server closed the connection");
    }
    settle();
  }

  // In the room, or never going to be.
  void settle() {
    if (settled_) return;
    settled_ = true;
    on_settled_();
  }

  Report& report_;
  const Dialect& dialect_;
  std::string name_;
  ChatSink on_chat_;
  SettledCallback on_settled_;
  bool settled_ = false;
  bool ponged_ = false;
  LineClient client_;
};

// Sends one sender's room messages through its member, with at most
// `window` of them unread by some receiver. The messages other senders send
// to the room reach it too, and are not checked: the receivers do that.
class RoomSender {
 public:
  struct Plan {
    std::uint32_t index = 0;
    std::uint64_t quota = 0;  // messages to send, unless the deadline comes first
    std::uint32_t window = 1;
    std::size_t text_size = 64;
  };

  RoomSender(Driver& driver, Report& report, const Dialect& dialect, FanoutBook& book, const Plan& plan,
             RoomMember::SettledCallback on_settled)
      : driver_(driver),
        dialect_(dialect),
        book_(book),
        plan_(plan),
        member_(
            driver, report, dialect, indexed_name(kSenderPrefix, plan.index),
            [](std::string_view, const Heard&) {}, std::move(on_settled)) {}

  RoomMember& member() { return member_; }

  // With a deadline (loop time, ms) it sends nothing after it, and finishes
  // once every receiver has read what it sent.
  void start(std::optional<std::uint64_t> deadline_ms) {
    deadline_ms_ = deadline_ms;
    started_ = true;
    fill_window();
  }

  void fill_window() {
    while (book_.unread(plan_.index) < plan_.window && may_send_more()) send_next();
  }

  bool finished() const { return member_.closed() || (book_.unread(plan_.index) == 0 && !may_send_more()); }

 private:
  bool may_send_more() const {
    if (!started_ || sent_ >= plan_.quota) return false;
    return !deadline_ms_ || driver_.now_ms() < *deadline_ms_;
  }

  void send_next() {
    const MessageKey key{plan_.index, book_.record_sent(plan_.index)};
    ++sent_;
    line_.clear();
    dialect_.begin_say(line_, kRoom);
    append_message_text(line_, key, plan_.text_size);
    dialect_.end_line(line_);
    member_.send_bytes(line_);
  }

  Driver& driver_;
  const Dialect& dialect_;
  FanoutBook& book_;
  Plan plan_;
  std::optional<std::uint64_t> deadline_ms_;
  bool started_ = false;
  std::uint64_t sent_ = 0;
  std::string line_;  // reused for each message, so sending allocates nothing
  RoomMember member_;
};

class FanoutRun {
 public:
  FanoutRun(Driver& driver, const FanoutConfig& config)
      : driver_(driver),
        config_(config),
        dialect_(config.door),
        book_(config.receivers, config.senders, config.window) {}

  Report run();

 private:
  void describe_parameters();
  void create_members();
  RoomSender::Plan plan_for(std::uint32_t sender) const;
  bool join_everyone();
  void join_more();
  void on_member_settled();
  bool drain_announcements();
  bool everyone_ponged();
  bool send_timed();
  bool all_senders_finished() const;
  void measure(Clock::time_point started, std::optional<std::uint64_t> cpu_before,
               std::optional<std::uint64_t> own_cpu_before);
  void take_delivery(std::uint32_t receiver, std::string_view line, const Heard& heard);
  std::optional<MessageKey> key_of(const Heard& heard) const;
  void count_arrival(std::uint32_t receiver, MessageKey key, std::string_view line);

  Driver& driver_;
  FanoutConfig config_;
  Dialect dialect_;
  Report report_;
  FanoutBook book_;
  std::vector<std::unique_ptr<RoomMember>> receivers_;
  std::vector<std::unique_ptr<RoomSender>> senders_;
  std::vector<RoomMember*> to_join_;  // the receivers, then the senders
  std::size_t next_to_join_ = 0;
  std::size_t settled_ = 0;
  std::size_t ponged_ = 0;  // to_join_[0, ponged_) have their pong
  bool admitting_ = false;  // only while joining: a failed phase closes the rest unjoined
  Clock::time_point last_delivery_at_;
};

Report FanoutRun::run() {
  describe_parameters();
  if (!make_room_for_connections(std::uint64_t{config_.receivers} + config_.senders, report_)) return report_;
  create_members();
  if (join_everyone() && drain_announcements()) send_timed();
  report_.lost = book_.lost();
  report_.duplicated = book_.repeats();
  driver_.close_all_clients();
  return report_;
}

void FanoutRun::describe_parameters() {
  report_.scenario = "fanout";
  report_.unit = "deliveries/s";
  auto& parameters = report_.parameters;
  parameters.push_back(count_field("receivers", config_.receivers));
  parameters.push_back(count_field("senders", config_.senders));
  if (config_.seconds > 0) {
    parameters.push_back({"seconds", config_.seconds});
  } else {
    parameters.push_back(count_field("messages", config_.messages));
  }
  parameters.push_back(count_field("window", config_.window));
  parameters.push_back(count_field("size", config_.text_size));
  // Only when it is not the native door, whose JSON stays as it was.
  if (config_.door != Door::kNative) parameters.push_back({"door", std::string(door_name(config_.door))});
}

void FanoutRun::create_members() {
  const auto on_settled = [this] { on_member_settled(); };
  for (std::uint32_t index = 0; index < config_.receivers; ++index) {
    auto on_chat = [this, index](std::string_view line, const Heard& heard) {
      take_delivery(index, line, heard);
    };
    receivers_.push_back(std::make_unique<RoomMember>(
        driver_, report_, dialect_, indexed_name(kReceiverPrefix, index), std::move(on_chat), on_settled));
    to_join_.push_back(receivers_.back().get());
  }
  for (std::uint32_t index = 0; index < config_.senders; ++index) {
    senders_.push_back(
        std::make_unique<RoomSender>(driver_, report_, dialect_, book_, plan_for(index), on_settled));
    to_join_.push_back(&senders_.back()->member());
  }
}

RoomSender::Plan FanoutRun::plan_for(std::uint32_t sender) const {
  RoomSender::Plan plan;
  plan.index = sender;
  plan.quota = config_.seconds > 0 ? std::numeric_limits<std::uint64_t>::max() : config_.messages;
  plan.window = config_.window;
  plan.text_size = config_.text_size;
  return plan;
}

bool FanoutRun::join_everyone() {
  admitting_ = true;
  join_more();
  const bool joined = driver_.run_until("joining the room",
                                        [&] { return report_.errors > 0 || settled_ == to_join_.size(); });
  admitting_ = false;
  return joined && report_.errors == 0;
}

void FanoutRun::join_more() {
  while (admitting_ && next_to_join_ < to_join_.size() && next_to_join_ - settled_ < kJoiningAtOnce) {
    to_join_[next_to_join_++]->join();
  }
}

void FanoutRun::on_member_settled() {
  ++settled_;
  join_more();
}

// Every join is announced to every member, and the joiner gets the list of
// members: the early joiners have megabytes of that still coming when the
// last one is in. The timed part must not count the time to read it.
bool FanoutRun::drain_announcements() {
  for (RoomMember* member : to_join_) member->ping();
  const bool drained = driver_.run_until("reading the announcements of the joins",
                                         [&] { return report_.errors > 0 || everyone_ponged(); });
  return drained && report_.errors == 0;
}

// Amortized over the phase, each member is looked at once.
bool FanoutRun::everyone_ponged() {
  while (ponged_ < to_join_.size() && to_join_[ponged_]->ponged()) ++ponged_;
  return ponged_ == to_join_.size();
}

// The timed part: from the first message sent to the last delivery.
bool FanoutRun::send_timed() {
  std::optional<std::uint64_t> deadline_ms;
  if (config_.seconds > 0) {
    deadline_ms = driver_.now_ms() + static_cast<std::uint64_t>(config_.seconds * 1000);
  }
  const std::optional<std::uint64_t> cpu_before = driver_.server_probe().cpu_microseconds();
  const std::optional<std::uint64_t> own_cpu_before = own_cpu_microseconds();
  const Clock::time_point started = Clock::now();
  last_delivery_at_ = started;
  for (const auto& sender : senders_) sender->start(deadline_ms);
  const bool sent =
      driver_.run_until("sending", [&] { return report_.errors > 0 || all_senders_finished(); });
  measure(started, cpu_before, own_cpu_before);
  return sent;
}

bool FanoutRun::all_senders_finished() const {
  return std::ranges::all_of(senders_, [](const auto& sender) { return sender->finished(); });
}

void FanoutRun::measure(Clock::time_point started, std::optional<std::uint64_t> cpu_before,
                        std::optional<std::uint64_t> own_cpu_before) {
  const std::optional<std::uint64_t> cpu_after = driver_.server_probe().cpu_microseconds();
  const std::optional<std::uint64_t> own_cpu_after = own_cpu_microseconds();
  report_.seconds = std::chrono::duration<double>(last_delivery_at_ - started).count();
  report_.messages = book_.deliveries();
  report_.metrics.push_back(count_field("sent", book_.sent()));
  if (const auto per_delivery = cpu_per_unit(cpu_before, cpu_after, book_.deliveries())) {
    report_.metrics.push_back({"server_cpu_us_per_delivery", *per_delivery});
  }
  if (const auto per_delivery = cpu_per_unit(own_cpu_before, own_cpu_after, book_.deliveries())) {
    report_.metrics.push_back({"bench_cpu_us_per_delivery", *per_delivery});
  }
}

void FanoutRun::take_delivery(std::uint32_t receiver, std::string_view line, const Heard& heard) {
  // The history of the room (--history) replays earlier runs' messages.
  if (heard.replayed) return;
  const std::optional<MessageKey> key = key_of(heard);
  if (!key) {
    report_.add_corrupt(indexed_name(kReceiverPrefix, receiver) + " got '" + std::string(line) + "'");
    return;
  }
  count_arrival(receiver, *key, line);
}

// The key of a room message if it is intact and from the sender its text
// names.
std::optional<MessageKey> FanoutRun::key_of(const Heard& heard) const {
  if (heard.name.empty() || !same_ignoring_case(heard.room, kRoom)) return std::nullopt;
  const std::optional<MessageKey> key = parse_message_text(heard.text, config_.text_size);
  if (!key || name_index(kSenderPrefix, heard.name) != key->sender) return std::nullopt;
  return key;
}

void FanoutRun::count_arrival(std::uint32_t receiver, MessageKey key, std::string_view line) {
  switch (book_.record_delivered(receiver, key)) {
    case FanoutBook::Arrival::kNext: break;
    case FanoutBook::Arrival::kAhead:
      report_.add_error(indexed_name(kReceiverPrefix, receiver) + " got " + describe_key(key) +
                        " before the messages of that sender just before it");
      break;
    case FanoutBook::Arrival::kRepeat: return;
    case FanoutBook::Arrival::kNeverSent:
      report_.add_corrupt(indexed_name(kReceiverPrefix, receiver) + " got a message never sent: '" +
                          std::string(line) + "'");
      return;
  }
  last_delivery_at_ = Clock::now();
  senders_[key.sender]->fill_window();
}

}  // namespace

void add_fanout_options(cxxopts::Options& parser) {
  const FanoutConfig defaults;
  // clang-format off
  parser.add_options("fanout")
    ("receivers", "Room members that read and check every message (bench-fan-r-N)", number_option(defaults.receivers), "R")
    ("senders", "Room members that send (bench-fan-s-N)", number_option(defaults.senders), "S")
    ("messages", "Room messages per sender", number_option(defaults.messages), "M")
    ("seconds", "Send for T seconds instead (then drain); 0: send --messages", number_option(0), "T")
    ("window", "Per sender: messages not yet read by every receiver", number_option(defaults.window), "W")
    ("size", "Bytes of text per message (at most 4000; 400 with --door irc)", number_option(defaults.text_size), "BYTES");
  // clang-format on
}

ScenarioRun configure_fanout(const cxxopts::ParseResult& options) {
  FanoutConfig config;
  config.receivers = static_cast<std::uint32_t>(whole_number(options, "receivers", 1, 1'000'000));
  config.senders = static_cast<std::uint32_t>(whole_number(options, "senders", 1, 10'000));
  config.messages = whole_number(options, "messages", 1, 1'000'000'000);
  config.seconds = real_number(options, "seconds", 0, 3600);
  config.window = static_cast<std::uint32_t>(whole_number(options, "window", 1, 10'000));
  config.door = chosen_door(options);
  config.text_size =
      whole_number(options, "size", 1, config.door == Door::kIrc ? kMaxIrcTextSize : kMaxTextSize);
  if (std::uint64_t{config.receivers} * config.senders > kMaxReceiversTimesSenders) {
    throw BadOption{"--receivers times --senders must be at most " +
                    std::to_string(kMaxReceiversTimesSenders)};
  }
  return [config](Driver& driver) { return run_fanout(driver, config); };
}

Report run_fanout(Driver& driver, const FanoutConfig& config) { return FanoutRun(driver, config).run(); }

}  // namespace uvchat::bench
