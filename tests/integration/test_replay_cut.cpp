// PROTOCOL.md 4.4 and 6 (issue 16): the offline queue is replayed in pages
// as the client takes them, so a queue of any size, however it grew (DMs
// handed back by a cut are queued again whatever its length), reaches a
// client that reads, and the client is not cut for it. Lines for the session
// that come during the replay wait behind it; past --max-outbuf of them the
// session overflows: DMs wait in the store, lines it did not ask for are
// dropped and counted in `server:missed N`. A history goes out in pages too.
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "harness.hpp"

using namespace uvchat::test;

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::microseconds;

// A socket receive buffer that holds little: the server meets our pace.
constexpr int kSmallReceiveBuffer = 4096;
constexpr int kPacedReceiveBuffer = 16384;
// The soft bound cuts after 5 s over --max-outbuf; the cut itself waits at
// most 10 s for what is on its way.
constexpr Duration kCutTimeout{10'000};
constexpr Duration kDrainTimeout{12'000};
constexpr Duration kOfflineTimeout{12'000};

// "TAG 00042 xxx...x": a tag (who sent it, or what it is), a number, and
// `padding` bytes, so that order, duplicates and damage all show.
std::string padded_text(std::string_view tag, int number, std::size_t padding) {
  char digits[16];
  std::snprintf(digits, sizeof digits, "%05d", number);
  return std::string(tag) + " " + digits + " " + std::string(padding, 'x');
}

// The number N when `rest` is exactly `head` then padded_text(tag, N, padding).
std::optional<int> number_in(std::string_view rest, std::string_view head, std::string_view tag,
                             std::size_t padding) {
  const std::string start = std::string(head) + std::string(tag) + " ";
  if (!rest.starts_with(start) || rest.size() < start.size() + 5) return std::nullopt;
  const std::string digits(rest.substr(start.size(), 5));
  if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  const int number = std::stoi(digits);
  if (rest.substr(head.size()) != padded_text(tag, number, padding)) return std::nullopt;
  return number;
}

// A chat line split at its stamp: `[HH:MM:SS] ` (live) or
// `[YYYY-MM-DD HH:MM:SS] ` (replayed), and what follows it.
struct Stamped {
  bool replayed = false;
  std::string_view rest;
};

std::optional<Stamped> split_stamp(std::string_view line) {
  static const std::regex kTime(R"(\[([01]\d|2[0-3]):[0-5]\d:[0-5]\d\] )");
  static const std::regex kDateTime(
      R"(\[\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01]) ([01]\d|2[0-3]):[0-5]\d:[0-5]\d\] )");
  constexpr std::size_t kDateTimeStamp = 22;  // "[2026-12-06 16:52:52] "
  constexpr std::size_t kTimeStamp = 11;      // "[16:52:52] "
  if (line.size() >= kDateTimeStamp &&
      std::regex_match(line.begin(), line.begin() + kDateTimeStamp, kDateTime)) {
    return Stamped{true, line.substr(kDateTimeStamp)};
  }
  if (line.size() >= kTimeStamp && std::regex_match(line.begin(), line.begin() + kTimeStamp, kTime)) {
    return Stamped{false, line.substr(kTimeStamp)};
  }
  return std::nullopt;
}

// The first 100 bytes of a line, for messages.
std::string head_of(std::string_view line) {
  return std::string(line.substr(0, 100)) + (line.size() > 100 ? "..." : "");
}

// Fails unless `numbers` are 1, 2, ... `count`, in that order.
void require_one_to(const std::vector<int>& numbers, int count, const std::string& what) {
  std::size_t in_order = 0;
  while (in_order < numbers.size() && numbers[in_order] == static_cast<int>(in_order) + 1) ++in_order;
  INFO(what << ": " << numbers.size() << " numbers, " << count << " expected; the first out of place is #"
            << in_order + 1 << ": " << (in_order < numbers.size() ? numbers[in_order] : 0));
  REQUIRE(in_order == numbers.size());
  REQUIRE(static_cast<int>(numbers.size()) == count);
}

// A TCP client of the server that reads at a pace: at most `chunk` bytes
// at a time, with `pause` after each read. With a small receive buffer the
// server can get no further ahead of it than its own buffers allow.
class PacedClient {
 public:
  PacedClient(const TestServer& server, std::string label, int receive_buffer, std::size_t chunk,
              microseconds pause)
      : label_(std::move(label)), chunk_(chunk), pause_(pause) {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    addrinfo* found = nullptr;
    if (::getaddrinfo(server.host().c_str(), std::to_string(server.port()).c_str(), &hints, &found) != 0) {
      FAIL("cannot parse the address " << server.host());
    }
    socket_.reset(::socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (socket_.get() >= 0) {
      ::setsockopt(socket_.get(), SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
    }
    const int connected =
        socket_.get() < 0 ? -1 : ::connect(socket_.get(), found->ai_addr, found->ai_addrlen);
    ::freeaddrinfo(found);
    if (connected != 0) FAIL(label_ << ": connect: " << std::strerror(errno));
    const int one = 1;
    ::setsockopt(socket_.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ::fcntl(socket_.get(), F_SETFL, ::fcntl(socket_.get(), F_GETFL) | O_NONBLOCK);
  }

  const std::string& label() const { return label_; }
  std::size_t lines_read() const { return lines_read_; }

  void send_line(std::string_view text) {
    const std::string line = std::string(text) + "\n";
    if (!write_all_within(socket_.get(), line, kLineTimeout))
      FAIL(label_ << ": cannot send '" << text << "'");
  }

  // The next line without its LF. Fails the test on timeout or close.
  std::string read_line(Duration timeout = kLineTimeout) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
      const std::size_t end = pending_.find('\n', scanned_);
      if (end != std::string::npos) {
        std::string line = pending_.substr(0, end);
        pending_.erase(0, end + 1);
        scanned_ = 0;
        ++lines_read_;
        last_line_ = head_of(line);
        return line;
      }
      scanned_ = pending_.size();
      if (!receive(deadline)) {
        FAIL(label_ << ": waiting for line " << lines_read_ + 1 << ", "
                    << (closed_ ? std::string("the connection closed")
                                : "nothing came within " + std::to_string(timeout.count()) + " ms")
                    << "; the last line was '" << last_line_ << "'");
      }
    }
  }

  void expect(std::string_view exact) {
    const std::string line = read_line();
    INFO(label_ << ": line " << lines_read_);
    REQUIRE(line == std::string(exact));
  }

 private:
  // One read of at most chunk_ bytes, then the pause. False on timeout or
  // close.
  bool receive(Clock::time_point deadline) {
    while (!closed_) {
      const auto left = std::chrono::duration_cast<Duration>(deadline - Clock::now()).count();
      if (left <= 0) return false;
      pollfd ready{socket_.get(), POLLIN, 0};
      const int polled = ::poll(&ready, 1, static_cast<int>(left));
      if (polled < 0 && errno != EINTR) FAIL(label_ << ": poll: " << std::strerror(errno));
      if (polled <= 0) continue;
      buffer_.resize(chunk_);
      const ssize_t count = ::read(socket_.get(), buffer_.data(), chunk_);
      if (count > 0) {
        pending_.append(buffer_.data(), static_cast<std::size_t>(count));
        std::this_thread::sleep_for(pause_);
        return true;
      }
      if (count == 0 || errno == ECONNRESET) {
        closed_ = true;
      } else if (errno != EINTR && errno != EAGAIN) {
        FAIL(label_ << ": read: " << std::strerror(errno));
      }
    }
    return false;
  }

  std::string label_;
  std::size_t chunk_;
  microseconds pause_;
  UniqueFd socket_;
  std::string buffer_;
  std::string pending_;
  std::size_t scanned_ = 0;
  std::size_t lines_read_ = 0;
  std::string last_line_;
  bool closed_ = false;
};

// The lines `peer` gets before `server:pong`.
std::vector<std::string> lines_until_pong(LinePeer& peer) {
  std::vector<std::string> lines;
  for (std::string line = peer.read_line(); line != "server:pong"; line = peer.read_line()) {
    lines.push_back(std::move(line));
  }
  return lines;
}

// `sender` queues `count` DMs to the offline `recipient`, padded_text(tag,
// 1..count, padding), a few hundred at a time, each acknowledged with
// `server:queued RECIPIENT`.
void queue_dms(LinePeer& sender, const std::string& recipient, std::string_view tag, int count,
               std::size_t padding) {
  constexpr int kPerWrite = 250;
  for (int first = 1; first <= count; first += kPerWrite) {
    const int last = std::min(count, first + kPerWrite - 1);
    std::string lines;
    for (int number = first; number <= last; ++number) {
      lines += recipient + ": " + padded_text(tag, number, padding) + "\n";
    }
    sender.send(lines + "server:ping\n");
    const std::vector<std::string> answers = lines_until_pong(sender);
    INFO(sender.label() << ": the answers to DMs " << first << " to " << last);
    REQUIRE(answers == std::vector<std::string>(static_cast<std::size_t>(last - first + 1),
                                                "server:queued " + recipient));
  }
}

// Waits (bounded) until `server:who` no longer lists `name`.
void wait_until_offline(LinePeer& asker, const std::string& name) {
  const Stopwatch watch;
  for (;;) {
    asker.send_line("server:who");
    const std::string users = asker.read_line();
    REQUIRE(users.starts_with("server:users"));
    if ((users + " ").find(" " + name + " ") == std::string::npos) return;
    if (watch.elapsed() > kOfflineTimeout)
      FAIL(name << " is still online after " << kOfflineTimeout.count() << " ms");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// ------------------------------------------------------------------ test 1

// Two senders flood bob, who reads nothing, with DMs of about 1 KB, until
// the server cuts him; what it had not delivered goes back to his queue,
// whatever its length (MiBs: what waited in the server and in its kernel).
// The old server put a whole replay in the output at once and cut past its
// hard bound, max(8 x --max-outbuf, --max-queue x (--max-line + 64)):
// with --max-queue 400 and --max-line 1200 that is 8 x 64 KiB, and it cut
// bob's next registration, every time. (With the issue's --max-queue 100000
// the old bound was 126 MB and the old server passed; both are run.)
// --max-queue bounds only the DMs queued while bob is offline, so the
// senders' DMs after the cut are queued either way.
constexpr int kFloodOutbuf = 65536;
constexpr std::size_t kFloodPadding = 1000;
constexpr int kFloodPerWrite = 25;
// Each sender's bound: together 12 MB, more than the kernel's largest send
// buffer (4 MiB by default) and the hard bound (512 KiB).
constexpr int kFloodMost = 6000;
// Sent by each sender once bob is offline: queued.
constexpr int kAfterCut = 100;

std::vector<std::string> flood_args(int max_queue) {
  return {"--max-outbuf", std::to_string(kFloodOutbuf),
          "--rate",       "0",
          "--max-queue",  std::to_string(max_queue),
          "--max-line",   "1200",
          "--presence",   "off"};
}

struct Sender {
  Sender(LinePeer& peer_, std::string name_) : peer(peer_), name(std::move(name_)) {}

  LinePeer& peer;
  std::string name;
  int sent = 0;
  // DMs answered with `server:queued bob`.
  int queued = 0;
  // The numbers bob read on his first connection, and then had replayed.
  std::vector<int> before;
  std::vector<int> replayed;
};

// The next `count` DMs of `sender` to bob, then a ping, in one write.
void send_dms_to_bob(Sender& sender, int count) {
  std::string lines;
  for (int i = 0; i < count; ++i)
    lines += "bob: " + padded_text(sender.name, ++sender.sent, kFloodPadding) + "\n";
  sender.peer.send(lines + "server:ping\n");
}

// The answers to what send_dms_to_bob sent: `server:queued bob` for each DM
// queued while bob was offline, and nothing for the others. Their count.
int take_answers(Sender& sender) {
  int queued = 0;
  for (const std::string& answer : lines_until_pong(sender.peer)) {
    INFO(sender.name << ": an answer to its DMs to bob");
    REQUIRE(answer == "server:queued bob");
    ++queued;
  }
  sender.queued += queued;
  return queued;
}

// The sender of a DM line to bob from alice or carol, and its number;
// nothing for any other line. `replayed`: its form.
std::optional<std::pair<int, int>> dm_to_bob(const std::string& line, bool replayed) {
  const std::optional<Stamped> stamped = split_stamp(line);
  if (!stamped || stamped->replayed != replayed) return std::nullopt;
  int index = 0;
  for (const std::string_view name : {"alice", "carol"}) {
    if (const std::optional<int> number =
            number_in(stamped->rest, std::string(name) + ": ", name, kFloodPadding)) {
      return std::pair{index, *number};
    }
    ++index;
  }
  return std::nullopt;
}

}  // namespace

TEST_CASE("replay: DMs handed back by a cut reach the next registration, each once, however many",
          "[replay]") {
  const int max_queue = GENERATE(400, 100000);
  INFO("--max-queue " << max_queue);
  TempDir dir;
  TestServer server({.args = flood_args(max_queue), .db = dir.file("uvchat.db")});
  TestClient bob(server, "bob", kSmallReceiveBuffer);
  bob.register_as("bob");
  RegisteredClient alice_client(server, "alice");
  RegisteredClient carol_client(server, "carol");
  Sender senders[] = {{alice_client, "alice"}, {carol_client, "carol"}};

  // Bob reads nothing: the flood goes on until the server cuts him.
  bool cut = false;
  while (!cut && senders[0].sent < kFloodMost) {
    for (Sender& sender : senders) send_dms_to_bob(sender, kFloodPerWrite);
    for (Sender& sender : senders) take_answers(sender);
    cut = server.log().find("too slow") != std::string::npos;
  }
  if (!cut && !server.wait_for_log("too slow", kCutTimeout)) {
    FAIL("bob was not cut after " << senders[0].sent << " DMs from each sender; the server's log:\n"
                                  << server.log());
  }
  // DMs sent while the cut waits are dropped with the connection, and
  // queued; once bob is offline each DM is answered `server:queued bob`.
  wait_until_offline(senders[0].peer, "bob");
  for (int half = 0; half < 2; ++half) {
    for (Sender& sender : senders) send_dms_to_bob(sender, kAfterCut / 2);
    for (Sender& sender : senders) REQUIRE(take_answers(sender) == kAfterCut / 2);
  }

  // What bob's TCP acknowledged he can still read: live DMs, and at most a
  // too-slow notice last.
  const std::vector<std::string> before = bob.read_until_closed(kDrainTimeout);
  for (std::size_t i = 0; i < before.size(); ++i) {
    if (const auto dm = dm_to_bob(before[i], false)) {
      senders[dm->first].before.push_back(dm->second);
      continue;
    }
    INFO("bob's line " << i + 1 << " of " << before.size() << " before the cut: '" << head_of(before[i])
                       << "'");
    REQUIRE(i + 1 == before.size());
    REQUIRE(before[i].starts_with("server:error too-slow "));
  }

  // Bob again, reading as fast as he can: every other DM, replayed.
  TestClient bob_again(server, "bob again");
  bob_again.send_line("server:register bob");
  bob_again.expect("server:welcome bob");
  const std::string header = bob_again.read_line();
  INFO("bob again: '" << header << "'");
  REQUIRE(header.starts_with("server:queued-messages "));
  const int queued_messages = std::stoi(header.substr(header.find(' ') + 1));
  std::size_t replayed_bytes = 0;
  for (int i = 0; i < queued_messages; ++i) {
    const std::string line = bob_again.read_line();
    replayed_bytes += line.size() + 1;
    const auto dm = dm_to_bob(line, true);
    INFO("bob again: replayed line " << i + 1 << " of " << queued_messages << ": '" << head_of(line) << "'");
    REQUIRE(dm);
    senders[dm->first].replayed.push_back(dm->second);
  }
  // Nothing more, and he is still connected.
  bob_again.expect_quiet();

  const std::string log = server.log();
  INFO("the server's log:\n" << log);
  CHECK(count_of(log, "too slow") == 1);
  // The replay was longer than the hard bound (8 x --max-outbuf): at once,
  // it would have cut bob.
  CHECK(replayed_bytes > 8 * static_cast<std::size_t>(kFloodOutbuf));
  for (Sender& sender : senders) {
    INFO(sender.name << " sent " << sender.sent << " DMs, " << sender.queued << " answered queued; bob read "
                     << sender.before.size() << " before the cut, " << sender.replayed.size() << " replayed");
    CHECK(sender.queued >= kAfterCut);
    CHECK(static_cast<int>(sender.replayed.size()) >= sender.queued);
    std::vector<int> all = sender.before;
    all.insert(all.end(), sender.replayed.begin(), sender.replayed.end());
    require_one_to(all, sender.sent, sender.name + "'s DMs, read before the cut and then replayed");
  }
}

// ---------------------------------------------------------- tests 2 and 3

namespace {

// 3000 DMs of about 1 KB queued: 3 MB, which bob takes at about 2 MB/s
// through a small receive buffer, so the replay runs for over a second.
constexpr int kLongQueue = 3000;
constexpr std::size_t kQueuePadding = 1000;
constexpr std::size_t kReplayChunk = 4096;
constexpr microseconds kReplayPause{2000};
constexpr int kReplayOutbuf = 65536;

std::vector<std::string> replay_args() {
  return {"--max-outbuf", std::to_string(kReplayOutbuf),
          "--rate",       "0",
          "--max-queue",  "100000",
          "--presence",   "off",
          "--history",    "0"};
}

// Bob, reading slowly, registers and gets the header of his replay.
void register_slow_bob(PacedClient& bob) {
  bob.send_line("server:register bob");
  bob.expect("server:welcome bob");
  bob.expect("server:queued-messages " + std::to_string(kLongQueue));
}

// The replayed DMs from alice, numbers `first` to `last`.
void expect_queue_replayed(PacedClient& bob, int first, int last = kLongQueue) {
  for (int number = first; number <= last; ++number) {
    const std::string line = bob.read_line();
    const std::optional<Stamped> stamped = split_stamp(line);
    INFO(bob.label() << ": replayed DM " << number << " of " << kLongQueue << ": '" << head_of(line) << "'");
    REQUIRE(stamped);
    REQUIRE(stamped->replayed);
    REQUIRE(number_in(stamped->rest, "alice: ", "queued", kQueuePadding) == number);
  }
}

}  // namespace

TEST_CASE("replay: a DM sent during a replay comes after its last line, live", "[replay]") {
  TempDir dir;
  TestServer server({.args = replay_args(), .db = dir.file("uvchat.db")});
  register_and_exit(server, "bob");
  RegisteredClient alice(server, "alice");
  queue_dms(alice, "bob", "queued", kLongQueue, kQueuePadding);

  PacedClient bob(server, "bob", kPacedReceiveBuffer, kReplayChunk, kReplayPause);
  register_slow_bob(bob);
  constexpr int kReadFirst = 20;
  expect_queue_replayed(bob, 1, kReadFirst);
  // Bob has read 20 KB of 3 MB: the replay surely runs. A DM to bob, who
  // is online, has no answer.
  const Stopwatch watch;
  alice.send_line("bob: live, during the replay");
  alice.expect_quiet();
  expect_queue_replayed(bob, kReadFirst + 1);
  INFO("the replay took " << watch.elapsed().count() << " ms after the live DM");
  const std::string live = bob.read_line();
  const std::optional<Stamped> stamped = split_stamp(live);
  INFO("bob: the line after the replay: '" << live << "'");
  REQUIRE(stamped);
  CHECK_FALSE(stamped->replayed);
  CHECK(stamped->rest == "alice: live, during the replay");
  bob.send_line("server:ping");
  bob.expect("server:pong");
  CHECK(server.log().find("too slow") == std::string::npos);
}

TEST_CASE("replay: past --max-outbuf of lines behind a replay, DMs wait in the store and the rest is missed",
          "[replay]") {
  constexpr int kLiveDms = 200;
  constexpr int kRoomLines = 200;
  constexpr std::size_t kRoomPadding = 500;
  static_assert(kLiveDms * kQueuePadding > 2 * kReplayOutbuf);

  TempDir dir;
  TestServer server({.args = replay_args(), .db = dir.file("uvchat.db")});
  register_and_exit(server, "bob");
  RegisteredClient alice(server, "alice");
  queue_dms(alice, "bob", "queued", kLongQueue, kQueuePadding);
  RegisteredClient carol(server, "carol");
  join_room(carol, "carol", "#r", "carol");

  // Bob registers, reading slowly, and joins #r: the answer waits behind
  // the replay, but he is a member at once.
  PacedClient bob(server, "bob", kPacedReceiveBuffer, kReplayChunk, kReplayPause);
  register_slow_bob(bob);
  bob.send_line("server:join #r");
  carol.expect("server:joined #r bob");

  // While the replay runs: live DMs from alice, room lines from carol.
  std::string dms;
  for (int number = 1; number <= kLiveDms; ++number)
    dms += "bob: " + padded_text("live", number, kQueuePadding) + "\n";
  std::string room_lines;
  for (int number = 1; number <= kRoomLines; ++number) {
    room_lines += "#r: " + padded_text("room", number, kRoomPadding) + "\n";
  }
  alice.send(dms + "server:ping\n");
  carol.send(room_lines + "server:ping\n");
  alice.expect("server:pong");
  carol.expect("server:pong");

  expect_queue_replayed(bob, 1);
  bob.expect("server:joined #r bob");
  bob.expect("server:members #r bob carol");

  // Then the live DMs, room lines, and `server:missed N`, until bob has
  // every DM and the missed line, or a line that has no place here.
  std::vector<int> live_dms;
  std::vector<int> room;
  std::optional<int> missed;
  std::size_t room_after_missed = 0;
  const auto take = [&](const std::string& line) {
    if (line.starts_with("server:missed ")) {
      INFO("bob: a second '" << line << "'");
      REQUIRE_FALSE(missed);
      missed = std::stoi(line.substr(line.find(' ') + 1));
      return;
    }
    const std::optional<Stamped> stamped = split_stamp(line);
    INFO("bob: after the replay, line '" << head_of(line) << "'");
    REQUIRE(stamped);
    REQUIRE_FALSE(stamped->replayed);
    if (const std::optional<int> number = number_in(stamped->rest, "alice: ", "live", kQueuePadding)) {
      live_dms.push_back(*number);
    } else {
      const std::optional<int> in_room = number_in(stamped->rest, "#r carol: ", "room", kRoomPadding);
      REQUIRE(in_room);
      room.push_back(*in_room);
      if (missed) ++room_after_missed;
    }
  };
  while (static_cast<int>(live_dms.size()) < kLiveDms || !missed) take(bob.read_line());
  // Anything left, then bob, caught up, is answered.
  bob.send_line("server:ping");
  for (std::string line = bob.read_line(); line != "server:pong"; line = bob.read_line()) take(line);

  const std::string log = server.log();
  INFO("bob got " << live_dms.size() << " DMs, " << room.size() << " room lines, missed "
                  << (missed ? *missed : -1) << "; the server's log:\n"
                  << log);
  CHECK(log.find("too slow") == std::string::npos);
  require_one_to(live_dms, kLiveDms, "the live DMs");
  REQUIRE(missed);
  CHECK(*missed > 0);
  CHECK(room_after_missed == 0);
  CHECK(std::is_sorted(room.begin(), room.end()));
  CHECK(std::adjacent_find(room.begin(), room.end()) == room.end());
  CHECK(*missed + static_cast<int>(room.size()) == kRoomLines);
}

// ------------------------------------------------------------------ test 4

// 500 lines of about 4 KB, 2 MB, for a history: with --max-outbuf 4096 and
// --max-queue 1 the old hard bound was max(32 KiB, 1 x 4160), and the
// answer, put in the output at once, cut its reader.
TEST_CASE("replay: a history of 500 long lines goes out in pages to a slow reader", "[replay]") {
  constexpr int kLines = 500;
  constexpr std::size_t kPadding = 4000 - 11;  // "line 00001 " and the padding: 4000 bytes
  TestServer server({.args = {"--max-outbuf", "4096", "--max-queue", "1", "--max-line", "4096", "--rate", "0",
                              "--presence", "off", "--history", "0"}});
  RegisteredClient alice(server, "alice");
  join_room(alice, "alice", "#room", "alice");
  constexpr int kPerWrite = 50;
  for (int first = 1; first <= kLines; first += kPerWrite) {
    std::string lines;
    for (int number = first; number < first + kPerWrite; ++number) {
      lines += "#room: " + padded_text("line", number, kPadding) + "\n";
    }
    alice.send(lines);
    alice.expect_quiet();
  }

  PacedClient bob(server, "bob", kPacedReceiveBuffer, 16384, microseconds(10'000));
  bob.send_line("server:register bob");
  bob.expect("server:welcome bob");
  bob.expect("server:queued-messages 0");
  bob.send_line("server:join #room");
  bob.expect("server:joined #room bob");
  bob.expect("server:members #room alice bob");
  alice.expect("server:joined #room bob");

  const Stopwatch watch;
  bob.send_line("server:history #room 500");
  bob.expect("server:history #room 500");
  for (int number = 1; number <= kLines; ++number) {
    const std::string line = bob.read_line();
    const std::optional<Stamped> stamped = split_stamp(line);
    INFO("bob: history line " << number << ": '" << head_of(line) << "'");
    REQUIRE(stamped);
    REQUIRE(stamped->replayed);
    REQUIRE(number_in(stamped->rest, "#room alice: ", "line", kPadding) == number);
  }
  bob.send_line("server:ping");
  bob.expect("server:pong");
  INFO("bob took " << watch.elapsed().count() << " ms; the server's log:\n" << server.log());
  CHECK(server.log().find("too slow") == std::string::npos);
}
