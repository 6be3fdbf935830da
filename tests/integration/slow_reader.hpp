// The slow reader's cut, as its tests tell it in plain text
// (test_limits_slow_reader.cpp) and over TLS (test_tls_cut.cpp): fast
// floods slow with numbered DMs of about 2 KiB until the server cuts slow
// past --max-outbuf, and then every DM must have been read before the cut
// or be replayed at slow's next registration, in order, once. The server,
// the clients and what each test checks besides are the test file's; the
// flood, the DMs and the reckoning are here, so that the two tell one story.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "harness.hpp"

namespace uvchat::test::slow_reader {

inline constexpr int kMaxOutbuf = 65536;
inline constexpr int kSmallReceiveBuffer = 4096;
// The kernel holds what the server writes to a socket, up to the largest
// send buffer (net.ipv4.tcp_wmem, 4 MiB by default): only past that does
// output wait in the server. 2500 DMs of about 2 KiB are 5 MB.
inline constexpr int kMessages = 2500;
inline constexpr std::size_t kPadding = 2000;
// Each write is less than --max-outbuf: a reader that keeps up is never
// that far behind.
inline constexpr int kMessagesPerWrite = 25;
static_assert(kMessagesPerWrite * (kPadding + 40) < kMaxOutbuf);
// Slow is cut once nothing has left for 5 s with over --max-outbuf waiting
// (the soft bound; the server looks once a second), or at once past the
// hard one.
inline constexpr Duration kCutTimeout{10'000};

// 3000 DMs of 30 bytes (`[HH:MM:SS] fast: message 0001`), 90 000 in all,
// for one reader from one write of 63 000 bytes.
inline constexpr int kBurst = 3000;
// 100 DMs of about 2 KiB replayed: 200 KB.
inline constexpr int kLongReplay = 100;

// The server's options: --max-outbuf kMaxOutbuf, a queue that holds every
// DM, and no presence lines among the DMs.
std::vector<std::string> limit_args();

// Fails unless kMessages DMs are more than the kernel's largest send buffer
// and --max-outbuf together: only then must the server cut slow.
void require_flood_past_buffers();

// What slow read before the cut: whole DMs from fast, and at most a
// too-slow notice last.
std::vector<int> numbers_before_cut(const std::vector<std::string>& lines);

struct Flood {
  // The `server:queued slow` lines fast got: DMs sent after the cut.
  std::size_t queued = 0;
  Duration slowest_ping{0};
};

// Fast sends every DM to slow, as fast as the server answers its pings,
// and pinger pings while the server works through each write: nothing may
// come to pinger but its pong. DMs to slow while it is online get no
// answer; after the cut each is queued and acknowledged. Fails unless the
// server logs the cut within kCutTimeout.
Flood flood_until_cut(const TestServer& server, LinePeer& fast, LinePeer& pinger);

// `before`: what slow read before the cut, DMs 1, 2, ... in order.
// Registered again as `slow_again`, slow gets every other DM replayed,
// oldest first, and none twice. Returns the DMs replayed.
std::vector<int> expect_the_rest_replayed(const TestServer& server, const std::vector<int>& before,
                                          LinePeer& slow_again);

// Reader, registered as `reader`, gets kBurst DMs from fast, sent in one
// write that is more than --max-outbuf, and reads them all; neither is cut.
void expect_burst_read(const TestServer& server, LinePeer& reader);

// Fast queues kLongReplay DMs for slow, offline; then slow, connected with
// `connect_slow` (plain text or TLS), registers and gets them all replayed,
// in order, though the replay is longer than --max-outbuf.
void expect_long_replay_read(const TestServer& server,
                             const std::function<std::unique_ptr<LinePeer>()>& connect_slow);

}  // namespace uvchat::test::slow_reader
