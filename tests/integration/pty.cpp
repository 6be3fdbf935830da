#include "pty.hpp"

#include <fcntl.h>
#include <pty.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <sstream>

namespace uvchat::test {
namespace {

// How many of the last bytes written are shown, escaped, when a test fails.
constexpr std::size_t kOutputTailShown = 600;

std::string_view variable_name(std::string_view entry) { return entry.substr(0, entry.find('=') + 1); }

bool names_variable(std::string_view entry, std::string_view name) { return variable_name(entry) == name; }

// The program's environment: ours, with TERM and NO_COLOR set, `extra`
// winning over both, and without what would contradict the terminal.
std::vector<std::string> program_environment(const PtyOptions& options) {
  std::vector<std::string> overrides = {"TERM=xterm"};
  if (options.no_color) overrides.push_back("NO_COLOR=1");
  for (const std::string& entry : options.env) {
    std::erase_if(overrides,
                  [&](const std::string& item) { return names_variable(item, variable_name(entry)); });
    overrides.push_back(entry);
  }
  std::vector<std::string> env = environment_with(overrides);
  const auto given = [&](std::string_view name) {
    return std::any_of(options.env.begin(), options.env.end(),
                       [&](const std::string& entry) { return names_variable(entry, name); });
  };
  // LINES and COLUMNS would win over the window size in some programs.
  for (const std::string_view name : {"LINES=", "COLUMNS=", "NO_COLOR="}) {
    if (name == "NO_COLOR=" && options.no_color) continue;
    if (given(name)) continue;
    std::erase_if(env, [&](const std::string& entry) { return names_variable(entry, name); });
  }
  return env;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  for (std::string& text : strings) pointers.push_back(text.data());
  pointers.push_back(nullptr);
  return pointers;
}

// `bytes` with control characters and non-ASCII bytes written as \r, \e,
// \xNN, so that what a program wrote can be read in a failure message.
std::string escaped(std::string_view bytes) {
  std::ostringstream text;
  for (const char character : bytes) {
    const auto byte = static_cast<unsigned char>(character);
    if (byte == '\n') {
      text << "\\n\n";
    } else if (byte == '\r') {
      text << "\\r";
    } else if (byte == 0x1b) {
      text << "\\e";
    } else if (byte < 0x20 || byte >= 0x7f) {
      static const char kHex[] = "0123456789abcdef";
      text << "\\x" << kHex[byte >> 4] << kHex[byte & 0xf];
    } else {
      text << character;
    }
  }
  return text.str();
}

// In the child, between fork and exec: only async-signal-safe calls. When
// exec fails, its errno goes to `exec_report`, which exec closes otherwise.
[[noreturn]] void become_program(int terminal, int exec_report, char* const argv[], char* const envp[]) {
  ::setsid();
  ::ioctl(terminal, TIOCSCTTY, 0);
  ::dup2(terminal, STDIN_FILENO);
  ::dup2(terminal, STDOUT_FILENO);
  ::dup2(terminal, STDERR_FILENO);
  // The test ignores SIGPIPE, and may have been started with SIGINT
  // ignored (a background job of a shell) or with signals blocked; ignored
  // signals stay ignored across exec. The program starts as it would from a
  // shell at a terminal: Ctrl-C must be able to interrupt it.
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  for (int signal_number = 1; signal_number < NSIG; ++signal_number) {
    ::sigaction(signal_number, &default_action, nullptr);  // fails, harmlessly, for SIGKILL and SIGSTOP
  }
  sigset_t nothing;
  ::sigemptyset(&nothing);
  ::sigprocmask(SIG_SETMASK, &nothing, nullptr);
  ::execve(argv[0], argv, envp);
  const int exec_errno = errno;
  [[maybe_unused]] const ssize_t written = ::write(exec_report, &exec_errno, sizeof exec_errno);
  ::_exit(127);
}

// Waits until the child has exec'd (the pipe closes with nothing in it) or
// failed to (its errno comes through); returns that errno, or 0.
int exec_errno(int exec_report) {
  int child_errno = 0;
  for (;;) {
    const ssize_t count = ::read(exec_report, &child_errno, sizeof child_errno);
    if (count < 0 && errno == EINTR) continue;
    return count == sizeof child_errno ? child_errno : 0;
  }
}

}  // namespace

PtyProcess::PtyProcess(const std::vector<std::string>& argv, PtyOptions options)
    : options_(std::move(options)), screen_(options_.rows, options_.cols) {
  // Everything the child needs is made before fork: after it, in a process
  // with threads, the child may only call async-signal-safe functions.
  std::vector<std::string> args = argv;
  std::vector<std::string> env = program_environment(options_);
  const std::vector<char*> arg_pointers = c_strings(args);
  const std::vector<char*> env_pointers = c_strings(env);

  int master = -1;
  int slave = -1;
  winsize size{};
  size.ws_row = static_cast<unsigned short>(options_.rows);
  size.ws_col = static_cast<unsigned short>(options_.cols);
  if (::openpty(&master, &slave, nullptr, nullptr, &size) != 0) FAIL("openpty: " << std::strerror(errno));
  terminal_.reset(master);
  const UniqueFd program_side(slave);
  // No other child (a server started later) may hold either side: the
  // program's end of the terminal is seen only once every holder closed it.
  ::fcntl(master, F_SETFD, FD_CLOEXEC);
  ::fcntl(slave, F_SETFD, FD_CLOEXEC);
  UniqueFd reading_side(::fcntl(master, F_DUPFD_CLOEXEC, 0));
  if (reading_side.get() < 0) FAIL("dup of the terminal: " << std::strerror(errno));

  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) FAIL("pipe2: " << std::strerror(errno));
  const UniqueFd report_read(report[0]);
  UniqueFd report_write(report[1]);

  pid_ = ::fork();
  if (pid_ < 0) FAIL("fork: " << std::strerror(errno));
  if (pid_ == 0) become_program(slave, report[1], arg_pointers.data(), env_pointers.data());
  report_write.reset();
  // Once exec has happened the program has its session and controlling
  // terminal: what is typed from now on reaches it, Ctrl-C included.
  if (const int failure = exec_errno(report_read.get()); failure != 0) {
    reap_within(pid_, kExitTimeout);
    FAIL("cannot run " << argv[0] << ": " << std::strerror(failure));
  }
  // Read on a thread of its own, so that the program never waits for us to
  // read what it writes. Once it has ended, reading the terminal fails
  // (EIO): the reader stops there.
  reader_ = std::make_unique<PipeDrain>(std::move(reading_side));
}

PtyProcess::~PtyProcess() {
  if (pid_ <= 0 || status_) return;
  ::kill(pid_, SIGKILL);
  int raw = 0;
  while (::waitpid(pid_, &raw, 0) < 0 && errno == EINTR) {
  }
}

void PtyProcess::type(std::string_view bytes) {
  if (!write_all_within(terminal_.get(), bytes, kLineTimeout)) {
    FAIL("the terminal did not take what was typed ('" << escaped(bytes) << "'): " << std::strerror(errno)
                                                       << "\n"
                                                       << describe());
  }
}

void PtyProcess::signal(int signal_number) const {
  if (!status_) ::kill(pid_, signal_number);
}

const Screen& PtyProcess::updated_screen(const std::string& output) const {
  if (bytes_fed_ < output.size()) {
    screen_.feed(std::string_view(output).substr(bytes_fed_));
    bytes_fed_ = output.size();
  }
  return screen_;
}

Screen PtyProcess::screen() const {
  const std::string written = reader_->text();
  const std::lock_guard lock(screen_mutex_);
  return updated_screen(written);
}

std::string PtyProcess::output() const { return reader_->text(); }

std::string PtyProcess::describe() {
  const std::optional<ExitStatus> status = try_wait_for_exit(Duration(0));
  const std::string written = output();
  const std::size_t tail_start = written.size() > kOutputTailShown ? written.size() - kOutputTailShown : 0;
  std::ostringstream text;
  text << screen().describe() << "the program " << (status ? status->describe() : "is still running");
  if (written.empty()) {
    text << "; it wrote nothing\n";
  } else {
    text << "; it wrote " << written.size() << " bytes, "
         << (tail_start > 0 ? "the last " + std::to_string(kOutputTailShown) : "all") << ":\n"
         << escaped(std::string_view(written).substr(tail_start)) << "\n";
  }
  return text.str();
}

bool PtyProcess::try_wait_for(const ScreenPredicate& holds, Duration timeout) const {
  return reader_->wait_until(
      [&](const std::string& written) {
        const std::lock_guard lock(screen_mutex_);
        return holds(updated_screen(written));
      },
      timeout);
}

void PtyProcess::wait_for(const ScreenPredicate& holds, Duration timeout, std::string_view what) {
  const Stopwatch watch;
  if (try_wait_for(holds, timeout)) return;
  const bool ended = reader_->wait_closed(Duration(0));
  FAIL("waited " << watch.elapsed().count() << " ms for " << what
                 << (ended ? ", but the program closed its terminal" : "") << "; " << describe());
}

void PtyProcess::wait_for_text(std::string_view needle, Duration timeout) {
  wait_for([&](const Screen& screen) { return screen.contains(needle); }, timeout,
           "'" + std::string(needle) + "' on the screen");
}

std::optional<ExitStatus> PtyProcess::try_wait_for_exit(Duration timeout) {
  if (!status_) status_ = reap_within(pid_, timeout);
  return status_;
}

ExitStatus PtyProcess::wait_for_exit(Duration timeout) {
  const std::optional<ExitStatus> status = try_wait_for_exit(timeout);
  if (!status) FAIL("the program did not exit within " << timeout.count() << " ms; " << describe());
  // Whatever it wrote last is read before we return.
  reader_->wait_closed(kLineTimeout);
  return *status;
}

}  // namespace uvchat::test
