#include "options.hpp"

#include <sys/resource.h>

#include <charconv>
#include <cxxopts.hpp>

#include "uvchat_version.h"

namespace uvchat::server {
namespace {

// File descriptors kept for the listeners, the loop and the log when
// --max-clients is derived from the descriptor limit.
constexpr std::int64_t kReservedDescriptors = 32;

cxxopts::Options make_parser() {
  cxxopts::Options parser("uvchatd", "A lightweight chat server: talk to it with uvchat, nc or telnet.");
  parser.custom_help("[OPTION...]");
  // clang-format off
  parser.add_options()
    ("host", "Address or host name to listen on (IPv4 or IPv6)", cxxopts::value<std::string>()->default_value("0.0.0.0"), "HOST")
    ("port", "TCP port (0: any free port, logged at start)", cxxopts::value<std::string>()->default_value("8080"), "PORT")
    ("db", "SQLite database file, created if missing (:memory: for none)", cxxopts::value<std::string>()->default_value("uvchat.db"), "PATH")
    ("max-clients", "Connections at once; 0: as many as the file descriptor limit allows", cxxopts::value<std::string>()->default_value("0"), "N")
    ("max-line", "Longest line a client may send, in bytes (64 to 1048576)", cxxopts::value<std::string>()->default_value("4096"), "BYTES")
    ("max-queue", "Offline messages kept per user", cxxopts::value<std::string>()->default_value("1000"), "N")
    ("presence", "Who hears online/offline: all, rooms or off", cxxopts::value<std::string>()->default_value("all"), "MODE")
    ("history", "Room messages replayed on join (0 to 500)", cxxopts::value<std::string>()->default_value("10"), "N")
    ("retain-days", "Delete delivered messages older than N days; 0: keep all", cxxopts::value<std::string>()->default_value("0"), "N")
    ("no-group-commit", "Commit every message on its own (only to measure group commit)")
    ("store-backlog", "Requests the database may fall behind by before reading pauses (100 to 10000000)", cxxopts::value<std::string>()->default_value("20000"), "N")
    ("max-outbuf", "Bytes waiting for a client before it is cut as too slow; 0: no limit", cxxopts::value<std::string>()->default_value("1048576"), "BYTES")
    ("rate", "Lines a second a client may send (more are read later); 0: no limit", cxxopts::value<std::string>()->default_value("20"), "N")
    ("burst", "Lines a client may send at once before --rate applies", cxxopts::value<std::string>()->default_value("50"), "N")
    ("max-per-ip", "Connections from one address; 0: no limit", cxxopts::value<std::string>()->default_value("16"), "N")
    ("max-registrations", "Registrations a minute from one address; 0: no limit", cxxopts::value<std::string>()->default_value("60"), "N")
    ("register-timeout", "Seconds a connection may stay unregistered; 0: no limit", cxxopts::value<std::string>()->default_value("30"), "SECONDS")
    ("idle-timeout", "Seconds a connection may stay silent; 0: no limit", cxxopts::value<std::string>()->default_value("0"), "SECONDS")
    ("utc", "Show times in UTC instead of local time")
    ("crlf", "End the lines the server sends with CR LF")
    ("log-level", "debug, info, warn or error", cxxopts::value<std::string>()->default_value("info"), "LEVEL")
    ("version", "Print the version and exit")
    ("h,help", "Print this help and exit");
  // clang-format on
  return parser;
}

struct BadOption {
  std::string message;
};

// Numbers are parsed here rather than by cxxopts so that the message names
// the option and its range.
std::int64_t ranged(const cxxopts::ParseResult& result, const std::string& name, std::int64_t low,
                    std::int64_t high) {
  const auto text = result[name].as<std::string>();
  std::int64_t value = 0;
  const auto [end, status] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (status != std::errc{} || end != text.data() + text.size() || value < low || value > high) {
    throw BadOption{"--" + name + " must be a number from " + std::to_string(low) + " to " +
                    std::to_string(high) + ", not '" + text + "'"};
  }
  return value;
}

chat::Presence presence_mode(const std::string& text) {
  if (text == "all") return chat::Presence::kAll;
  if (text == "rooms") return chat::Presence::kRooms;
  if (text == "off") return chat::Presence::kOff;
  throw BadOption{"--presence must be all, rooms or off, not '" + text + "'"};
}

std::size_t descriptor_limited_clients() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return 0;
  const auto usable = static_cast<std::int64_t>(limit.rlim_cur) - kReservedDescriptors;
  return static_cast<std::size_t>(std::max<std::int64_t>(usable, 1));
}

Options to_options(const cxxopts::ParseResult& result) {
  Options options;
  net::ServerConfig& server = options.server;
  server.host = result["host"].as<std::string>();
  server.port = static_cast<int>(ranged(result, "port", 0, 65535));
  server.max_line = static_cast<std::size_t>(ranged(result, "max-line", 64, 1 << 20));
  server.db = result["db"].as<std::string>();
  server.retain_days = static_cast<int>(ranged(result, "retain-days", 0, 36500));
  server.group_commit = result.count("no-group-commit") == 0;
  server.store_backlog = static_cast<std::size_t>(ranged(result, "store-backlog", 100, 10'000'000));
  const auto max_outbuf = ranged(result, "max-outbuf", 0, std::int64_t{1} << 32);
  if (max_outbuf != 0 && max_outbuf < 4096) throw BadOption{"--max-outbuf must be 0 or at least 4096"};
  server.max_outbuf = static_cast<std::size_t>(max_outbuf);
  server.rate = static_cast<double>(ranged(result, "rate", 0, 1'000'000));
  server.burst = static_cast<double>(ranged(result, "burst", 1, 1'000'000));

  chat::HubConfig& hub = server.hub;
  const auto max_clients = ranged(result, "max-clients", 0, 10'000'000);
  hub.max_clients = max_clients == 0 ? descriptor_limited_clients() : static_cast<std::size_t>(max_clients);
  hub.max_queue = static_cast<std::size_t>(ranged(result, "max-queue", 0, 1'000'000));
  hub.max_line = server.max_line;
  hub.presence = presence_mode(result["presence"].as<std::string>());
  hub.history_on_join = static_cast<int>(ranged(result, "history", 0, 500));
  hub.max_per_ip = static_cast<std::size_t>(ranged(result, "max-per-ip", 0, 1'000'000));
  hub.max_registrations_per_minute =
      static_cast<std::size_t>(ranged(result, "max-registrations", 0, 1'000'000));
  hub.register_timeout = std::chrono::seconds(ranged(result, "register-timeout", 0, 86'400));
  hub.idle_timeout = std::chrono::seconds(ranged(result, "idle-timeout", 0, 30 * 86'400));
  hub.utc = result.count("utc") > 0;
  hub.line_ending = result.count("crlf") > 0 ? protocol::LineEnding::kCrLf : protocol::LineEnding::kLf;

  const std::string level = result["log-level"].as<std::string>();
  const auto parsed_level = parse_log_level(level);
  if (!parsed_level) throw BadOption{"--log-level must be debug, info, warn or error, not '" + level + "'"};
  options.log_level = *parsed_level;
  return options;
}

}  // namespace

ParseResult parse_options(int argc, const char* const* argv) {
  cxxopts::Options parser = make_parser();
  ParseResult outcome;
  try {
    const cxxopts::ParseResult result = parser.parse(argc, argv);
    if (result.count("help")) {
      outcome.message = parser.help();
      return outcome;
    }
    if (result.count("version")) {
      outcome.message = std::string("uvchatd ") + UVCHAT_VERSION + "\n";
      return outcome;
    }
    if (!result.unmatched().empty())
      throw BadOption{"unexpected argument '" + result.unmatched().front() + "'"};
    outcome.options = to_options(result);
    outcome.run = true;
  } catch (const cxxopts::exceptions::exception& error) {
    outcome.exit_code = 2;
    outcome.message = std::string("uvchatd: ") + error.what() + "\nTry 'uvchatd --help'.\n";
  } catch (const BadOption& error) {
    outcome.exit_code = 2;
    outcome.message = "uvchatd: " + error.message + "\nTry 'uvchatd --help'.\n";
  }
  return outcome;
}

}  // namespace uvchat::server
