// The integration test harness: starts the real uvchatd (from $UVCHATD) on a
// free loopback port and talks to it over real sockets, or through nc.
//
// Every wait is bounded. A line that must not arrive is proven absent with
// LinePeer::expect_quiet(): the server answers a connection's lines in order,
// so a `server:pong` that comes next proves nothing was sent before it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace uvchat::test {

using Duration = std::chrono::milliseconds;

// Bounds on every wait.
inline constexpr Duration kLineTimeout{3000};
inline constexpr Duration kStartTimeout{5000};
inline constexpr Duration kExitTimeout{5000};

// Time since it was made, for bounds on how long something took.
class Stopwatch {
 public:
  Duration elapsed() const;

 private:
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

// The binary under test: $UVCHATD. Fails the test when it is not set.
std::string uvchatd_path();

// The client under test: $UVCHAT. Fails the test when it is not set or does
// not name an executable file.
std::string uvchat_path();
// The load generator under test: $UVCHAT_BENCH.
std::string uvchat_bench_path();
// The benchmarks' floor, a bare relay that takes uvchatd's command line: $UVCHAT_RELAY.
std::string uvchat_relay_path();

// True when this machine can bind the IPv6 loopback address ::1.
bool has_ipv6_loopback();

// The 13 `server:help` lines, in order.
const std::vector<std::string>& help_lines();

// Owns a file descriptor and closes it.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  int release();
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

// A status from waitpid, readable in assertion messages.
struct ExitStatus {
  int raw = 0;

  // "exited with 0", "killed by signal 9".
  std::string describe() const;
};

// Reaps the child `pid` once it has ended, within `timeout`; nothing when it
// is still running then.
std::optional<ExitStatus> reap_within(pid_t pid, Duration timeout);

// Polls `fd` for `events` until `deadline`; true when it is ready.
bool wait_ready(int fd, short events, std::chrono::steady_clock::time_point deadline);

// Writes all of `bytes` to `fd` (a pipe, socket or terminal), waiting at
// most `timeout` for room; false when that failed (e.g. the reader is gone)
// or took too long.
bool write_all_within(int fd, std::string_view bytes, Duration timeout);

// Our environment with `overrides` (NAME=VALUE) replacing or adding entries.
std::vector<std::string> environment_with(const std::vector<std::string>& overrides);

// Reads a pipe on a thread of its own until EOF, so that the writer never
// blocks on a full pipe, and keeps everything read.
class PipeDrain {
 public:
  explicit PipeDrain(UniqueFd fd);
  PipeDrain(const PipeDrain&) = delete;
  PipeDrain& operator=(const PipeDrain&) = delete;
  ~PipeDrain();

  std::string text() const;
  // True when `holds` is true of the text read, waiting at most `timeout`.
  bool wait_until(const std::function<bool(const std::string&)>& holds, Duration timeout) const;
  // True when `needle` has been read, waiting at most `timeout` for it.
  bool wait_for(std::string_view needle, Duration timeout) const;
  // True when the writer has closed the pipe, waiting at most `timeout`.
  bool wait_closed(Duration timeout) const;

 private:
  void run();

  UniqueFd fd_;
  UniqueFd wake_read_;
  UniqueFd wake_write_;
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::string text_;
  bool closed_ = false;
  std::thread thread_;
};

// A child process (fork + exec) with a pipe on each of stdin, stdout and
// stderr. Stderr is always drained; stdout is drained, or left to the
// caller to read. The destructor kills (SIGKILL) and reaps it.
class ChildProcess {
 public:
  enum class Stdout { kDrain, kPipe };

  ChildProcess(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env,
               Stdout stdout_mode);
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  int stdin_fd() const { return stdin_.get(); }
  // Only with Stdout::kPipe.
  int stdout_fd() const { return stdout_pipe_.get(); }
  // Only with Stdout::kDrain.
  const PipeDrain& out() const { return *stdout_drain_; }
  const PipeDrain& err() const { return *stderr_drain_; }

  void close_stdin() { stdin_.reset(); }
  void signal(int signal_number) const;
  // The exit status once the process has ended, within `timeout`.
  std::optional<ExitStatus> try_wait_exit(Duration timeout);
  // Like try_wait_exit, but fails the test on timeout, and returns once the
  // drained pipes have been read to their end.
  ExitStatus wait_exit(Duration timeout);

 private:
  pid_t pid_ = -1;
  std::optional<ExitStatus> status_;
  UniqueFd stdin_;
  UniqueFd stdout_pipe_;
  std::unique_ptr<PipeDrain> stdout_drain_;
  std::unique_ptr<PipeDrain> stderr_drain_;
};

// What a process that ran to its end left behind.
struct RunResult {
  ExitStatus status;
  std::string out;
  std::string err;
};

// A number in /proc/PID/status ("FDSize", "Threads"). Fails the test when
// the process or the field is not there.
long proc_status_number(pid_t pid, std::string_view field);
// One of its fields counted in kB ("VmRSS", "VmHWM"), in KiB.
inline long proc_status_kib(pid_t pid, std::string_view field) { return proc_status_number(pid, field); }

// Runs `argv` (argv[0] a path) with stdin closed until it exits.
RunResult run_command(const std::vector<std::string>& argv, Duration timeout = kExitTimeout);

// Runs `argv` with `extra_env` (NAME=VALUE) until it exits; its stdin is a
// pipe that holds `input` and then ends (EOF).
RunResult run_command_with_input(const std::vector<std::string>& argv, std::string_view input,
                                 const std::vector<std::string>& extra_env = {},
                                 Duration timeout = kExitTimeout);

// Runs uvchatd with exactly `args` (no defaults) until it exits.
RunResult run_uvchatd(const std::vector<std::string>& args, Duration timeout = kExitTimeout);

// The path of `program` in a directory of $PATH, or nothing.
std::optional<std::string> find_program(std::string_view program);

// What the sqlite3 shell prints for `sql` on the database `path` (opened
// read-only unless `read_only` is false), or nothing when the shell is not
// installed. Fails the test when the shell fails.
std::optional<std::string> sqlite3_output(const std::string& path, const std::string& sql,
                                          bool read_only = true);

// A directory of its own under $TMPDIR (default /tmp), removed with
// everything in it when the test is done.
class TempDir {
 public:
  TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();

  const std::string& path() const { return path_; }
  // The path of `name` in this directory.
  std::string file(std::string_view name) const { return path_ + "/" + std::string(name); }
  // The names in this directory, sorted.
  std::vector<std::string> names() const;

 private:
  std::string path_;
};

// A file's bytes, or nothing when it does not exist.
std::optional<std::string> read_file_bytes(const std::string& path);
void write_file_bytes(const std::string& path, std::string_view bytes);

// How many times `needle` stands in `text` (a log, say), not overlapping.
std::size_t count_of(std::string_view text, std::string_view needle);

struct ServerSetup {
  // Appended to `--host HOST --port 0 --log-level info --db DB`.
  std::vector<std::string> args;
  std::string host = "127.0.0.1";
  // The server's TZ: the chat line times are local time.
  std::string tz = "UTC";
  // --db: nothing on disk unless a test asks for a file.
  std::string db = ":memory:";
  // More of the server's environment, NAME=VALUE.
  std::vector<std::string> env = {};
  // The program to run in uvchatd's place, with uvchatd's command line
  // (uvchat-relay); empty: uvchatd.
  std::string program = {};
};

// A running uvchatd on a free port, ready for connections.
class TestServer {
 public:
  explicit TestServer(ServerSetup setup = {});

  const std::string& host() const { return host_; }
  int port() const { return port_; }
  pid_t pid() const { return process_.pid(); }
  // Everything the server has logged so far.
  std::string log() const { return process_.err().text(); }
  // True when the log shows `needle` within `timeout`.
  bool wait_for_log(std::string_view needle, Duration timeout = kLineTimeout) const;

  void stop(int signal_number = SIGTERM) const { process_.signal(signal_number); }
  ExitStatus wait_exit(Duration timeout = kExitTimeout) { return process_.wait_exit(timeout); }

 private:
  static std::vector<std::string> command_line(const ServerSetup& setup);
  int wait_for_port();

  std::string host_;
  ChildProcess process_;
  int port_ = 0;
};

// A uvchatd on a database file (`--db`) in a temporary directory of its
// own, which can be stopped and started again on the same file.
class RestartableServer {
 public:
  // `setup.db` is replaced by the file `uvchat.db` in the directory.
  explicit RestartableServer(ServerSetup setup = {});

  TestServer& server() { return *server_; }
  const std::string& db_path() const { return setup_.db; }
  const TempDir& dir() const { return dir_; }

  // Sends `signal_number` and waits for the end it should bring: SIGKILL
  // kills the server, SIGTERM and SIGINT make it exit 0.
  void stop(int signal_number = SIGTERM);
  // A new server on the same file; the old one is stopped first if need be.
  void start();
  void restart(int signal_number = SIGTERM) {
    stop(signal_number);
    start();
  }
  // Later starts listen on the port the server has now, so that a client
  // that reconnects by itself finds the new server where the old one was.
  void keep_port();

 private:
  TempDir dir_;
  ServerSetup setup_;
  std::optional<TestServer> server_;
};

// One side of a line-based conversation with the server: bytes out, lines
// in. Every expectation fails the test with what was received so far.
class LinePeer {
 public:
  LinePeer(const LinePeer&) = delete;
  LinePeer& operator=(const LinePeer&) = delete;
  virtual ~LinePeer() = default;

  const std::string& label() const { return label_; }
  // True once the server has closed the connection (seen by a read).
  bool closed() const { return closed_; }

  void send(std::string_view bytes);
  void send_line(std::string_view text);
  // One write of `bytes`, for a peer that may have reset the connection:
  // false when the write failed or took only part of them.
  bool try_send(std::string_view bytes);

  // One line without its LF. Fails the test on timeout or close.
  std::string read_line(Duration timeout = kLineTimeout);
  // One line, or nothing when none came within `timeout` or the peer closed.
  std::optional<std::string> try_read_line(Duration timeout = kLineTimeout);

  void expect(std::string_view exact);
  void expect_lines(std::initializer_list<std::string_view> lines);
  // The next lines.size() lines, in any order.
  void expect_unordered(std::vector<std::string> lines);
  // A line that matches `pattern` (ECMAScript) as a whole.
  void expect_match(const std::string& pattern);
  // A live chat line: `[HH:MM:SS] ` then exactly `rest`.
  void expect_chat(std::string_view rest);
  // A replayed chat line: `[YYYY-MM-DD HH:MM:SS] ` then exactly `rest`.
  void expect_replayed(std::string_view rest);
  // Nothing was sent to this peer before the answer to a ping.
  void expect_quiet();
  // Every line until the server closes the connection, which it must do
  // within `timeout`. A last line cut off by the close (no LF) is dropped.
  std::vector<std::string> read_until_closed(Duration timeout = kLineTimeout);
  // The same, read at most `chunk` bytes at a time with `pause` after each
  // read: a client that takes what it is sent all the while, but slowly.
  std::vector<std::string> read_until_closed_paced(std::size_t chunk, std::chrono::microseconds pause,
                                                   Duration timeout = kLineTimeout);
  // The server closed the connection with no line before the close.
  void expect_closed(Duration timeout = kLineTimeout);

  // server:register NAME, then welcome and queued-messages.
  void register_as(std::string_view name, int queued_messages = 0);

 protected:
  explicit LinePeer(std::string label) : label_(std::move(label)) {}
  void attach(int read_fd, int write_fd);

  // The transport under the lines: read(2) and write(2) on the descriptors
  // given to attach(), unless a peer puts something in between (TLS, in
  // harness_tls.hpp). read_some answers as read(2) does: bytes, 0 at the
  // end, or -1 with errno (EAGAIN: nothing yet, poll the read descriptor).
  virtual ssize_t read_some(char* buffer, std::size_t most);
  // As write(2): how many of `bytes` were taken, or -1 with errno.
  virtual ssize_t write_some(std::string_view bytes);
  // True when read_some has something without waiting for the descriptor.
  virtual bool has_buffered_input() const { return false; }

 private:
  std::optional<std::string> take_line();
  // Waits for more bytes until `deadline`; false on timeout or close.
  // At most `most` bytes in one read.
  bool receive_more(std::chrono::steady_clock::time_point deadline, std::size_t most = SIZE_MAX);
  // A chat line: a stamp of the time (or, `replayed`, the date and time), a
  // space, and exactly `rest`.
  void expect_stamped(bool replayed, std::string_view rest);
  std::string received_so_far() const;

  std::string label_;
  int read_fd_ = -1;
  int write_fd_ = -1;
  std::string pending_;
  std::vector<std::string> received_;
  bool closed_ = false;
};

// A non-blocking TCP socket (TCP_NODELAY) connected to HOST:PORT, or the
// test fails. `receive_buffer`: SO_RCVBUF in bytes, set before connecting;
// `source`: the local address to bind first (127.0.0.2 is loopback but not
// 127.0.0.1, so the server counts it as another machine).
UniqueFd connect_socket(const std::string& host, int port, const std::string& label, int receive_buffer = 0,
                        const std::string& source = {});

// The local port of a connected socket.
int local_port(int socket);

// A TCP connection to a TestServer. With a `receive_buffer` (bytes, set as
// SO_RCVBUF before connecting) the socket holds little of what the server
// sends: a client that does not read soon makes the server wait.
class TestClient : public LinePeer {
 public:
  explicit TestClient(const TestServer& server, std::string label = "client", int receive_buffer = 0);
  TestClient(const std::string& host, int port, std::string label = "client", int receive_buffer = 0,
             const std::string& source = {});

  // Closes our side for writing (the server sees EOF) and keeps reading.
  void shutdown_write();
  // Closes the connection.
  void close();
  int local_port() const { return test::local_port(socket_.get()); }

 private:
  UniqueFd socket_;
};

// A TestClient that has registered as `name` (welcome, queued-messages 0).
class RegisteredClient : public TestClient {
 public:
  RegisteredClient(const TestServer& server, const std::string& name) : TestClient(server, name) {
    register_as(name);
  }
};

// How long `peer` waits for `server:pong` after sending `server:ping`.
Duration ping_round_trip(LinePeer& peer);

// Registers `name` and leaves with server:exit, so that the server knows
// the name and it is offline.
void register_and_exit(const TestServer& server, const std::string& name);

// "message 0001": numbered texts, so that order and duplicates show.
std::string numbered_text(int number);

// `count` lines of numbered DMs to `recipient`: "bob: message 0001\n"...
std::string numbered_dm_lines(const std::string& recipient, int count);

// `sender` sends `count` numbered DMs to the offline `recipient` in one write
// and gets `server:queued RECIPIENT` for each.
void send_numbered_dms_to_offline(LinePeer& sender, const std::string& recipient, int count);

// `recipient` gets the `count` numbered DMs from `sender` replayed, in order.
void expect_numbered_replay(LinePeer& recipient, const std::string& sender, int count);

// `user` (registered as `name`) sends `server:join ROOM` and gets `joined`
// and then `members ROOM MEMBERS`; MEMBERS includes `name`.
void join_room(LinePeer& user, const std::string& name, const std::string& room, const std::string& members);

// `nc HOST PORT` (Debian's netcat-openbsd) driven through its stdin and
// stdout.
class NcClient : public LinePeer {
 public:
  NcClient(const TestServer& server, std::vector<std::string> nc_flags = {}, std::string label = "nc");

  // nc sees EOF on its input.
  void close_stdin();
  ExitStatus wait_exit(Duration timeout = kExitTimeout) { return process_.wait_exit(timeout); }

 private:
  ChildProcess process_;
};

}  // namespace uvchat::test
