#include "cli.hpp"

#include <uv.h>

#include "option_values.hpp"

namespace uvchat::bench {
namespace {

constexpr std::string_view kProgram = "uvchat-bench";

std::string general_help() {
  std::string help =
      "uvchat-bench: a load generator for uvchatd, for a server on this machine (loopback).\n"
      "\n"
      "Usage: uvchat-bench SCENARIO --port PORT [OPTION...]\n"
      "       uvchat-bench SCENARIO --help     (the scenario's options)\n"
      "\n"
      "Scenarios:\n";
  for (const Scenario& scenario : all_scenarios()) {
    help += "  " + std::string(scenario.name) + "\t" + std::string(scenario.summary) + "\n";
  }
  help +=
      "\n"
      "A run ends with a summary on stderr and one JSON line on stdout. The exit status is 0\n"
      "only when every acknowledged message arrived exactly once and intact and nothing failed.\n"
      "\n"
      "With --tls every connection speaks TLS (uvchatd --tls-cert), its handshake done before\n"
      "its first line. The server's certificate is not verified unless --tls-ca names what to\n"
      "trust: a load generator needs the encryption's cost, not the server's identity.\n"
      "\n"
      "With --door irc the dm and fanout scenarios' clients speak IRC (docs/IRC.md) instead\n"
      "of uvchat's own lines: NICK and USER, PRIVMSG, JOIN, PING. With --door ws they speak\n"
      "uvchat's own lines through the web door (docs/WEB.md): a WebSocket at /ws, subprotocol\n"
      "uvchat, one line per masked text message; with --tls too, a secure one (wss).\n";
  return help;
}

cxxopts::Options make_parser(const Scenario& scenario) {
  cxxopts::Options parser(std::string(kProgram) + " " + std::string(scenario.name),
                          std::string(scenario.summary));
  parser.custom_help("--port PORT [OPTION...]");
  // clang-format off
  parser.add_options()
    ("host", "The server's address (IPv4 or IPv6, numeric)", cxxopts::value<std::string>()->default_value("127.0.0.1"), "HOST")
    ("port", "The server's port", cxxopts::value<std::string>(), "PORT")
    ("timeout", "Fail when the server sends nothing for this long", cxxopts::value<std::string>()->default_value("30"), "SECONDS")
    ("server-pid", "The server's process, for its CPU time and memory (/proc); 0: not measured", cxxopts::value<std::string>()->default_value("0"), "PID")
    ("tls", "Every connection speaks TLS; the server's certificate is not verified (see --tls-ca)")
    ("door", "The door the clients speak: native, irc, or ws (a WebSocket; dm and fanout only)", cxxopts::value<std::string>()->default_value("native"), "DOOR")
    ("tls-ca", "TLS connections verify the server's certificate against FILE and --host, and fail if it does not verify", cxxopts::value<std::string>(), "FILE")
    ("h,help", "Print this help and exit");
  // clang-format on
  scenario.add_options(parser);
  return parser;
}

sockaddr_storage server_address(const cxxopts::ParseResult& options) {
  if (options.count("port") == 0) throw BadOption{"--port is required"};
  const auto port = static_cast<int>(whole_number(options, "port", 1, 65535));
  const auto host = options["host"].as<std::string>();
  sockaddr_storage address{};
  if (uv_ip4_addr(host.c_str(), port, reinterpret_cast<sockaddr_in*>(&address)) == 0) return address;
  if (uv_ip6_addr(host.c_str(), port, reinterpret_cast<sockaddr_in6*>(&address)) == 0) return address;
  throw BadOption{"--host must be a numeric IPv4 or IPv6 address, not '" + host + "'"};
}

// The client context is made here when a CA file is named, so that a file
// it cannot use is a bad command line rather than a failed run.
TlsSetup tls_setup(const cxxopts::ParseResult& options) {
  TlsSetup tls;
  tls.everywhere = options.count("tls") > 0;
  tls.server_name = options["host"].as<std::string>();
  if (options.count("tls-ca") == 0) return tls;
  tls.ca_path = options["tls-ca"].as<std::string>();
  if (tls.ca_path.empty()) throw BadOption{"--tls-ca needs a file"};
  std::string error;
  tls.context = net::TlsContext::client(tls.ca_path, error);
  if (!tls.context) throw BadOption{error};
  return tls;
}

CommandLine bad_command_line(const std::string& problem, std::string_view help_hint) {
  CommandLine command;
  command.exit_code = 2;
  command.message = std::string(kProgram) + ": " + problem + "\nTry '" + std::string(help_hint) + "'.\n";
  return command;
}

CommandLine with_message(std::string message) {
  CommandLine command;
  command.message = std::move(message);
  return command;
}

CommandLine parse_scenario_options(const Scenario& scenario, int argc, const char* const* argv) {
  const std::string hint = std::string(kProgram) + " " + std::string(scenario.name) + " --help";
  cxxopts::Options parser = make_parser(scenario);
  try {
    const cxxopts::ParseResult options = parser.parse(argc, argv);
    if (options.count("help")) return with_message(parser.help({"", std::string(scenario.name)}));
    if (!options.unmatched().empty())
      throw BadOption{"unexpected argument '" + options.unmatched().front() + "'"};
    CommandLine command;
    command.server = server_address(options);
    command.stall_limit = std::chrono::seconds(whole_number(options, "timeout", 1, 3600));
    command.server_pid = static_cast<pid_t>(whole_number(options, "server-pid", 0, 1 << 22));
    command.tls = tls_setup(options);
    if (chosen_door(options) != Door::kNative && !scenario.any_door) {
      throw BadOption{"--door " + options["door"].as<std::string>() +
                      ": only the dm and fanout scenarios speak it"};
    }
    command.scenario = scenario.configure(options);
    command.run = true;
    return command;
  } catch (const cxxopts::exceptions::exception& error) {
    return bad_command_line(error.what(), hint);
  } catch (const BadOption& error) {
    return bad_command_line(error.message, hint);
  }
}

}  // namespace

CommandLine parse_command_line(int argc, const char* const* argv) {
  const std::string first = argc > 1 ? argv[1] : "";
  if (first.empty() || first == "-h" || first == "--help") {
    CommandLine command = with_message(general_help());
    if (first.empty()) command.exit_code = 2;
    return command;
  }
  const Scenario* scenario = find_scenario(first);
  if (scenario == nullptr) {
    return bad_command_line("no scenario '" + first + "'", std::string(kProgram) + " --help");
  }
  // The scenario's name stands where cxxopts expects the program's.
  return parse_scenario_options(*scenario, argc - 1, argv + 1);
}

}  // namespace uvchat::bench
