// What the soak's clients share: the run's settings, its counters, and the
// driver, report and DM book they all write to.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace uvchat::bench {

class Driver;
class DmBook;
class QueueFeed;
class SourceAddresses;
struct Report;

struct SoakConfig {
  double seconds = 300;
  double warm_up_seconds = 60;  // of the same load, before the server is measured at rest
  std::uint32_t users = 40;
  std::uint32_t slow_readers = 5;
  std::uint32_t flooders = 5;
  std::uint32_t garbage_senders = 5;
  std::uint32_t vanishers = 5;
  std::uint32_t large_queue_users = 2;
  std::uint32_t bulk_senders = 4;
  std::uint64_t seed = 0;                   // 0: from the clock
  std::uint64_t max_outbuf = 1024 * 1024;   // the server's --max-outbuf; 0: not checked
  std::uint64_t max_ping_ms = 5000;         // slowest pong a well-behaved user may wait for
  std::uint64_t slow_reader_wait_ms = 500;  // reading before it writes, after a hold
  double tls_share = 0;                     // of the sessions, drawn one by one
};

enum class Role : std::size_t { kUser, kSlowReader, kFlooder, kGarbage, kVanisher, kLargeQueue, kBulkSender };
inline constexpr std::size_t kRoleCount = 7;
std::string_view role_name(Role role);
// "soak-u-", "soak-s-", ...: a user's name is the prefix and its slot.
std::string_view role_prefix(Role role);

// The room the flooders write to and the slow readers and large-queue
// users join.
inline constexpr std::string_view kFloodRoom = "#soak-flood";

enum class GarbageKind : std::size_t { kRandomBytes, kHugeLine, kBadUtf8, kTelnetAndControls };
inline constexpr std::size_t kGarbageKindCount = 4;
std::string_view garbage_kind_name(GarbageKind kind);

struct SoakStats {
  std::array<std::uint64_t, kRoleCount> connections{};
  std::uint64_t tls_connections = 0;  // of them, over TLS (any role)
  std::uint64_t tls_resumed = 0;      // of those, resuming the client's last TLS session

  std::uint64_t lines_sent = 0;  // line ends written, garbage included
  std::uint64_t bytes_sent = 0;
  std::uint64_t lines_received = 0;
  std::uint64_t bytes_received = 0;

  // Well-behaved users.
  std::uint64_t room_lines = 0;
  std::uint64_t broadcasts = 0;
  std::uint64_t history_queries = 0;
  std::vector<std::uint32_t> ping_ms;  // each pong's round trip

  // Slow readers.
  std::uint64_t slow_holds = 0;            // times one stopped reading
  std::uint64_t slow_cuts = 0;             // closed by the server before the backlog was read
  std::uint64_t slow_cuts_told = 0;        // of them, told `too-slow` first
  std::uint64_t slow_largest_backlog = 0;  // bytes waiting at a hold's end, uncut
  std::uint64_t slow_backlog_allowed = 0;  // how much of it the check allows

  // Flooders.
  std::uint64_t flood_sessions = 0;
  std::uint64_t flood_lines_sent = 0;
  std::uint64_t flood_lines_taken = 0;  // answered by the pong that follows them
  std::uint64_t flood_ms = 0;           // time spent flooding, all flooders together

  // Garbage senders.
  std::array<std::uint64_t, kGarbageKindCount> garbage_sent{};
  std::uint64_t garbage_survived = 0;  // answered with the right errors, connection open

  // Vanishers.
  std::uint64_t vanished_fin = 0;
  std::uint64_t vanished_reset = 0;
  std::uint64_t vanished_registered = 0;  // registered before vanishing

  // Large-queue users.
  std::uint64_t large_sessions = 0;        // registrations
  std::uint64_t large_small_windows = 0;   // of them, with a small receive buffer
  std::uint64_t large_in_flood_room = 0;   // of them, in the flood room
  std::uint64_t large_replays_read = 0;    // queues read to their end
  std::uint64_t large_left_exit = 0;       // `server:exit` mid-replay, then read to `bye`
  std::uint64_t large_left_reset = 0;      // a TCP reset mid-replay
  std::uint64_t large_stalls = 0;          // stopped reading for a while mid-replay
  std::uint64_t large_largest_queue = 0;   // DMs announced by `server:queued-messages`
  std::uint64_t large_replayed_bytes = 0;  // the replays' lines, all sessions
  std::uint64_t large_largest_replay = 0;  // bytes of one session's replay read
  std::uint64_t large_replay_ms = 0;       // time spent reading them, stops included

  // Bulk senders.
  std::uint64_t bulk_sessions = 0;
  std::uint64_t bulk_dms = 0;  // sent to the large-queue users
  std::uint64_t bulk_dm_bytes = 0;

  // Anyone: `server:missed N`, the lines dropped while one caught up.
  std::uint64_t missed_notices = 0;
  std::uint64_t missed_lines = 0;
};

struct SoakContext {
  Driver& driver;
  Report& report;
  DmBook& book;
  SoakStats& stats;
  const SoakConfig& config;
  const SourceAddresses& sources;
  QueueFeed& feed;
};

}  // namespace uvchat::bench
