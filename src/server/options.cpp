#include "options.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <cxxopts.hpp>
#include <optional>
#include <string_view>
#include <variant>

#include "config_file.hpp"
#include "uvchat_version.h"

namespace uvchat::server {
namespace {

// File descriptors kept for the listeners, the loop and the log when
// --max-clients is derived from the descriptor limit.
constexpr std::int64_t kReservedDescriptors = 32;
constexpr std::string_view kNoConfig = "none";

enum class Kind { kText, kNumber, kFlag };
// Whether SIGHUP may change the option in a running server.
enum class Reload { kLive, kRestart };

struct OptionSpec {
  std::string_view name;
  Kind kind;
  Reload reload;
  std::string_view default_value;  // "": none (flags, --log-file)
  std::string_view value_name;
  std::string_view help;
  std::int64_t low = 0;  // kNumber only
  std::int64_t high = 0;
  std::array<std::string_view, 4> choices{};  // kText: "" past the last; none: any text
};

constexpr OptionSpec text(std::string_view name, Reload reload, std::string_view default_value,
                          std::string_view value_name, std::string_view help,
                          std::array<std::string_view, 4> choices = {}) {
  return {name, Kind::kText, reload, default_value, value_name, help, 0, 0, choices};
}

constexpr OptionSpec number(std::string_view name, Reload reload, std::int64_t low, std::int64_t high,
                            std::string_view default_value, std::string_view value_name,
                            std::string_view help) {
  return {name, Kind::kNumber, reload, default_value, value_name, help, low, high, {}};
}

constexpr OptionSpec flag(std::string_view name, Reload reload, std::string_view help) {
  return {name, Kind::kFlag, reload, {}, {}, help, 0, 0, {}};
}

constexpr auto kLive = Reload::kLive;
constexpr auto kRestart = Reload::kRestart;

// Every option that is also a key of the config file, in --help order.
// clang-format off
constexpr OptionSpec kOptions[] = {
  text("host", kRestart, "0.0.0.0", "HOST", "Address or host name to listen on (IPv4 or IPv6)"),
  number("port", kRestart, 0, 65535, "8080", "PORT", "TCP port (0: any free port, logged at start)"),
  text("db", kRestart, "uvchat.db", "PATH", "SQLite database file, created if missing (:memory: for none)"),
  number("max-clients", kLive, 0, 10'000'000, "0", "N", "Connections at once; 0: as many as the file descriptor limit allows"),
  number("max-line", kRestart, 64, 1 << 20, "4096", "BYTES", "Longest line a client may send, in bytes (64 to 1048576)"),
  number("max-queue", kLive, 0, 1'000'000, "1000", "N", "Offline messages kept per user"),
  text("presence", kRestart, "all", "MODE", "Who hears online/offline: all, rooms or off", {"all", "rooms", "off"}),
  number("presence-limit", kLive, 0, 10'000'000, "256", "N", "With --presence all: past N users online, only room-mates hear; 0: no limit"),
  number("history", kLive, 0, 500, "10", "N", "Room messages replayed on join (0 to 500)"),
  number("retain-days", kRestart, 0, 36500, "0", "N", "Delete delivered messages older than N days; 0: keep all"),
  flag("no-group-commit", kRestart, "Commit every message on its own (only to measure group commit)"),
  number("store-backlog", kRestart, 100, 10'000'000, "20000", "N", "Requests the database may fall behind by before reading pauses (100 to 10000000)"),
  number("max-outbuf", kLive, 0, std::int64_t{1} << 32, "1048576", "BYTES", "Bytes waiting for a client before it is cut as too slow; 0: no limit"),
  number("rate", kLive, 0, 1'000'000, "20", "N", "Lines a second a client may send (more are read later); 0: no limit"),
  number("burst", kLive, 1, 1'000'000, "50", "N", "Lines a client may send at once before --rate applies"),
  number("max-per-ip", kLive, 0, 1'000'000, "16", "N", "Connections from one address; 0: no limit"),
  number("max-registrations", kLive, 0, 1'000'000, "60", "N", "Registrations a minute from one address; 0: no limit"),
  number("register-timeout", kLive, 0, 86'400, "30", "SECONDS", "Seconds a connection may stay unregistered; 0: no limit"),
  number("idle-timeout", kLive, 0, 30 * 86'400, "0", "SECONDS", "Seconds a connection may stay silent; 0: no limit"),
  flag("utc", kRestart, "Show times in UTC instead of local time"),
  flag("crlf", kRestart, "End the lines the server sends with CR LF"),
  text("doors", kRestart, "native,irc,classic,web", "LIST", "Doors a first line may open: native (always), irc, classic, web"),
  text("web-origins", kRestart, "", "LIST", "Origins besides the server's own whose pages may open its WebSocket (https://chat.example.org,...)"),
  text("tls-cert", kLive, "", "PATH", "TLS certificate (PEM, full chain) for TLS on the same port; SIGHUP reloads it"),
  text("tls-key", kLive, "", "PATH", "Its private key (PEM); default: in the --tls-cert file"),
  flag("tls-only", kLive, "Refuse plain text but from 127.0.0.1 and ::1 (needs --tls-cert)"),
  text("log-level", kLive, "info", "LEVEL", "debug, info, warn or error", {"debug", "info", "warn", "error"}),
  text("log-file", kLive, "", "PATH", "Append log lines to this file instead of stderr; SIGHUP reopens it"),
};
// clang-format on

// Options of the command line alone: they say what to do, not how to serve.
constexpr std::array<std::string_view, 5> kCommandLineOnly = {"config", "check-config", "make-cert", "version",
                                                              "help"};

const OptionSpec* find_option(std::string_view name) {
  for (const OptionSpec& spec : kOptions) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

const OptionSpec& option(std::string_view name) { return *find_option(name); }

struct BadOption {
  std::string message;
  bool from_command_line = true;
};

cxxopts::Options make_parser() {
  cxxopts::Options parser("uvchatd", "A lightweight chat server: talk to it with uvchat, nc or telnet.");
  parser.custom_help("[OPTION...]");
  auto adder = parser.add_options();
  for (const OptionSpec& spec : kOptions) {
    const std::string name(spec.name);
    const std::string help(spec.help);
    if (spec.kind == Kind::kFlag) {
      adder(name, help);
      continue;
    }
    auto value = cxxopts::value<std::string>();
    if (!spec.default_value.empty()) value->default_value(std::string(spec.default_value));
    adder(name, help, value, std::string(spec.value_name));
  }
  adder("config",
        "Config file, read if it exists (default: " UVCHAT_DEFAULT_CONFIG
        "); 'none': no file. "
        "Every option above is a key; the command line wins",
        cxxopts::value<std::string>(), "PATH");
  adder("check-config", "Check the options and the config file, then exit (0: OK, 2: not)");
  adder("make-cert",
        "Write a self-signed certificate and key for this host to DIR/cert.pem and DIR/key.pem, "
        "print its fingerprint, and exit",
        cxxopts::value<std::string>(), "DIR");
  adder("version", "Print the version and exit");
  adder("h,help", "Print this help and exit");
  return parser;
}

std::string quoted(const std::string& text) { return "'" + text + "'"; }

// The phrase a message puts before "must be ...": the option as it was given.
std::string subject(std::string_view name, const Setting* given) {
  if (given == nullptr || given->origin.empty()) return "--" + std::string(name);
  return given->origin + ": " + std::string(name);
}

std::string choice_list(const OptionSpec& spec) {
  std::string list;
  std::size_t count = 0;
  while (count < spec.choices.size() && !spec.choices[count].empty()) ++count;
  for (std::size_t i = 0; i < count; ++i) {
    if (i > 0) list += i + 1 == count ? " or " : ", ";
    list += spec.choices[i];
  }
  return list;
}

// `shown`: the value as the message quotes it.
BadOption must_be(const OptionSpec& spec, const Setting* given, const std::string& shown) {
  std::string what;
  switch (spec.kind) {
    case Kind::kNumber:
      what = "a number from " + std::to_string(spec.low) + " to " + std::to_string(spec.high);
      break;
    case Kind::kFlag: what = "true or false"; break;
    case Kind::kText: what = spec.choices[0].empty() ? "a string in quotes" : choice_list(spec); break;
  }
  return BadOption{subject(spec.name, given) + " must be " + what + ", not " + shown,
                   given == nullptr || given->origin.empty()};
}

// The options' values: as given, or their defaults, checked against the
// table. Numbers are parsed here rather than by cxxopts so that the message
// names the option and its range.
class Values {
 public:
  explicit Values(const Settings& settings) : settings_(settings) {}

  const Setting* given(std::string_view name) const {
    const auto found = settings_.find(name);
    return found == settings_.end() ? nullptr : &found->second;
  }
  bool flag(std::string_view name) const { return given(name) != nullptr; }

  std::string text(std::string_view name) const {
    const Setting* setting = given(name);
    const std::string value = setting != nullptr ? setting->text : std::string(option(name).default_value);
    const OptionSpec& spec = option(name);
    if (spec.choices[0].empty()) return value;
    for (const std::string_view choice : spec.choices) {
      if (!choice.empty() && choice == value) return value;
    }
    throw must_be(spec, setting, shown(setting, value));
  }

  std::int64_t number(std::string_view name) const {
    const OptionSpec& spec = option(name);
    const Setting* setting = given(name);
    const std::string value = setting != nullptr ? setting->text : std::string(spec.default_value);
    std::int64_t parsed = 0;
    const auto [end, status] = std::from_chars(value.data(), value.data() + value.size(), parsed);
    if (status != std::errc{} || end != value.data() + value.size() || parsed < spec.low ||
        parsed > spec.high) {
      throw must_be(spec, setting, shown(setting, value));
    }
    return parsed;
  }

  static std::string shown(const Setting* given, const std::string& value) {
    return given != nullptr ? given->shown : quoted(value);
  }

 private:
  const Settings& settings_;
};

std::size_t descriptor_limited_clients() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return 0;
  const auto usable = static_cast<std::int64_t>(limit.rlim_cur) - kReservedDescriptors;
  return static_cast<std::size_t>(std::max<std::int64_t>(usable, 1));
}

chat::Presence presence_mode(const std::string& text) {
  if (text == "rooms") return chat::Presence::kRooms;
  if (text == "off") return chat::Presence::kOff;
  return chat::Presence::kAll;
}

std::size_t max_outbuf(const Values& values) {
  const std::int64_t bytes = values.number("max-outbuf");
  if (bytes != 0 && bytes < 4096) {
    const Setting* given = values.given("max-outbuf");
    throw BadOption{subject("max-outbuf", given) + " must be 0 or at least 4096, not " +
                        Values::shown(given, std::to_string(bytes)),
                    given == nullptr || given->origin.empty()};
  }
  return static_cast<std::size_t>(bytes);
}

// Each word of a comma-separated list (an option's, or a config file's
// list joined with commas), without the spaces around it; empty words are
// skipped.
template <typename Take>
void for_each_word(std::string_view list, Take&& take) {
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    std::string_view word = list.substr(0, comma);
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    while (!word.empty() && word.front() == ' ') word.remove_prefix(1);
    while (!word.empty() && word.back() == ' ') word.remove_suffix(1);
    if (!word.empty()) take(word);
  }
}

// "native,irc,classic,web": the doors open besides TLS. The native door is the
// fallback for every other first line, so it cannot be closed.
void set_doors(const Values& values, net::ServerConfig& server) {
  server.irc_door = false;
  server.classic_door = false;
  server.web_door = false;
  for_each_word(values.text("doors"), [&](std::string_view word) {
    if (word == "irc") {
      server.irc_door = true;
    } else if (word == "classic") {
      server.classic_door = true;
    } else if (word == "web") {
      server.web_door = true;
    } else if (word != "native") {
      const Setting* given = values.given("doors");
      throw BadOption{subject("doors", given) + ": no door called '" + std::string(word) +
                          "' (native, irc, classic, web)",
                      given == nullptr || given->origin.empty()};
    }
  });
}

// "https://chat.example.org,http://pi.local:8080": origins as a browser
// sends them, a scheme and a host (and a port), nothing after.
void set_web_origins(const Values& values, net::ServerConfig& server) {
  for_each_word(values.text("web-origins"), [&](std::string_view word) {
    const std::size_t scheme_end = word.find("://");
    const std::string_view scheme = word.substr(0, scheme_end);
    const std::string_view host =
        scheme_end == std::string_view::npos ? std::string_view{} : word.substr(scheme_end + 3);
    if ((scheme != "http" && scheme != "https") || host.empty() || host.find('/') != std::string_view::npos) {
      const Setting* given = values.given("web-origins");
      throw BadOption{subject("web-origins", given) + ": '" + std::string(word) +
                          "' is not an origin (http://HOST or https://HOST[:PORT], no path)",
                      given == nullptr || given->origin.empty()};
    }
    server.web_origins.emplace_back(word);
  });
}

Options to_options(const Settings& settings) {
  const Values values(settings);
  Options options;
  net::ServerConfig& server = options.server;
  server.host = values.text("host");
  server.port = static_cast<int>(values.number("port"));
  server.max_line = static_cast<std::size_t>(values.number("max-line"));
  server.db = values.text("db");
  server.retain_days = static_cast<int>(values.number("retain-days"));
  server.group_commit = !values.flag("no-group-commit");
  server.store_backlog = static_cast<std::size_t>(values.number("store-backlog"));
  server.max_outbuf = max_outbuf(values);
  server.rate = static_cast<double>(values.number("rate"));
  server.burst = static_cast<double>(values.number("burst"));

  chat::HubConfig& hub = server.hub;
  const auto max_clients = values.number("max-clients");
  hub.max_clients = max_clients == 0 ? descriptor_limited_clients() : static_cast<std::size_t>(max_clients);
  hub.max_queue = static_cast<std::size_t>(values.number("max-queue"));
  hub.max_line = server.max_line;
  hub.presence = presence_mode(values.text("presence"));
  hub.presence_limit = static_cast<std::size_t>(values.number("presence-limit"));
  hub.history_on_join = static_cast<int>(values.number("history"));
  hub.max_per_ip = static_cast<std::size_t>(values.number("max-per-ip"));
  hub.max_registrations_per_minute = static_cast<std::size_t>(values.number("max-registrations"));
  hub.register_timeout = std::chrono::seconds(values.number("register-timeout"));
  hub.idle_timeout = std::chrono::seconds(values.number("idle-timeout"));
  server.utc = values.flag("utc");
  server.line_ending = values.flag("crlf") ? protocol::LineEnding::kCrLf : protocol::LineEnding::kLf;

  set_doors(values, server);
  set_web_origins(values, server);
  server.version = std::string("uvchatd-") + UVCHAT_VERSION;
  server.tls_cert = values.text("tls-cert");
  server.tls_key = values.text("tls-key");
  server.tls_only = values.flag("tls-only");
  if (server.tls_only && server.tls_cert.empty()) {
    const Setting* given = values.given("tls-only");
    throw BadOption{subject("tls-only", given) + " needs a certificate: give --tls-cert (uvchatd --make-cert DIR makes one)",
                    given == nullptr || given->origin.empty()};
  }
  if (!server.tls_key.empty() && server.tls_cert.empty()) {
    const Setting* given = values.given("tls-key");
    throw BadOption{subject("tls-key", given) + " needs --tls-cert as well", given == nullptr || given->origin.empty()};
  }

  options.log_level = *parse_log_level(values.text("log-level"));
  options.log_file = values.text("log-file");
  return options;
}

OptionSources sources_from(const cxxopts::ParseResult& result) {
  OptionSources sources;
  for (const OptionSpec& spec : kOptions) {
    const std::string name(spec.name);
    if (result.count(name) == 0) continue;
    if (spec.kind == Kind::kFlag) {
      sources.command_line[name] = Setting{};
      continue;
    }
    const std::string value = result[name].as<std::string>();
    sources.command_line[name] = Setting{value, {}, quoted(value)};
  }
  if (result.count("config") == 0) {
    sources.config_path = UVCHAT_DEFAULT_CONFIG;
  } else if (const std::string path = result["config"].as<std::string>(); path != kNoConfig) {
    sources.config_path = path;
    sources.config_named = true;
  }
  return sources;
}

// A key of the file as the command line would give it; nothing for a flag
// that is false.
std::optional<Setting> file_setting(const ConfigEntry& entry) {
  const OptionSpec* spec = find_option(entry.key);
  if (spec == nullptr) {
    const bool command_line_only =
        std::find(kCommandLineOnly.begin(), kCommandLineOnly.end(), entry.key) != kCommandLineOnly.end();
    throw BadOption{entry.where + ": " +
                        (command_line_only ? "'" + entry.key + "' is an option of the command line only"
                                           : "unknown key '" + entry.key + "'"),
                    false};
  }
  const Setting setting{{}, entry.where, entry.shown};
  switch (spec->kind) {
    case Kind::kFlag:
      if (const bool* on = std::get_if<bool>(&entry.value))
        return *on ? std::optional(setting) : std::nullopt;
      break;
    case Kind::kNumber:
      if (const std::int64_t* value = std::get_if<std::int64_t>(&entry.value))
        return Setting{std::to_string(*value), entry.where, entry.shown};
      break;
    case Kind::kText:
      if (const std::string* value = std::get_if<std::string>(&entry.value))
        return Setting{*value, entry.where, entry.shown};
      break;
  }
  throw must_be(*spec, &setting, entry.shown);
}

// The default file is read only if it is there; a file named with --config
// must be.
bool should_read(const OptionSources& sources) {
  if (sources.config_path.empty()) return false;
  if (access(sources.config_path.c_str(), R_OK) == 0) return true;
  if (!sources.config_named && errno == ENOENT) return false;
  throw BadOption{"cannot read " + sources.config_path + ": " + std::strerror(errno)};
}

// The file's settings, then the command line's over them.
Settings read_settings(const OptionSources& sources) {
  Settings settings;
  if (should_read(sources)) {
    const ConfigFile file = read_config_file(sources.config_path);
    if (!file.error.empty()) throw BadOption{file.error, false};
    for (const ConfigEntry& entry : file.entries) {
      if (std::optional<Setting> setting = file_setting(entry)) settings[entry.key] = std::move(*setting);
    }
  }
  for (const auto& [name, setting] : sources.command_line) settings[name] = setting;
  return settings;
}

std::string failure(const BadOption& error) {
  return "uvchatd: " + error.message + (error.from_command_line ? "\nTry 'uvchatd --help'.\n" : "\n");
}

// The value an option has under `settings`, for telling what a reload changed.
std::string effective(const Settings& settings, const OptionSpec& spec) {
  const auto found = settings.find(spec.name);
  if (spec.kind == Kind::kFlag) return found == settings.end() ? "off" : "on";
  return found == settings.end() ? std::string(spec.default_value) : found->second.text;
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
    if (result.count("make-cert")) {
      outcome.make_cert_dir = result["make-cert"].as<std::string>();
      if (outcome.make_cert_dir.empty()) throw BadOption{"--make-cert needs a directory"};
      return outcome;
    }
    outcome.sources = sources_from(result);
    Settings settings = read_settings(outcome.sources);
    outcome.configuration = Configuration{to_options(settings), std::move(settings)};
    if (result.count("check-config")) {
      outcome.message = "uvchatd: configuration OK\n";
      return outcome;
    }
    outcome.run = true;
  } catch (const cxxopts::exceptions::exception& error) {
    outcome.exit_code = 2;
    outcome.message = std::string("uvchatd: ") + error.what() + "\nTry 'uvchatd --help'.\n";
  } catch (const BadOption& error) {
    outcome.exit_code = 2;
    outcome.message = failure(error);
  }
  return outcome;
}

ReloadResult reload_options(const OptionSources& sources, const Configuration& running) {
  ReloadResult outcome;
  try {
    const Settings fresh = read_settings(sources);
    to_options(fresh);  // a wrong value is an error even where it would not apply
    Settings kept;
    for (const OptionSpec& spec : kOptions) {
      const bool changed = effective(fresh, spec) != effective(running.settings, spec);
      if (changed) (spec.reload == kLive ? outcome.applied : outcome.need_restart).emplace_back(spec.name);
      const Settings& from = changed && spec.reload == kRestart ? running.settings : fresh;
      if (const auto found = from.find(spec.name); found != from.end()) kept.insert(*found);
    }
    outcome.configuration = Configuration{to_options(kept), std::move(kept)};
  } catch (const BadOption& error) {
    outcome.error = error.message;
  }
  return outcome;
}

}  // namespace uvchat::server
