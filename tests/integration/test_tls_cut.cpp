// Issue 17, delivery accounting over TLS: the bytes on the wire are
// ciphertext, and a DM counts as delivered once the client's TCP has
// acknowledged the end of the record its line ended in. So the cut of a
// slow TLS reader, as test_limits_slow_reader.cpp does it for plain text,
// must lose and duplicate nothing: every DM is either read before the cut
// or replayed at the next registration, in order, once.
#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "harness.hpp"
#include "harness_tls.hpp"
#include "slow_reader.hpp"

using namespace uvchat::test;
using namespace uvchat::test::slow_reader;

namespace {

constexpr int kRecordsReceiveBuffer = 65536;
// The cut waits at most 10 s for what is on its way.
constexpr Duration kDrainTimeout{12'000};

// The scene: slow, a TLS client with a receive buffer of `ReceiveBuffer`
// bytes that reads nothing once registered; fast, in plain text, who floods
// it; and pinger, over TLS, who checks that the other sessions are served
// meanwhile.
template <int ReceiveBuffer>
struct SlowTlsReaderCutWith {
  TempDir db_dir;
  TlsServer tls{{.args = limit_args(), .db = db_dir.file("uvchat.db")}};
  TlsTestClient slow{tls.server, {.label = "slow (TLS)", .receive_buffer = ReceiveBuffer}};
  RegisteredClient fast{tls.server, "fast"};
  TlsTestClient pinger{tls.server, {.label = "pinger (TLS)"}};
  Flood flood;

  SlowTlsReaderCutWith() { slow.register_as("slow"); }

  void flood_until_cut() {
    require_flood_past_buffers();
    flood = slow_reader::flood_until_cut(tls.server, fast, pinger);
  }

  // `before`: what slow read before the cut. Registered again over TLS,
  // slow gets every other DM replayed, oldest first, none twice; those
  // fast was told were queued are among them.
  void expect_the_rest_replayed(const std::vector<int>& before) {
    TlsTestClient slow_again(tls.server, {.label = "slow again (TLS)"});
    const std::vector<int> replayed = slow_reader::expect_the_rest_replayed(tls.server, before, slow_again);
    CHECK(flood.queued <= replayed.size());
  }
};

using SlowTlsReaderCut = SlowTlsReaderCutWith<kSmallReceiveBuffer>;
// Holds a few records whole, and most likely a part of the next.
using SlowTlsReaderCutBigBuffer = SlowTlsReaderCutWith<kRecordsReceiveBuffer>;

}  // namespace

TEST_CASE_METHOD(SlowTlsReaderCut, "TLS cut: a slow TLS reader is cut and every DM reaches it exactly once",
                 "[tls][limits]") {
  flood_until_cut();
  CHECK(tls.server.log().find("--max-outbuf") != std::string::npos);
  expect_the_rest_replayed(numbers_before_cut(slow.read_until_closed(kDrainTimeout)));
  // The cut is a reset: no close_notify, which would say all was sent.
  CHECK_FALSE(slow.got_close_notify());
}

TEST_CASE_METHOD(SlowTlsReaderCut,
                 "TLS cut: a slow TLS reader that reads all through the cut gets every DM once",
                 "[tls][limits]") {
  constexpr std::size_t kChunk = 1024;
  constexpr std::chrono::microseconds kPause{500};
  flood_until_cut();
  expect_the_rest_replayed(numbers_before_cut(slow.read_until_closed_paced(kChunk, kPause, kDrainTimeout)));
}

TEST_CASE_METHOD(SlowTlsReaderCut,
                 "TLS cut: a slow TLS reader that writes before it reads still gets every DM once",
                 "[tls][limits]") {
  flood_until_cut();
  slow.try_send("server:ping\n");
  expect_the_rest_replayed(numbers_before_cut(slow.read_until_closed(kDrainTimeout)));
}

// The case that tells records from lines: slow reads nothing until the
// server has reset the connection, so its TCP acknowledged what its buffer
// holds, which ends in the middle of a record. The DMs of that record
// cannot be read, and must be replayed; those of the records before it
// were read, and must not be. (Counting a DM delivered where its record
// starts, or at its offset in the plaintext, fails here.)
TEST_CASE_METHOD(SlowTlsReaderCutBigBuffer,
                 "TLS cut: a slow TLS reader that reads only after the reset gets every DM once",
                 "[tls][limits]") {
  flood_until_cut();
  const std::string connection = connection_name(tls.server, slow.local_port());
  if (!tls.server.wait_for_log(connection + " closed", kCutTimeout)) {
    FAIL("the cut of slow did not end; the server's log:\n" << tls.server.log());
  }
  expect_the_rest_replayed(numbers_before_cut(slow.read_until_closed(kDrainTimeout)));
}

TEST_CASE("TLS cut: a TLS client that reads is not cut when DMs for it pass --max-outbuf at once",
          "[tls][limits]") {
  TlsServer tls({.args = limit_args()});
  TlsTestClient reader(tls.server, {.label = "reader (TLS)"});
  reader.register_as("reader");
  expect_burst_read(tls.server, reader);
  CHECK(tls.server.log().find("too slow") == std::string::npos);
}

TEST_CASE("TLS cut: a replay longer than --max-outbuf reaches a TLS client that reads", "[tls][limits]") {
  TlsServer tls({.args = limit_args()});
  expect_long_replay_read(tls.server, [&] {
    return std::make_unique<TlsTestClient>(tls.server, TlsClientSetup{.label = "slow (TLS)"});
  });
}
