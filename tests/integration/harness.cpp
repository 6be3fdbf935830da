#include "harness.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

extern char** environ;

namespace uvchat::test {
namespace {

using Clock = std::chrono::steady_clock;

// A peer that goes away must fail a test, not kill the test process.
[[maybe_unused]] const bool kSigpipeIgnored = [] {
  std::signal(SIGPIPE, SIG_IGN);
  return true;
}();

constexpr std::size_t kReadChunk = 64 * 1024;
constexpr std::size_t kLinesShownOnFailure = 20;
constexpr Duration kExitPollInterval{5};

int milliseconds_until(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<Duration>(deadline - Clock::now()).count();
  return static_cast<int>(std::max<std::int64_t>(left, 0));
}

std::string errno_text(std::string_view what) { return std::string(what) + ": " + std::strerror(errno); }

// Both ends close on exec, so no child inherits another's pipes.
std::pair<UniqueFd, UniqueFd> make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) FAIL(errno_text("pipe2"));
  return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  for (std::string& text : strings) pointers.push_back(text.data());
  pointers.push_back(nullptr);
  return pointers;
}

std::string quoted_lines(const std::vector<std::string>& lines) {
  std::ostringstream text;
  const std::size_t first = lines.size() > kLinesShownOnFailure ? lines.size() - kLinesShownOnFailure : 0;
  if (first > 0) text << "  ... (" << first << " earlier lines)\n";
  for (std::size_t i = first; i < lines.size(); ++i) text << "  '" << lines[i] << "'\n";
  return text.str();
}

// The port in a whole log line `... listening on HOST:PORT` (HOST may be [v6]).
std::optional<int> listening_port(const std::string& log) {
  static const std::regex kListening(R"(listening on (\S+):(\d+)\n)");
  std::smatch match;
  if (!std::regex_search(log, match, kListening)) return std::nullopt;
  return std::stoi(match[2].str());
}

}  // namespace

bool wait_ready(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    pollfd entry{fd, events, 0};
    const int ready = ::poll(&entry, 1, milliseconds_until(deadline));
    if (ready > 0) return true;
    if (ready == 0) return false;
    if (errno != EINTR) FAIL(errno_text("poll"));
  }
}

std::vector<std::string> environment_with(const std::vector<std::string>& overrides) {
  std::vector<std::string> result;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
    const std::string_view name = text.substr(0, text.find('=') + 1);
    const bool replaced = std::any_of(overrides.begin(), overrides.end(),
                                      [&](const std::string& item) { return item.starts_with(name); });
    if (!replaced) result.emplace_back(text);
  }
  result.insert(result.end(), overrides.begin(), overrides.end());
  return result;
}

bool write_all_within(int fd, std::string_view bytes, Duration timeout) {
  // At most PIPE_BUF bytes a write: after POLLOUT, a pipe takes that many
  // without blocking, so a reader that stops reading cannot hang us.
  constexpr std::size_t kChunk = 512;
  const auto deadline = Clock::now() + timeout;
  while (!bytes.empty()) {
    if (!wait_ready(fd, POLLOUT, deadline)) return false;
    const ssize_t written = ::write(fd, bytes.data(), std::min(bytes.size(), kChunk));
    if (written > 0) {
      bytes.remove_prefix(static_cast<std::size_t>(written));
    } else if (written < 0 && errno != EINTR && errno != EAGAIN) {
      return false;
    }
  }
  return true;
}

Duration Stopwatch::elapsed() const { return std::chrono::duration_cast<Duration>(Clock::now() - start_); }

std::string uvchatd_path() {
  const char* path = std::getenv("UVCHATD");
  if (path == nullptr || *path == '\0') FAIL("UVCHATD is not set: it must name the uvchatd binary to test");
  return path;
}

std::string uvchat_bench_path() {
  const char* path = std::getenv("UVCHAT_BENCH");
  if (path == nullptr || *path == '\0')
    FAIL("UVCHAT_BENCH is not set: run the tests through scripts/run-tests");
  return path;
}

std::string uvchat_relay_path() {
  const char* path = std::getenv("UVCHAT_RELAY");
  if (path == nullptr || *path == '\0')
    FAIL("UVCHAT_RELAY is not set: run the tests through scripts/run-tests");
  return path;
}

std::string uvchat_path() {
  const char* path = std::getenv("UVCHAT");
  if (path == nullptr || *path == '\0') FAIL("UVCHAT is not set: it must name the uvchat binary to test");
  if (!std::filesystem::is_regular_file(path) || ::access(path, X_OK) != 0) {
    FAIL("UVCHAT=" << path << " is not an executable file");
  }
  return path;
}

bool has_ipv6_loopback() {
  const UniqueFd probe(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (probe.get() < 0) return false;
  sockaddr_in6 address{};
  address.sin6_family = AF_INET6;
  address.sin6_addr = in6addr_loopback;
  return ::bind(probe.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
}

const std::vector<std::string>& help_lines() {
  static const std::vector<std::string> kLines = {
      "server:help server:register NAME [PASSWORD] - take NAME (a password keeps it yours)",
      "server:help NAME:TEXT - send TEXT to NAME (queued if NAME is offline)",
      "server:help #ROOM:TEXT - send TEXT to a room you are in",
      "server:help *:TEXT - send TEXT to everyone online",
      "server:help server:who - who is online",
      "server:help server:join #ROOM - join a room, making it if need be",
      "server:help server:leave #ROOM - leave a room",
      "server:help server:rooms - the rooms there are",
      "server:help server:members #ROOM - who is in a room",
      "server:help server:history #ROOM|NAME [N] - recent messages",
      "server:help server:ping - the server answers pong",
      "server:help server:help - this text",
      "server:help server:exit - say goodbye and disconnect",
  };
  return kLines;
}

// ---------------------------------------------------------------- UniqueFd

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) reset(other.release());
  return *this;
}

int UniqueFd::release() {
  const int fd = fd_;
  fd_ = -1;
  return fd;
}

void UniqueFd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

// -------------------------------------------------------------- ExitStatus

std::string ExitStatus::describe() const {
  if (WIFEXITED(raw)) return "exited with " + std::to_string(WEXITSTATUS(raw));
  if (WIFSIGNALED(raw)) return "killed by signal " + std::to_string(WTERMSIG(raw));
  return "wait status " + std::to_string(raw);
}

std::optional<ExitStatus> reap_within(pid_t pid, Duration timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    int raw = 0;
    const pid_t done = ::waitpid(pid, &raw, WNOHANG);
    if (done == pid) return ExitStatus{raw};
    if (done < 0 && errno != EINTR) FAIL(errno_text("waitpid"));
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(kExitPollInterval);
  }
}

// --------------------------------------------------------------- PipeDrain

PipeDrain::PipeDrain(UniqueFd fd) : fd_(std::move(fd)) {
  auto [wake_read, wake_write] = make_pipe();
  wake_read_ = std::move(wake_read);
  wake_write_ = std::move(wake_write);
  thread_ = std::thread([this] { run(); });
}

PipeDrain::~PipeDrain() {
  [[maybe_unused]] const ssize_t written = ::write(wake_write_.get(), "x", 1);
  thread_.join();
}

void PipeDrain::run() {
  char buffer[4096];
  for (;;) {
    pollfd entries[2] = {{fd_.get(), POLLIN, 0}, {wake_read_.get(), POLLIN, 0}};
    if (::poll(entries, 2, -1) < 0 && errno != EINTR) break;
    if (entries[1].revents != 0) break;
    if (entries[0].revents == 0) continue;
    const ssize_t count = ::read(fd_.get(), buffer, sizeof buffer);
    if (count < 0 && errno == EINTR) continue;
    const std::lock_guard lock(mutex_);
    if (count <= 0) break;
    text_.append(buffer, static_cast<std::size_t>(count));
    changed_.notify_all();
  }
  const std::lock_guard lock(mutex_);
  closed_ = true;
  changed_.notify_all();
}

std::string PipeDrain::text() const {
  const std::lock_guard lock(mutex_);
  return text_;
}

bool PipeDrain::wait_until(const std::function<bool(const std::string&)>& holds, Duration timeout) const {
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, timeout, [&] { return closed_ || holds(text_); });
  return holds(text_);
}

bool PipeDrain::wait_for(std::string_view needle, Duration timeout) const {
  return wait_until([&](const std::string& text) { return text.find(needle) != std::string::npos; }, timeout);
}

bool PipeDrain::wait_closed(Duration timeout) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return closed_; });
}

// ------------------------------------------------------------ ChildProcess

ChildProcess::ChildProcess(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env,
                           Stdout stdout_mode) {
  // Everything the child needs is made before fork: after it, in a process
  // with threads, the child may only call async-signal-safe functions.
  std::vector<std::string> args = argv;
  std::vector<std::string> env = environment_with(extra_env);
  const std::vector<char*> arg_pointers = c_strings(args);
  const std::vector<char*> env_pointers = c_strings(env);
  auto [in_read, in_write] = make_pipe();
  auto [out_read, out_write] = make_pipe();
  auto [err_read, err_write] = make_pipe();
  // We ignore SIGPIPE; the child starts as it would from a shell.
  struct sigaction default_sigpipe {};
  default_sigpipe.sa_handler = SIG_DFL;

  pid_ = ::fork();
  if (pid_ < 0) FAIL(errno_text("fork"));
  if (pid_ == 0) {
    ::sigaction(SIGPIPE, &default_sigpipe, nullptr);
    ::dup2(in_read.get(), STDIN_FILENO);
    ::dup2(out_write.get(), STDOUT_FILENO);
    ::dup2(err_write.get(), STDERR_FILENO);
    ::execve(arg_pointers[0], arg_pointers.data(), env_pointers.data());
    const char message[] = "harness: exec failed\n";
    [[maybe_unused]] const ssize_t written = ::write(STDERR_FILENO, message, sizeof message - 1);
    ::_exit(127);
  }
  stdin_ = std::move(in_write);
  stderr_drain_ = std::make_unique<PipeDrain>(std::move(err_read));
  if (stdout_mode == Stdout::kDrain) {
    stdout_drain_ = std::make_unique<PipeDrain>(std::move(out_read));
  } else {
    stdout_pipe_ = std::move(out_read);
  }
}

ChildProcess::~ChildProcess() {
  stdin_.reset();
  if (status_) return;
  ::kill(pid_, SIGKILL);
  int raw = 0;
  while (::waitpid(pid_, &raw, 0) < 0 && errno == EINTR) {
  }
}

void ChildProcess::signal(int signal_number) const {
  if (!status_) ::kill(pid_, signal_number);
}

std::optional<ExitStatus> ChildProcess::try_wait_exit(Duration timeout) {
  if (!status_) status_ = reap_within(pid_, timeout);
  return status_;
}

ExitStatus ChildProcess::wait_exit(Duration timeout) {
  const std::optional<ExitStatus> status = try_wait_exit(timeout);
  if (!status) {
    FAIL("the process did not exit within " << timeout.count() << " ms; its stderr:\n" << err().text());
  }
  // Its pipes close with it; what is still in them is read before we return.
  const bool drained =
      stderr_drain_->wait_closed(timeout) && (!stdout_drain_ || stdout_drain_->wait_closed(timeout));
  if (!drained) FAIL("the process " << status->describe() << " but its output pipes stayed open");
  return *status;
}

namespace {

RunResult run_to_end(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env,
                     std::string_view input, Duration timeout) {
  ChildProcess process(argv, extra_env, ChildProcess::Stdout::kDrain);
  // A child that exits before reading all of it makes the write fail; its
  // exit status tells the test what went wrong.
  if (!input.empty()) write_all_within(process.stdin_fd(), input, timeout);
  process.close_stdin();
  RunResult result;
  result.status = process.wait_exit(timeout);
  result.out = process.out().text();
  result.err = process.err().text();
  return result;
}

}  // namespace

RunResult run_command(const std::vector<std::string>& argv, Duration timeout) {
  return run_to_end(argv, {}, {}, timeout);
}

RunResult run_command_with_input(const std::vector<std::string>& argv, std::string_view input,
                                 const std::vector<std::string>& extra_env, Duration timeout) {
  return run_to_end(argv, extra_env, input, timeout);
}

RunResult run_uvchatd(const std::vector<std::string>& args, Duration timeout) {
  std::vector<std::string> argv = {uvchatd_path()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_to_end(argv, {"TZ=UTC"}, {}, timeout);
}

long proc_status_number(pid_t pid, std::string_view field) {
  const std::string path = "/proc/" + std::to_string(pid) + "/status";
  std::ifstream status(path);
  const std::string prefix = std::string(field) + ":";
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with(prefix)) return std::stol(line.substr(prefix.size()));
  }
  FAIL("no " << field << " in " << path);
  return 0;
}

std::optional<std::string> find_program(std::string_view program) {
  const char* path = std::getenv("PATH");
  std::istringstream directories(path == nullptr ? "/usr/bin:/bin" : path);
  std::string directory;
  while (std::getline(directories, directory, ':')) {
    if (directory.empty()) continue;
    std::string candidate = directory + "/" + std::string(program);
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return std::nullopt;
}

std::optional<std::string> sqlite3_output(const std::string& path, const std::string& sql, bool read_only) {
  const std::optional<std::string> shell = find_program("sqlite3");
  if (!shell) return std::nullopt;
  std::vector<std::string> argv = {*shell, "-batch"};
  if (read_only) argv.push_back("-readonly");
  argv.push_back(path);
  argv.push_back(sql);
  const RunResult run = run_command(argv);
  INFO("sqlite3 " << path << " '" << sql << "': " << run.err);
  REQUIRE(run.status.describe() == "exited with 0");
  return run.out;
}

// ----------------------------------------------------------------- TempDir

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/uvchat-test-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) FAIL(errno_text("mkdtemp " + pattern));
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::vector<std::string> TempDir::names() const {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(path_)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::optional<std::string> read_file_bytes(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return std::nullopt;
  std::ostringstream bytes;
  bytes << file.rdbuf();
  return bytes.str();
}

void write_file_bytes(const std::string& path, std::string_view bytes) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!file.flush()) FAIL("cannot write " << path);
}

std::size_t count_of(std::string_view text, std::string_view needle) {
  std::size_t count = 0;
  for (std::size_t at = text.find(needle); at != std::string_view::npos;
       at = text.find(needle, at + needle.size())) {
    ++count;
  }
  return count;
}

// -------------------------------------------------------------- TestServer

namespace {

std::vector<std::string> server_environment(const ServerSetup& setup) {
  std::vector<std::string> env = {"TZ=" + setup.tz};
  env.insert(env.end(), setup.env.begin(), setup.env.end());
  return env;
}

}  // namespace

TestServer::TestServer(ServerSetup setup)
    : host_(setup.host),
      process_(command_line(setup), server_environment(setup), ChildProcess::Stdout::kDrain) {
  port_ = wait_for_port();
}

std::vector<std::string> TestServer::command_line(const ServerSetup& setup) {
  // Limits meant for strangers on a network are off by default here: tests
  // send fast and connect many clients from one address. The tests of
  // those limits set them (a later option wins). No config file either: an
  // installed one (make install) must not change what the tests see; the
  // tests of config files name theirs.
  std::vector<std::string> argv = {setup.program.empty() ? uvchatd_path() : setup.program,
                                   "--config", "none", "--host", setup.host, "--port", "0", "--log-level", "info",
                                   "--db", setup.db, "--rate", "0", "--max-per-ip", "0", "--max-registrations", "0"};
  argv.insert(argv.end(), setup.args.begin(), setup.args.end());
  return argv;
}

int TestServer::wait_for_port() {
  const auto has_port = [](const std::string& text) { return listening_port(text).has_value(); };
  if (!process_.err().wait_until(has_port, kStartTimeout)) {
    const std::optional<ExitStatus> status = process_.try_wait_exit(Duration(0));
    const std::string state = status ? "it " + status->describe() : "it is still running";
    FAIL("uvchatd did not log 'listening on HOST:PORT' within " << kStartTimeout.count() << " ms (" << state
                                                                << "); its stderr:\n"
                                                                << log());
  }
  return *listening_port(log());
}

bool TestServer::wait_for_log(std::string_view needle, Duration timeout) const {
  return process_.err().wait_for(needle, timeout);
}

// ------------------------------------------------------- RestartableServer

RestartableServer::RestartableServer(ServerSetup setup) : setup_(std::move(setup)) {
  setup_.db = dir_.file("uvchat.db");
  start();
}

void RestartableServer::stop(int signal_number) {
  if (!server_) return;
  server_->stop(signal_number);
  const ExitStatus status = server_->wait_exit();
  const std::string expected =
      signal_number == SIGKILL ? "killed by signal " + std::to_string(SIGKILL) : "exited with 0";
  INFO("uvchatd on " << setup_.db << ", stopped with signal " << signal_number << "; its stderr:\n"
                     << server_->log());
  REQUIRE(status.describe() == expected);
  server_.reset();
}

void RestartableServer::keep_port() {
  if (!server_) FAIL("keep_port: the server is not running");
  // A later --port wins over the harness's --port 0.
  setup_.args.insert(setup_.args.end(), {"--port", std::to_string(server_->port())});
}

void RestartableServer::start() {
  stop();
  server_.emplace(setup_);
}

// ---------------------------------------------------------------- LinePeer

void LinePeer::attach(int read_fd, int write_fd) {
  read_fd_ = read_fd;
  write_fd_ = write_fd;
}

void LinePeer::send(std::string_view bytes) {
  const auto deadline = Clock::now() + kLineTimeout;
  while (!bytes.empty()) {
    const ssize_t written = write_some(bytes);
    if (written > 0) {
      bytes.remove_prefix(static_cast<std::size_t>(written));
    } else if (written < 0 && errno == EAGAIN) {
      if (!wait_ready(write_fd_, POLLOUT, deadline)) FAIL(label_ << ": the server does not take our bytes");
    } else if (written < 0 && errno != EINTR) {
      FAIL(label_ << ": " << errno_text("write"));
    }
  }
}

bool LinePeer::try_send(std::string_view bytes) {
  const ssize_t written = write_some(bytes);
  return written == static_cast<ssize_t>(bytes.size());
}

ssize_t LinePeer::read_some(char* buffer, std::size_t most) { return ::read(read_fd_, buffer, most); }

ssize_t LinePeer::write_some(std::string_view bytes) {
  return ::write(write_fd_, bytes.data(), bytes.size());
}

void LinePeer::send_line(std::string_view text) {
  std::string line(text);
  line.push_back('\n');
  send(line);
}

std::optional<std::string> LinePeer::take_line() {
  const std::size_t end = pending_.find('\n');
  if (end == std::string::npos) return std::nullopt;
  std::string line = pending_.substr(0, end);
  pending_.erase(0, end + 1);
  received_.push_back(line);
  return line;
}

bool LinePeer::receive_more(Clock::time_point deadline, std::size_t most) {
  while (!closed_) {
    if (!has_buffered_input() && !wait_ready(read_fd_, POLLIN, deadline)) return false;
    char buffer[kReadChunk];
    const ssize_t count = read_some(buffer, std::min(most, sizeof buffer));
    if (count > 0) {
      pending_.append(buffer, static_cast<std::size_t>(count));
      return true;
    }
    if (count == 0 || errno == ECONNRESET) {
      closed_ = true;
    } else if (errno != EINTR && errno != EAGAIN) {
      FAIL(label_ << ": " << errno_text("read"));
    }
  }
  return false;
}

std::optional<std::string> LinePeer::try_read_line(Duration timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (std::optional<std::string> line = take_line()) return line;
    if (!receive_more(deadline)) return std::nullopt;
  }
}

std::string LinePeer::received_so_far() const {
  std::string text = "lines received so far:\n" + quoted_lines(received_);
  if (!pending_.empty()) text += "and without LF: '" + pending_ + "'\n";
  return text;
}

std::string LinePeer::read_line(Duration timeout) {
  std::optional<std::string> line = try_read_line(timeout);
  if (!line) {
    const std::string why =
        closed_ ? "the connection closed" : "nothing came within " + std::to_string(timeout.count()) + " ms";
    FAIL(label_ << ": waiting for a line, " << why << "; " << received_so_far());
  }
  return *line;
}

void LinePeer::expect(std::string_view exact) {
  const std::string line = read_line();
  INFO(label_ << ": " << received_so_far());
  REQUIRE(line == std::string(exact));
}

void LinePeer::expect_lines(std::initializer_list<std::string_view> lines) {
  for (const std::string_view line : lines) expect(line);
}

void LinePeer::expect_unordered(std::vector<std::string> lines) {
  std::vector<std::string> seen;
  for (std::size_t i = 0; i < lines.size(); ++i) seen.push_back(read_line());
  std::sort(lines.begin(), lines.end());
  std::sort(seen.begin(), seen.end());
  INFO(label_ << ": the lines, sorted");
  REQUIRE(seen == lines);
}

void LinePeer::expect_match(const std::string& pattern) {
  const std::string line = read_line();
  INFO(label_ << ": '" << line << "' should match /" << pattern << "/");
  REQUIRE(std::regex_match(line, std::regex(pattern)));
}

void LinePeer::expect_stamped(bool replayed, std::string_view rest) {
  // Built once: building a std::regex costs far more than matching one.
  static const std::regex kTime(R"(\[([01]\d|2[0-3]):[0-5]\d:[0-5]\d\] )");
  static const std::regex kDateTime(
      R"(\[\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01]) ([01]\d|2[0-3]):[0-5]\d:[0-5]\d\] )");
  const std::string line = read_line();
  INFO(label_ << ": expected '" << (replayed ? "[YYYY-MM-DD HH:MM:SS] " : "[HH:MM:SS] ") << rest << "', got '"
              << line << "'");
  std::smatch stamp;
  REQUIRE(
      std::regex_search(line, stamp, replayed ? kDateTime : kTime, std::regex_constants::match_continuous));
  REQUIRE(line.substr(static_cast<std::size_t>(stamp.length())) == std::string(rest));
}

void LinePeer::expect_chat(std::string_view rest) { expect_stamped(false, rest); }

void LinePeer::expect_replayed(std::string_view rest) { expect_stamped(true, rest); }

void LinePeer::expect_quiet() {
  send_line("server:ping");
  expect("server:pong");
}

void LinePeer::expect_closed(Duration timeout) {
  const std::optional<std::string> line = try_read_line(timeout);
  if (line) FAIL(label_ << ": expected the connection to close, got the line '" << *line << "'");
  if (!closed_) FAIL(label_ << ": the connection is still open after " << timeout.count() << " ms");
  if (!pending_.empty()) FAIL(label_ << ": closed after a line without LF: '" << pending_ << "'");
}

std::vector<std::string> LinePeer::read_until_closed(Duration timeout) {
  const auto deadline = Clock::now() + timeout;
  std::vector<std::string> lines;
  for (;;) {
    while (std::optional<std::string> line = take_line()) lines.push_back(std::move(*line));
    if (!receive_more(deadline)) break;
  }
  if (!closed_) FAIL(label_ << ": the connection is still open after " << timeout.count() << " ms");
  pending_.clear();
  return lines;
}

std::vector<std::string> LinePeer::read_until_closed_paced(std::size_t chunk, std::chrono::microseconds pause,
                                                           Duration timeout) {
  const auto deadline = Clock::now() + timeout;
  std::vector<std::string> lines;
  for (;;) {
    while (std::optional<std::string> line = take_line()) lines.push_back(std::move(*line));
    if (!receive_more(deadline, chunk)) break;
    std::this_thread::sleep_for(pause);
  }
  if (!closed_) FAIL(label_ << ": the connection is still open after " << timeout.count() << " ms");
  pending_.clear();
  return lines;
}

void LinePeer::register_as(std::string_view name, int queued_messages) {
  send_line("server:register " + std::string(name));
  expect("server:welcome " + std::string(name));
  expect("server:queued-messages " + std::to_string(queued_messages));
}

Duration ping_round_trip(LinePeer& peer) {
  const Stopwatch watch;
  peer.expect_quiet();
  return watch.elapsed();
}

void register_and_exit(const TestServer& server, const std::string& name) {
  TestClient client(server, name);
  client.register_as(name);
  client.send_line("server:exit");
  client.expect("server:bye");
  client.expect_closed();
}

std::string numbered_text(int number) {
  const std::string digits = std::to_string(number);
  return "message " + std::string(digits.size() < 4 ? 4 - digits.size() : 0, '0') + digits;
}

std::string numbered_dm_lines(const std::string& recipient, int count) {
  std::string lines;
  for (int i = 1; i <= count; ++i) lines += recipient + ": " + numbered_text(i) + "\n";
  return lines;
}

void send_numbered_dms_to_offline(LinePeer& sender, const std::string& recipient, int count) {
  sender.send(numbered_dm_lines(recipient, count));
  for (int i = 1; i <= count; ++i) sender.expect("server:queued " + recipient);
}

void expect_numbered_replay(LinePeer& recipient, const std::string& sender, int count) {
  for (int i = 1; i <= count; ++i) recipient.expect_replayed(sender + ": " + numbered_text(i));
}

void join_room(LinePeer& user, const std::string& name, const std::string& room, const std::string& members) {
  user.send_line("server:join " + room);
  user.expect("server:joined " + room + " " + name);
  user.expect("server:members " + room + " " + members);
}

// -------------------------------------------------------------- TestClient

TestClient::TestClient(const TestServer& server, std::string label, int receive_buffer)
    : TestClient(server.host(), server.port(), std::move(label), receive_buffer) {}

namespace {

// A numeric address and port; fails the test when `host` is not one.
std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> numeric_address(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0) {
    FAIL("cannot parse the address " << host);
  }
  return {found, &::freeaddrinfo};
}

}  // namespace

UniqueFd connect_socket(const std::string& host, int port, const std::string& label, int receive_buffer,
                        const std::string& source) {
  const auto found = numeric_address(host, port);
  UniqueFd socket(::socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (socket.get() < 0) FAIL(label << ": " << errno_text("socket"));
  if (receive_buffer > 0) {
    ::setsockopt(socket.get(), SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
  }
  if (!source.empty()) {
    const auto local = numeric_address(source, 0);
    if (::bind(socket.get(), local->ai_addr, local->ai_addrlen) != 0) {
      FAIL(label << ": " << errno_text("bind to " + source));
    }
  }
  if (::connect(socket.get(), found->ai_addr, found->ai_addrlen) != 0) {
    FAIL(label << ": " << errno_text("connect to " + host));
  }
  const int one = 1;
  ::setsockopt(socket.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  ::fcntl(socket.get(), F_SETFL, ::fcntl(socket.get(), F_GETFL) | O_NONBLOCK);
  return socket;
}

int local_port(int socket) {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  if (::getsockname(socket, reinterpret_cast<sockaddr*>(&address), &length) != 0)
    FAIL(errno_text("getsockname"));
  if (address.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&address)->sin6_port);
  return ntohs(reinterpret_cast<const sockaddr_in*>(&address)->sin_port);
}

TestClient::TestClient(const std::string& host, int port, std::string label, int receive_buffer,
                       const std::string& source)
    : LinePeer(std::move(label)), socket_(connect_socket(host, port, this->label(), receive_buffer, source)) {
  attach(socket_.get(), socket_.get());
}

void TestClient::shutdown_write() {
  if (::shutdown(socket_.get(), SHUT_WR) != 0) FAIL(label() << ": " << errno_text("shutdown"));
}

void TestClient::close() {
  attach(-1, -1);
  socket_.reset();
}

// ------------------------------------------------------------------ NcClient

namespace {

std::vector<std::string> nc_command(const TestServer& server, const std::vector<std::string>& flags) {
  std::vector<std::string> argv = {"/usr/bin/nc"};
  argv.insert(argv.end(), flags.begin(), flags.end());
  argv.push_back(server.host());
  argv.push_back(std::to_string(server.port()));
  return argv;
}

}  // namespace

NcClient::NcClient(const TestServer& server, std::vector<std::string> nc_flags, std::string label)
    : LinePeer(std::move(label)), process_(nc_command(server, nc_flags), {}, ChildProcess::Stdout::kPipe) {
  attach(process_.stdout_fd(), process_.stdin_fd());
}

void NcClient::close_stdin() {
  attach(process_.stdout_fd(), -1);
  process_.close_stdin();
}

}  // namespace uvchat::test
