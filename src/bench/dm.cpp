#include "dm.hpp"

#include <algorithm>
#include <optional>

#include "driver.hpp"
#include "option_values.hpp"
#include "pairs.hpp"

namespace uvchat::bench {
namespace {

// Leaves room in a line of the server's default --max-line (4096) for
// "bench-dm-r-NNNNNN:" in front of the text.
constexpr std::uint64_t kMaxTextSize = 4000;

class DmRun {
 public:
  DmRun(Driver& driver, const DmConfig& config) : driver_(driver), config_(config) {}

  Report run();

 private:
  void describe_parameters();
  bool send_timed(DmPairs& pairs);
  void fill_window(DmPair& pair);
  bool may_send_more(const DmPair& pair) const;
  bool finished(const DmPair& pair) const;

  Driver& driver_;
  DmConfig config_;
  Report report_;
  std::optional<std::uint64_t> deadline_ms_;
};

Report DmRun::run() {
  describe_parameters();
  DmPairs pairs(driver_, report_, config_.pairs, config_.text_size, Dialect(config_.door));
  if (!pairs.register_all()) return report_;
  pairs.finish(send_timed(pairs));
  return report_;
}

void DmRun::describe_parameters() {
  report_.scenario = "dm";
  auto& parameters = report_.parameters;
  parameters.push_back(count_field("pairs", config_.pairs));
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

bool DmRun::send_timed(DmPairs& pairs) {
  if (config_.seconds > 0) {
    deadline_ms_ = driver_.now_ms() + static_cast<std::uint64_t>(config_.seconds * 1000);
  }
  pairs.start_clock();
  for (const auto& pair : pairs) {
    pair->on_receipt([this, &pair = *pair] { fill_window(pair); });
    fill_window(*pair);
  }
  return driver_.run_until("sending", [&] {
    return std::ranges::all_of(pairs, [this](const auto& pair) { return finished(*pair); });
  });
}

// A receipt opens the window by one, so the sender sends one more.
void DmRun::fill_window(DmPair& pair) {
  while (pair.in_flight() < config_.window && may_send_more(pair)) pair.send_next();
}

bool DmRun::may_send_more(const DmPair& pair) const {
  if (pair.closed()) return false;
  if (deadline_ms_) return driver_.now_ms() < *deadline_ms_;
  return pair.sent() < config_.messages;
}

bool DmRun::finished(const DmPair& pair) const {
  return pair.closed() || (pair.in_flight() == 0 && !may_send_more(pair));
}

}  // namespace

void add_dm_options(cxxopts::Options& parser) {
  const DmConfig defaults;
  // clang-format off
  parser.add_options("dm")
    ("pairs", "Sender/receiver pairs (bench-dm-s-N sends to bench-dm-r-N)", number_option(defaults.pairs), "P")
    ("messages", "DMs each sender sends", number_option(defaults.messages), "M")
    ("seconds", "Send for T seconds instead (then drain); 0: send --messages", number_option(0), "T")
    ("window", "DMs a sender may have sent that its receiver has not read yet", number_option(defaults.window), "W")
    ("size", "Bytes of text per DM (at most 4000; 400 with --door irc)", number_option(defaults.text_size), "BYTES");
  // clang-format on
}

ScenarioRun configure_dm(const cxxopts::ParseResult& options) {
  DmConfig config;
  config.pairs = static_cast<std::uint32_t>(whole_number(options, "pairs", 1, 100'000));
  config.messages = whole_number(options, "messages", 1, 1'000'000'000);
  config.seconds = real_number(options, "seconds", 0, 3600);
  config.window = static_cast<std::uint32_t>(whole_number(options, "window", 1, 1'000'000));
  config.door = chosen_door(options);
  config.text_size =
      whole_number(options, "size", 1, config.door == Door::kIrc ? kMaxIrcTextSize : kMaxTextSize);
  return [config](Driver& driver) { return run_dm(driver, config); };
}

Report run_dm(Driver& driver, const DmConfig& config) { return DmRun(driver, config).run(); }

}  // namespace uvchat::bench
