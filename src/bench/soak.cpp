#include "soak.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <numeric>
#include <random>
#include <vector>

#include "driver.hpp"
#include "option_values.hpp"
#include "report.hpp"
#include "soak_bulk_sender.hpp"
#include "soak_dm_book.hpp"
#include "soak_flooder.hpp"
#include "soak_garbage.hpp"
#include "soak_large_queue.hpp"
#include "soak_queue_feed.hpp"
#include "soak_slow_reader.hpp"
#include "soak_sources.hpp"
#include "soak_timer.hpp"
#include "soak_user.hpp"
#include "soak_vanisher.hpp"

namespace uvchat::bench {
namespace {

constexpr std::uint64_t kStaggerMs = 2'000;  // clients start spread over this
constexpr std::uint64_t kRestMs = 5'000;     // between the warm-up and the load
constexpr std::uint64_t kProgressEveryMs = 30'000;

std::uint64_t seed_from_clock() {
  const auto ticks = std::chrono::steady_clock::now().time_since_epoch().count();
  return static_cast<std::uint64_t>(ticks) | 1;
}

std::uint32_t percentile(std::vector<std::uint32_t> values, double fraction) {
  if (values.empty()) return 0;
  const auto rank = static_cast<std::size_t>(fraction * static_cast<double>(values.size() - 1));
  std::ranges::nth_element(values, values.begin() + static_cast<std::ptrdiff_t>(rank));
  return values[rank];
}

class SoakRun {
 public:
  SoakRun(Driver& driver, const SoakConfig& config);
  ~SoakRun();
  SoakRun(const SoakRun&) = delete;
  SoakRun& operator=(const SoakRun&) = delete;

  Report run();

 private:
  void create_clients();
  template <typename Client, typename Kind>
  void make_clients(std::vector<std::unique_ptr<Kind>>& into, std::uint32_t count);
  bool drain_queues(std::string_view phase, Reading replayed_as);
  bool load(std::string_view phase, double seconds);
  bool rest();
  void start_load();
  bool stop_load();
  bool all_finished() const;
  void print_progress(std::string_view phase, std::uint64_t started_ms);

  void describe_parameters();
  void print_lost() const;
  void report_figures(bool verified, const Tally& before_final_drain);
  void report_connections();
  void report_dms(const Tally& tally, const Tally& before_final_drain);
  void report_users();
  void report_faults();
  void report_large_queues();
  void add(std::string name, std::uint64_t value) {
    report_.metrics.push_back(count_field(std::move(name), value));
  }

  Driver& driver_;
  SoakConfig config_;
  Report report_;
  DmBook book_;
  QueueFeed feed_;
  SoakStats stats_;
  SourceAddresses sources_;
  SoakContext context_;
  std::vector<std::unique_ptr<IdentityClient>> identities_;
  std::vector<IdentityClient*> large_queue_users_;  // of the identities
  std::vector<std::unique_ptr<SoakClient>> others_;
  std::vector<SoakClient*> everyone_;
  Timer progress_;
};

SoakRun::SoakRun(Driver& driver, const SoakConfig& config)
    : driver_(driver),
      config_(config),
      book_(report_, config.users, config.slow_readers, config.large_queue_users, config.bulk_senders),
      feed_(book_, config.large_queue_users),
      sources_(driver.server()),
      context_{driver, report_, book_, stats_, config_, sources_, feed_},
      progress_(driver.loop()) {
  if (config_.seed == 0) config_.seed = seed_from_clock();
}

// A client must be closed before it is freed.
SoakRun::~SoakRun() {
  for (SoakClient* client : everyone_) client->stop();
  driver_.close_all_clients();
}

Report SoakRun::run() {
  describe_parameters();
  create_clients();
  stats_.slow_backlog_allowed = SlowReader::backlog_allowed(config_);
  if (!drain_queues("making the identities known", Reading::kStale)) return report_;
  const bool loaded = load("warming up", config_.warm_up_seconds) && rest() && load("soak", config_.seconds);
  const Tally before_final_drain = book_.tally();
  const bool drained = drain_queues("reading the queues", Reading::kReplayed);
  report_figures(loaded && drained, before_final_drain);
  return report_;
}

template <typename Client, typename Kind>
void SoakRun::make_clients(std::vector<std::unique_ptr<Kind>>& into, std::uint32_t count) {
  for (std::uint32_t slot = 0; slot < count; ++slot) into.push_back(std::make_unique<Client>(context_, slot));
}

void SoakRun::create_clients() {
  make_clients<SoakUser>(identities_, config_.users);
  make_clients<SlowReader>(identities_, config_.slow_readers);
  make_clients<LargeQueueUser>(identities_, config_.large_queue_users);
  for (std::size_t i = identities_.size() - config_.large_queue_users; i < identities_.size(); ++i) {
    large_queue_users_.push_back(identities_[i].get());
  }
  make_clients<Flooder>(others_, config_.flooders);
  make_clients<GarbageSender>(others_, config_.garbage_senders);
  make_clients<Vanisher>(others_, config_.vanishers);
  make_clients<BulkSender>(others_, config_.bulk_senders);
  for (const auto& identity : identities_) everyone_.push_back(identity.get());
  for (const auto& other : others_) everyone_.push_back(other.get());
}

// Every identity at once: register, read the queue, leave.
bool SoakRun::drain_queues(std::string_view phase, Reading replayed_as) {
  for (const auto& identity : identities_) identity->drain_queue(replayed_as);
  return driver_.run_until(phase, [this] { return all_finished(); });
}

// Every client of the mix for `seconds`, then everyone leaves; the
// leaving is waited for even when the load failed.
bool SoakRun::load(std::string_view phase, double seconds) {
  const std::uint64_t started_ms = driver_.now_ms();
  const std::uint64_t until_ms = started_ms + static_cast<std::uint64_t>(seconds * 1000);
  start_load();
  print_progress(phase, started_ms);
  const bool ran = driver_.run_until(phase, [&] { return driver_.now_ms() >= until_ms; });
  progress_.stop();
  report_.seconds += static_cast<double>(driver_.now_ms() - started_ms) / 1000;
  const bool stopped = stop_load();
  return ran && stopped;
}

// After the warm-up, every client gone and the server's caches full: the
// moment to measure it at rest, to compare with the end.
bool SoakRun::rest() {
  std::fprintf(stderr, "soak: warm-up done, everyone left; the load starts again in %llu ms\n",
               static_cast<unsigned long long>(kRestMs));
  const std::uint64_t until_ms = driver_.now_ms() + kRestMs;
  return driver_.run_until("resting", [&] { return driver_.now_ms() >= until_ms; });
}

void SoakRun::start_load() {
  std::mt19937_64 random(config_.seed);
  std::uniform_int_distribution<std::uint64_t> stagger(0, kStaggerMs);
  for (const auto& identity : identities_) identity->take_part(stagger(random));
  for (const auto& other : others_) other->start(stagger(random));
}

void SoakRun::print_progress(std::string_view phase, std::uint64_t started_ms) {
  progress_.start(kProgressEveryMs, [this, phase, started_ms] {
    const DmBook::Counts& dms = book_.counts();
    const std::uint64_t connections =
        std::accumulate(stats_.connections.begin(), stats_.connections.end(), 0ull);
    std::fprintf(stderr, "soak: %.*s %llu s, %llu connections, %llu DMs acknowledged, %llu errors\n",
                 static_cast<int>(phase.size()), phase.data(),
                 static_cast<unsigned long long>((driver_.now_ms() - started_ms) / 1000),
                 static_cast<unsigned long long>(connections),
                 static_cast<unsigned long long>(dms.acknowledged_queued + dms.acknowledged_live),
                 static_cast<unsigned long long>(report_.errors + report_.corrupt));
    print_progress(phase, started_ms);
  });
}

// The large-queue users then come back for what waits for them and read it
// (at their fastest pace), after the warm-up as at the end, so that the
// final registrations find the same small queues each time.
bool SoakRun::stop_load() {
  for (SoakClient* client : everyone_) client->stop();
  if (!driver_.run_until("leaving", [this] { return all_finished(); })) return false;
  for (IdentityClient* large : large_queue_users_) large->drain_queue(Reading::kReplayed);
  return driver_.run_until("reading the large queues", [this] { return all_finished(); });
}

bool SoakRun::all_finished() const {
  return std::ranges::all_of(everyone_, [](const SoakClient* client) { return client->finished(); });
}

void SoakRun::describe_parameters() {
  report_.scenario = "soak";
  report_.unit = "acknowledged DMs/s";
  auto& parameters = report_.parameters;
  parameters.push_back({"seconds", config_.seconds});
  parameters.push_back({"warm_up", config_.warm_up_seconds});
  parameters.push_back(count_field("users", config_.users));
  parameters.push_back(count_field("slow_readers", config_.slow_readers));
  parameters.push_back(count_field("flooders", config_.flooders));
  parameters.push_back(count_field("garbage_senders", config_.garbage_senders));
  parameters.push_back(count_field("vanishers", config_.vanishers));
  parameters.push_back(count_field("large_queue_users", config_.large_queue_users));
  parameters.push_back(count_field("bulk_senders", config_.bulk_senders));
  parameters.push_back(count_field("max_outbuf", config_.max_outbuf));
  parameters.push_back(count_field("slow_reader_wait", config_.slow_reader_wait_ms));
  parameters.push_back({"tls_share", config_.tls_share});
  parameters.push_back({"seed", std::to_string(config_.seed)});
  parameters.push_back({"addresses", std::string(sources_.spread() ? "one per client" : "one")});
}

void SoakRun::report_figures(bool verified, const Tally& before_final_drain) {
  const Tally tally = book_.tally();
  const DmBook::Counts& dms = book_.counts();
  report_.messages = dms.acknowledged_queued + dms.acknowledged_live;
  if (verified) {
    report_.lost = tally.lost;
    report_.duplicated = tally.duplicated;
    print_lost();
  } else {
    report_.add_error("the run did not finish: lost and duplicated DMs are unknown");
  }
  report_connections();
  report_dms(tally, before_final_drain);
  report_users();
  report_faults();
  report_large_queues();
}

// Which DMs were lost, for whoever looks into it (the report has the count).
void SoakRun::print_lost() const {
  constexpr std::size_t kShown = 10;
  for (const std::string& lost : book_.describe_lost(kShown)) {
    std::fprintf(stderr, "soak: lost: %s\n", lost.c_str());
  }
}

void SoakRun::report_connections() {
  add("connections", std::accumulate(stats_.connections.begin(), stats_.connections.end(), 0ull));
  for (std::size_t role = 0; role < kRoleCount; ++role) {
    add("connections_" + std::string(role_name(static_cast<Role>(role))), stats_.connections[role]);
  }
  add("connections_tls", stats_.tls_connections);
  add("tls_resumed", stats_.tls_resumed);
  add("lines_sent", stats_.lines_sent);
  add("lines_received", stats_.lines_received);
  add("bytes_sent", stats_.bytes_sent);
  add("bytes_received", stats_.bytes_received);
}

// Delivered: read during the run, live or replayed. Queued: read only in
// the final drain, so still queued when the load stopped.
void SoakRun::report_dms(const Tally& tally, const Tally& before_final_drain) {
  const DmBook::Counts& dms = book_.counts();
  const std::uint64_t acknowledged = dms.acknowledged_queued + dms.acknowledged_live;
  add("dms_sent", dms.sent);
  add("dms_acknowledged", acknowledged);
  add("dms_acknowledged_queued", dms.acknowledged_queued);
  add("dms_acknowledged_live", dms.acknowledged_live);
  add("dms_refused", dms.refused);
  add("dms_unsettled", dms.sent - acknowledged - dms.refused);
  add("dms_forgotten", dms.forgotten);
  add("dms_delivered", before_final_drain.delivered);
  add("dms_queued", tally.delivered - before_final_drain.delivered);
  add("dms_read_live", dms.read_live);
  add("dms_read_replayed", dms.read_replayed);
  add("dms_unacknowledged_delivered", tally.unacknowledged_delivered);
  add("dms_out_of_order", dms.out_of_order);
  add("dms_foreign", dms.foreign);
  add("dms_stale", dms.stale);
}

void SoakRun::report_users() {
  add("room_lines", stats_.room_lines);
  add("broadcasts", stats_.broadcasts);
  add("history_queries", stats_.history_queries);
  add("pings", stats_.ping_ms.size());
  add("ping_p50_ms", percentile(stats_.ping_ms, 0.5));
  add("ping_p99_ms", percentile(stats_.ping_ms, 0.99));
  add("ping_max_ms", percentile(stats_.ping_ms, 1.0));
}

void SoakRun::report_faults() {
  const std::uint64_t garbage = std::accumulate(stats_.garbage_sent.begin(), stats_.garbage_sent.end(), 0ull);
  add("faults", stats_.slow_holds + stats_.flood_sessions + garbage + stats_.vanished_fin +
                    stats_.vanished_reset + stats_.large_stalls + stats_.large_left_exit +
                    stats_.large_left_reset);
  add("slow_holds", stats_.slow_holds);
  add("slow_cuts", stats_.slow_cuts);
  add("slow_cuts_told", stats_.slow_cuts_told);
  add("slow_largest_backlog", stats_.slow_largest_backlog);
  add("slow_backlog_allowed", stats_.slow_backlog_allowed);
  add("flood_sessions", stats_.flood_sessions);
  add("flood_lines_sent", stats_.flood_lines_sent);
  add("flood_lines_taken", stats_.flood_lines_taken);
  const double flood_seconds = static_cast<double>(stats_.flood_ms) / 1000;
  report_.metrics.push_back(
      {"flood_lines_per_s",
       flood_seconds > 0 ? static_cast<double>(stats_.flood_lines_taken) / flood_seconds : 0.0});
  for (std::size_t kind = 0; kind < kGarbageKindCount; ++kind) {
    add("garbage_" + std::string(garbage_kind_name(static_cast<GarbageKind>(kind))),
        stats_.garbage_sent[kind]);
  }
  add("garbage_survived", stats_.garbage_survived);
  add("vanished_fin", stats_.vanished_fin);
  add("vanished_reset", stats_.vanished_reset);
  add("vanished_registered", stats_.vanished_registered);
}

void SoakRun::report_large_queues() {
  const DmBook::Counts& dms = book_.counts();
  add("large_sessions", stats_.large_sessions);
  add("large_small_windows", stats_.large_small_windows);
  add("large_in_flood_room", stats_.large_in_flood_room);
  add("large_replays_read", stats_.large_replays_read);
  add("large_left_exit", stats_.large_left_exit);
  add("large_left_reset", stats_.large_left_reset);
  add("large_stalls", stats_.large_stalls);
  add("large_largest_queue", stats_.large_largest_queue);
  add("large_largest_replay", stats_.large_largest_replay);
  add("large_replayed_bytes", stats_.large_replayed_bytes);
  add("large_read_rate",
      stats_.large_replay_ms > 0 ? stats_.large_replayed_bytes * 1000 / stats_.large_replay_ms : 0);
  add("large_dms_sent", dms.large_sent);
  add("large_dms_acknowledged", dms.large_acknowledged);
  add("large_dms_read", dms.large_read);
  add("bulk_sessions", stats_.bulk_sessions);
  add("bulk_dms", stats_.bulk_dms);
  add("bulk_dm_bytes", stats_.bulk_dm_bytes);
  add("missed_notices", stats_.missed_notices);
  add("missed_lines", stats_.missed_lines);
}

}  // namespace

void add_soak_options(cxxopts::Options& parser) {
  const SoakConfig defaults;
  // clang-format off
  parser.add_options("soak")
    ("seconds", "Seconds of load after the warm-up", number_option(300), "T")
    ("warm-up", "Seconds of the same load first, then a rest (default: a fifth of --seconds, 10 to 60)", cxxopts::value<std::string>(), "T")
    ("users", "Well-behaved users (soak-u-N)", number_option(defaults.users), "N")
    ("slow-readers", "Users who stop reading (soak-s-N)", number_option(defaults.slow_readers), "N")
    ("flooders", "Clients sending as fast as they can (soak-f-N)", number_option(defaults.flooders), "N")
    ("garbage", "Clients sending garbage (soak-g-N)", number_option(defaults.garbage_senders), "N")
    ("vanishers", "Clients vanishing mid-line (soak-v-N)", number_option(defaults.vanishers), "N")
    ("large-queues", "Users who come back to a large queue and read it slowly (soak-q-N)", number_option(defaults.large_queue_users), "N")
    ("bulk-senders", "Clients filling the large queues (soak-b-N)", number_option(defaults.bulk_senders), "N")
    ("seed", "Seed of the clients' choices; 0: from the clock", number_option(0), "N")
    ("max-outbuf", "The server's --max-outbuf, to check slow readers are cut; 0: do not check", number_option(defaults.max_outbuf), "BYTES")
    ("slow-reader-wait", "How long a slow reader reads after a hold before it writes anything", number_option(defaults.slow_reader_wait_ms), "MS")
    ("max-ping-ms", "Fail when a user waits longer for a pong; 0: never", number_option(defaults.max_ping_ms), "MS")
    ("tls-share", "Of every client's sessions, this share speak TLS (the server needs --tls-cert), half of those after the first resuming the last; default 0, or 1 with --tls", cxxopts::value<std::string>(), "FRACTION");
  // clang-format on
}

ScenarioRun configure_soak(const cxxopts::ParseResult& options) {
  SoakConfig config;
  config.seconds = real_number(options, "seconds", 1, 86'400);
  config.warm_up_seconds = options.count("warm-up") ? real_number(options, "warm-up", 1, 3600)
                                                    : std::clamp(config.seconds / 5, 10.0, 60.0);
  config.users = static_cast<std::uint32_t>(whole_number(options, "users", 1, 10'000));
  config.slow_readers = static_cast<std::uint32_t>(whole_number(options, "slow-readers", 0, 1'000));
  config.flooders = static_cast<std::uint32_t>(whole_number(options, "flooders", 0, 1'000));
  config.garbage_senders = static_cast<std::uint32_t>(whole_number(options, "garbage", 0, 1'000));
  config.vanishers = static_cast<std::uint32_t>(whole_number(options, "vanishers", 0, 1'000));
  config.large_queue_users = static_cast<std::uint32_t>(whole_number(options, "large-queues", 0, 1'000));
  config.bulk_senders = static_cast<std::uint32_t>(whole_number(options, "bulk-senders", 0, 1'000));
  config.seed = whole_number(options, "seed", 0, UINT64_MAX);
  config.max_outbuf = whole_number(options, "max-outbuf", 0, std::uint64_t{1} << 32);
  config.max_ping_ms = whole_number(options, "max-ping-ms", 0, 3'600'000);
  config.slow_reader_wait_ms = whole_number(options, "slow-reader-wait", 0, 60'000);
  config.tls_share = options.count("tls-share") ? real_number(options, "tls-share", 0, 1)
                     : options.count("tls")     ? 1.0
                                                : 0.0;
  return [config](Driver& driver) { return run_soak(driver, config); };
}

Report run_soak(Driver& driver, const SoakConfig& config) { return SoakRun(driver, config).run(); }

}  // namespace uvchat::bench
