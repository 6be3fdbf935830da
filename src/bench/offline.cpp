#include "offline.hpp"

#include <algorithm>
#include <chrono>
#include <limits>
#include <memory>
#include <vector>

#include "driver.hpp"
#include "ledger.hpp"
#include "offline_dm_sender.hpp"
#include "option_values.hpp"
#include "queue_reader.hpp"
#include "wire.hpp"

namespace uvchat::bench {
namespace {

using Clock = std::chrono::steady_clock;
using Senders = std::vector<std::unique_ptr<OfflineDmSender>>;
using RecipientSink = std::function<void(std::uint32_t recipient, std::string_view line)>;

// Leaves room in a line of the server's default --max-line (4096) for
// "bench-r-NNNNNN:" in front of the text.
constexpr std::uint64_t kMaxTextSize = 4000;

class OfflineRun {
 public:
  OfflineRun(Driver& driver, const OfflineConfig& config)
      : driver_(driver), config_(config), ledger_(config.senders, config.recipients) {}

  Report run();

 private:
  bool make_recipients_known();
  bool register_senders(const Senders& senders);
  bool send_timed(const Senders& senders);
  bool send_dms();
  void verify_queues();
  void check_replayed(std::uint32_t recipient, std::string_view line);
  bool replayed_in_order(std::uint32_t recipient, MessageKey key);

  bool read_queues(std::string_view phase, const RecipientSink& on_replayed);
  std::optional<MessageKey> key_of_replayed(std::uint32_t recipient, std::string_view line) const;
  OfflineDmSender::Plan plan_for(std::uint32_t sender) const;
  void describe_parameters();

  Driver& driver_;
  OfflineConfig config_;
  Report report_;
  Ledger ledger_;
  std::uint64_t stale_ = 0;  // left in the recipients' queues by an earlier run
  // The next sequence number each sender's DMs to each recipient may have
  // in the replay (recipient * senders + sender): queues replay oldest first.
  std::vector<std::uint64_t> replay_floor_;
};

Report OfflineRun::run() {
  describe_parameters();
  if (make_recipients_known() && send_dms()) verify_queues();
  return report_;
}

void OfflineRun::describe_parameters() {
  report_.scenario = "offline";
  report_.unit = "acknowledged/s";
  auto& parameters = report_.parameters;
  parameters.push_back(count_field("recipients", config_.recipients));
  parameters.push_back(count_field("senders", config_.senders));
  if (config_.seconds > 0) {
    parameters.push_back({"seconds", config_.seconds});
  } else {
    parameters.push_back(count_field("messages", config_.messages));
  }
  parameters.push_back(count_field("window", config_.window));
  parameters.push_back(count_field("size", config_.text_size));
}

bool OfflineRun::make_recipients_known() {
  return read_queues("making the recipients known", [this](std::uint32_t, std::string_view) { ++stale_; });
}

bool OfflineRun::send_dms() {
  Senders senders;
  for (std::uint32_t index = 0; index < config_.senders; ++index) {
    senders.push_back(std::make_unique<OfflineDmSender>(driver_, report_, ledger_, plan_for(index)));
  }
  const bool sent = register_senders(senders) && send_timed(senders);
  driver_.close_all_clients();
  return sent;
}

OfflineDmSender::Plan OfflineRun::plan_for(std::uint32_t sender) const {
  OfflineDmSender::Plan plan;
  plan.index = sender;
  plan.recipients = config_.recipients;
  plan.window = config_.window;
  plan.text_size = config_.text_size;
  if (config_.seconds > 0) {
    plan.quota = std::numeric_limits<std::uint64_t>::max();
  } else {
    // The first (messages % senders) senders send one more.
    plan.quota = config_.messages / config_.senders + (sender < config_.messages % config_.senders ? 1 : 0);
  }
  return plan;
}

bool OfflineRun::register_senders(const Senders& senders) {
  for (const auto& sender : senders) sender->connect();
  const bool registered = driver_.run_until("registering the senders", [&] {
    return std::ranges::all_of(senders, [](const auto& s) { return s->registered() || s->finished(); });
  });
  return registered && report_.errors == 0;
}

// The timed part: from the first DM sent to the last acknowledgement.
bool OfflineRun::send_timed(const Senders& senders) {
  std::optional<std::uint64_t> deadline_ms;
  if (config_.seconds > 0) {
    deadline_ms = driver_.now_ms() + static_cast<std::uint64_t>(config_.seconds * 1000);
  }
  const Clock::time_point started = Clock::now();
  for (const auto& sender : senders) sender->start(deadline_ms);
  const bool finished = driver_.run_until(
      "sending", [&] { return std::ranges::all_of(senders, [](const auto& s) { return s->finished(); }); });

  Clock::time_point last_answer = started;
  for (const auto& sender : senders) {
    last_answer = std::max(last_answer, sender->last_answer_at().value_or(started));
  }
  report_.seconds = std::chrono::duration<double>(last_answer - started).count();
  report_.messages = ledger_.acknowledged();
  return finished;
}

void OfflineRun::verify_queues() {
  replay_floor_.assign(std::size_t{config_.recipients} * config_.senders, 0);
  const Clock::time_point began = Clock::now();
  const bool read = read_queues("reading the queues", [this](std::uint32_t recipient, std::string_view line) {
    check_replayed(recipient, line);
  });
  // Every recipient at once, from registering to its last replayed DM.
  const double replay_seconds = std::chrono::duration<double>(Clock::now() - began).count();
  const Tally tally = ledger_.tally();
  // Queues that could not be read say nothing about what was lost; the
  // errors say why they could not.
  if (read) {
    report_.lost = tally.lost;
    report_.duplicated = tally.duplicated;
  }
  report_.metrics.push_back(count_field("sent", tally.sent));
  report_.metrics.push_back(count_field("delivered", tally.delivered));
  report_.metrics.push_back(count_field("unacknowledged_delivered", tally.unacknowledged_delivered));
  report_.metrics.push_back(count_field("stale", stale_));
  report_.metrics.push_back({"replay_seconds", replay_seconds});
  if (replay_seconds > 0) {
    report_.metrics.push_back({"replayed_per_s", static_cast<double>(tally.delivered) / replay_seconds});
  }
}

void OfflineRun::check_replayed(std::uint32_t recipient, std::string_view line) {
  const std::string recipient_name = indexed_name(kOfflineRecipientPrefix, recipient);
  const std::optional<MessageKey> key = key_of_replayed(recipient, line);
  if (!key || !ledger_.record_delivered(*key)) {
    report_.add_corrupt(recipient_name + " got '" + std::string(line) + "'");
  } else if (!replayed_in_order(recipient, *key)) {
    report_.add_error(recipient_name + " got an older DM after a newer one: '" + std::string(line) + "'");
  }
}

// A repeat of the newest is not out of order; the ledger counts it as a
// duplicate.
bool OfflineRun::replayed_in_order(std::uint32_t recipient, MessageKey key) {
  std::uint64_t& floor = replay_floor_[std::size_t{recipient} * config_.senders + key.sender];
  if (key.sequence + 1 < floor) return false;
  floor = std::max(floor, key.sequence + 1);
  return true;
}

// The key of a replayed DM if it is intact, from the sender its text names,
// and meant for this recipient.
std::optional<MessageKey> OfflineRun::key_of_replayed(std::uint32_t recipient, std::string_view line) const {
  const auto dm = parse_direct_message(line);
  if (!dm) return std::nullopt;
  const auto key = parse_message_text(dm->text, config_.text_size);
  if (!key || name_index(kOfflineSenderPrefix, dm->sender) != key->sender) return std::nullopt;
  if (offline_recipient_of(*key, config_.recipients) != recipient) return std::nullopt;
  return key;
}

// Every recipient registers, reads its queue and leaves, all at once.
bool OfflineRun::read_queues(std::string_view phase, const RecipientSink& on_replayed) {
  std::vector<std::unique_ptr<QueueReader>> readers;
  for (std::uint32_t index = 0; index < config_.recipients; ++index) {
    auto sink = [&on_replayed, index](std::string_view line) { on_replayed(index, line); };
    readers.push_back(std::make_unique<QueueReader>(
        driver_, report_, indexed_name(kOfflineRecipientPrefix, index), std::move(sink)));
  }
  for (const auto& reader : readers) reader->start();
  const bool read = driver_.run_until(
      phase, [&] { return std::ranges::all_of(readers, [](const auto& r) { return r->done(); }); });
  driver_.close_all_clients();
  return read && report_.errors == 0;
}

}  // namespace

void add_offline_options(cxxopts::Options& parser) {
  const OfflineConfig defaults;
  // clang-format off
  parser.add_options("offline")
    ("recipients", "Known, offline users the DMs go to (bench-r-N)", number_option(defaults.recipients), "R")
    ("senders", "Connections sending DMs (bench-s-N)", number_option(defaults.senders), "S")
    ("messages", "DMs in all, split among the senders", number_option(defaults.messages), "M")
    ("seconds", "Send for T seconds instead (then drain); 0: send --messages", number_option(0), "T")
    ("window", "Unacknowledged DMs in flight per sender", number_option(defaults.window), "W")
    ("size", "Bytes of text per DM", number_option(defaults.text_size), "BYTES");
  // clang-format on
}

ScenarioRun configure_offline(const cxxopts::ParseResult& options) {
  OfflineConfig config;
  config.recipients = static_cast<std::uint32_t>(whole_number(options, "recipients", 1, 100'000));
  config.senders = static_cast<std::uint32_t>(whole_number(options, "senders", 1, 100'000));
  config.messages = whole_number(options, "messages", 1, 1'000'000'000);
  config.seconds = real_number(options, "seconds", 0, 3600);
  config.window = static_cast<std::uint32_t>(whole_number(options, "window", 1, 1'000'000));
  config.text_size = whole_number(options, "size", 1, kMaxTextSize);
  return [config](Driver& driver) { return run_offline(driver, config); };
}

Report run_offline(Driver& driver, const OfflineConfig& config) { return OfflineRun(driver, config).run(); }

}  // namespace uvchat::bench
