// A program run under a pseudo-terminal of its own, as a person at a
// terminal would run it: the test types bytes, and reads what the program
// shows through a Screen. Every wait is bounded, and a wait that fails shows
// the screen.
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "harness.hpp"
#include "screen.hpp"

namespace uvchat::test {

struct PtyOptions {
  // The terminal's window size.
  int rows = 24;
  int cols = 80;
  // More of the program's environment, NAME=VALUE; they win over the
  // test's own environment and over TERM=xterm and NO_COLOR=1.
  std::vector<std::string> env = {};
  // False: NO_COLOR is taken out of the program's environment.
  bool no_color = true;
};

using ScreenPredicate = std::function<bool(const Screen&)>;

class PtyProcess {
 public:
  // Starts `argv` (argv[0] a path) as the leader of a new session whose
  // controlling terminal is a new pseudo-terminal: its stdin, stdout and
  // stderr. Fails the test when the terminal cannot be made.
  explicit PtyProcess(const std::vector<std::string>& argv, PtyOptions options = {});
  PtyProcess(const PtyProcess&) = delete;
  PtyProcess& operator=(const PtyProcess&) = delete;
  // Kills (SIGKILL) and reaps the program if it is still running.
  ~PtyProcess();

  pid_t pid() const { return pid_; }

  // Types `bytes` at the terminal: "hello", "\r" (Enter), "\x03" (Ctrl-C).
  // Fails the test when the terminal does not take them.
  void type(std::string_view bytes);
  void signal(int signal_number) const;

  // What the program has shown so far.
  Screen screen() const;
  // Every byte the program has written so far.
  std::string output() const;
  // The screen, how the program is doing and its last bytes, escaped: for
  // assertion messages.
  std::string describe();

  // True once `holds` is true of the screen, waiting at most `timeout`;
  // false at once when the program has closed the terminal (it ended).
  bool try_wait_for(const ScreenPredicate& holds, Duration timeout = kLineTimeout) const;
  // Like try_wait_for, but fails the test, naming `what` and showing the
  // screen.
  void wait_for(const ScreenPredicate& holds, Duration timeout = kLineTimeout,
                std::string_view what = "the screen to be as expected");
  // Waits for `needle` anywhere on the screen (within one row).
  void wait_for_text(std::string_view needle, Duration timeout = kLineTimeout);

  // The exit status once the program has ended, within `timeout`.
  std::optional<ExitStatus> try_wait_for_exit(Duration timeout);
  // Like try_wait_for_exit, but fails the test (showing the screen) on
  // timeout.
  ExitStatus wait_for_exit(Duration timeout = kExitTimeout);

 private:
  // The screen with every byte read so far fed to it.
  const Screen& updated_screen(const std::string& output) const;

  PtyOptions options_;
  pid_t pid_ = -1;
  std::optional<ExitStatus> status_;
  UniqueFd terminal_;  // the master side: what we type goes in, what it shows comes out
  std::unique_ptr<PipeDrain> reader_;

  // Fed incrementally: the output only grows.
  mutable std::mutex screen_mutex_;
  mutable Screen screen_;
  mutable std::size_t bytes_fed_ = 0;
};

}  // namespace uvchat::test
