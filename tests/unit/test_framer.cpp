// Framing, docs/PROTOCOL.md section 1: bytes in, lines out.
#include <catch2/catch.hpp>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "uvchat/protocol/framer.hpp"
#include "uvchat/protocol/ring_buffer.hpp"

namespace uvchat::protocol {
namespace {

using namespace std::string_literals;
using Frames = std::vector<std::string>;

// How frames other than lines show in a Frames list.
const std::string kTooLong = "<too-long>";
const std::string kBadUtf8 = "<bad-utf8>";
const std::string kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// The input side of one connection: a ring sized as the server sizes it and
// its framer. Bytes go in as reads would deliver them; frames come out as
// strings.
class Input {
 public:
  explicit Input(std::size_t max_line) : ring_(Framer::buffer_capacity(max_line)) {}

  // Writes as much as fits, takes out the frames that completes, and so on.
  Input& feed(std::string_view bytes) {
    while (!bytes.empty()) {
      const std::size_t written = ring_.write(std::span<const char>(bytes.data(), bytes.size()));
      REQUIRE(written > 0);  // the framer must always leave room
      REQUIRE(ring_.size() <= ring_.capacity());
      bytes.remove_prefix(written);
      Frame frame;
      while (framer_.next(ring_, frame)) record(frame);
    }
    return *this;
  }

  // Feeds `bytes` in reads of `chunk` bytes.
  Input& feed_in_chunks(std::string_view bytes, std::size_t chunk) {
    for (std::size_t at = 0; at < bytes.size(); at += chunk) feed(bytes.substr(at, chunk));
    return *this;
  }

  // The client closed its side.
  Input& finish() {
    Frame frame;
    if (framer_.finish(ring_, frame)) record(frame);
    return *this;
  }

  const Frames& frames() const { return frames_; }
  RingBuffer& ring() { return ring_; }

 private:
  void record(const Frame& frame) {
    switch (frame.kind) {
      case FrameKind::kLine: frames_.emplace_back(frame.line); break;
      case FrameKind::kTooLong: frames_.push_back(kTooLong); break;
      case FrameKind::kBadUtf8: frames_.push_back(kBadUtf8); break;
    }
  }

  RingBuffer ring_;
  Framer framer_;
  Frames frames_;
};

Frames frames_of(std::string_view bytes, std::size_t max_line = 64) {
  return Input(max_line).feed(bytes).frames();
}

std::string joined(std::initializer_list<std::string> parts) {
  std::string all;
  for (const std::string& part : parts) all += part;
  return all;
}

// A line of `length` bytes.
std::string line_of(std::size_t length, char fill = 'x') { return std::string(length, fill); }

TEST_CASE("Framer gives the same frames however the input is split into reads", "[framer]") {
  constexpr std::size_t kMaxLine = 24;
  const std::string input = joined({
      "server:register alice\r\n",
      "bob: h\xC3\xA9llo\n",           // a 2-byte character
      "\r\n",                          // empty: skipped
      " \t \n",                        // blank: skipped
      "x\xFF\xFB\x01y\xFF\xF1z\n",     // IAC WILL 1 and IAC NOP
      "\0\xFF\xFD\x03\0\n"s,           // only NULs and IAC DO 3: skipped
      "ab\rcd\n",                      // a CR inside the line
      "abcdefghijklmnopqrstuvwx\r\n",  // exactly kMaxLine
      "this line is far too long for the limit\n",
      "after\n",                      // intact after the long one
      "bad \xC0\xAF\n",               // overlong '/'
      "#team:\xF0\x9F\x98\x80 ok\n",  // a 4-byte character
      "last",                         // unterminated: taken by finish()
  });
  const Frames expected = {
      "server:register alice",
      "bob: h\xC3\xA9llo",
      "xyz",
      "ab" + kReplacement + "cd",
      "abcdefghijklmnopqrstuvwx",
      kTooLong,
      "after",
      kBadUtf8,
      "#team:\xF0\x9F\x98\x80 ok",
      "last",
  };

  SECTION("in one read") { CHECK(Input(kMaxLine).feed(input).finish().frames() == expected); }
  SECTION("in two reads, split at every byte boundary") {
    for (std::size_t split = 0; split <= input.size(); ++split) {
      const std::string_view bytes = input;
      Input in(kMaxLine);
      in.feed(bytes.substr(0, split)).feed(bytes.substr(split)).finish();
      CAPTURE(split);
      CHECK(in.frames() == expected);
    }
  }
  SECTION("one byte per read") {
    CHECK(Input(kMaxLine).feed_in_chunks(input, 1).finish().frames() == expected);
  }
  SECTION("in reads of every size from 2 to 11 bytes") {
    for (std::size_t chunk = 2; chunk <= 11; ++chunk) {
      CAPTURE(chunk);
      CHECK(Input(kMaxLine).feed_in_chunks(input, chunk).finish().frames() == expected);
    }
  }
}

TEST_CASE("Framer ends lines at LF and drops one CR before it", "[framer]") {
  CHECK(frames_of("one\ntwo\r\nthree\n") == Frames{"one", "two", "three"});
  CHECK(frames_of("no end yet") == Frames{});
}

TEST_CASE("Framer keeps a CR that is not right before the LF, as a replaced control", "[framer]") {
  CHECK(frames_of("a\rb\n") == Frames{"a" + kReplacement + "b"});
  CHECK(frames_of("\rab\n") == Frames{kReplacement + "ab"});
  CHECK(frames_of("ab\r\r\n") == Frames{"ab" + kReplacement});
}

TEST_CASE("Framer removes telnet IAC sequences within the line", "[framer][telnet]") {
  struct Case {
    const char* what;
    std::string line;
    std::string expected;
  };
  const auto [what, line, expected] = GENERATE(values<Case>({
      {"2-byte command (NOP)", "a\xFF\xF1z", "az"},
      {"2-byte command (GA)", "a\xFF\xF9z", "az"},
      {"WILL option", "a\xFF\xFB\x01z", "az"},
      {"WONT option", "a\xFF\xFC\x01z", "az"},
      {"DO option", "a\xFF\xFD\x18z", "az"},
      {"DONT option", "a\xFF\xFE\x22z", "az"},
      {"SB ... IAC SE", "a\xFF\xFA\x18\x01\x02\xFF\xF0z", "az"},
      {"SB without SE drops the rest of the line", "a\xFF\xFA\x18\x01z", "a"},
      {"IAC IAC", "a\xFF\xFFz", "az"},
      {"several in a row", "\xFF\xFD\x18\xFF\xFB\x01hi\xFF\xF1", "hi"},
      {"IAC at the end of the line", "ab\xFF", "ab"},
      {"IAC WILL at the end, its option missing", "ab\xFF\xFB", "ab"},
      {"IAC before the CR LF", "hi\xFF\xF1\r", "hi"},
      {"inside a UTF-8 character", "caf\xC3\xFF\xF1\xA9", "caf\xC3\xA9"},
  }));
  CAPTURE(what);
  CHECK(frames_of(line + "\n") == Frames{expected});
}

TEST_CASE("Framer does not let a telnet sequence swallow the LF", "[framer][telnet]") {
  CHECK(frames_of("\xFF\xFB\nnext\n") == Frames{"next"});
  CHECK(frames_of("a\xFF\xFA\x18\nnext\n") == Frames{"a", "next"});
}

TEST_CASE("Framer removes NUL bytes", "[framer]") { CHECK(frames_of("\0a\0b\0\n"s) == Frames{"ab"}); }

TEST_CASE("Framer skips lines that are empty or blank once cleaned", "[framer]") {
  const std::string input = "\n\r\n   \n\t \t\r\n\xFF\xFB\x01\n\0\0\n \xFF\xF1\t\n"s + "ok\n";
  CHECK(frames_of(input) == Frames{"ok"});
}

TEST_CASE("Framer replaces control characters but keeps TAB", "[framer]") {
  CHECK(frames_of("\x1B[2Jhi\n") == Frames{kReplacement + "[2Jhi"});
  CHECK(frames_of("a\xC2\x9Bz\n") == Frames{"a" + kReplacement + "z"});
  CHECK(frames_of("a\x7F\n") == Frames{"a" + kReplacement});
  CHECK(frames_of("a\tb\n") == Frames{"a\tb"});
}

TEST_CASE("Framer reports a line that is not UTF-8 and goes on", "[framer]") {
  const auto bad =
      GENERATE(as<std::string>{}, "\xC3\x28", "\xED\xA0\x80", "\xF4\x90\x80\x80", "ab\x80", "caf\xC3");
  CAPTURE(bad);
  CHECK(frames_of(bad + "\nfine\n") == Frames{kBadUtf8, "fine"});
}

TEST_CASE("Framer accepts max_line bytes and refuses one more", "[framer][too-long]") {
  constexpr std::size_t kMaxLine = 16;
  const std::string longest = line_of(kMaxLine);
  const std::string too_long = line_of(kMaxLine + 1);

  SECTION("exactly max_line, with LF or CR LF") {
    CHECK(frames_of(longest + "\n", kMaxLine) == Frames{longest});
    CHECK(frames_of(longest + "\r\n", kMaxLine) == Frames{longest});
  }
  SECTION("max_line + 1, with LF or CR LF; the next line is intact") {
    CHECK(frames_of(too_long + "\nnext\n", kMaxLine) == Frames{kTooLong, "next"});
    CHECK(frames_of(too_long + "\r\nnext\n", kMaxLine) == Frames{kTooLong, "next"});
  }
  SECTION("bytes are counted, not characters") {
    const std::string sixteen_bytes = "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9";
    CHECK(frames_of(sixteen_bytes + "\n", kMaxLine) == Frames{sixteen_bytes});
    CHECK(frames_of(sixteen_bytes + "x\n", kMaxLine) == Frames{kTooLong});
  }
  SECTION("telnet bytes count as received") {
    CHECK(frames_of(line_of(kMaxLine - 3) + "\xFF\xFB\x01\n", kMaxLine) == Frames{line_of(kMaxLine - 3)});
    CHECK(frames_of(line_of(kMaxLine - 2) + "\xFF\xFB\x01\n", kMaxLine) == Frames{kTooLong});
  }
  SECTION("a long line and its LF in one read") {
    CHECK(frames_of(line_of(5 * kMaxLine) + "\nok\n", kMaxLine) == Frames{kTooLong, "ok"});
  }
}

TEST_CASE("Framer holds at most one ring of an endless line and reports it once", "[framer][too-long]") {
  constexpr std::size_t kMaxLine = 16;
  Input in(kMaxLine);
  REQUIRE(in.ring().capacity() == Framer::buffer_capacity(kMaxLine));

  const std::string endless = line_of(10'000);
  in.feed_in_chunks(endless, 7);
  CHECK(in.frames() == Frames{kTooLong});
  CHECK(in.ring().size() <= kMaxLine + 2);

  in.feed("still the same line\nafter\n");
  CHECK(in.frames() == Frames{kTooLong, "after"});
}

TEST_CASE("Framer passes lines that wrap around the end of the ring", "[framer][wrap]") {
  SECTION("one line split by the wrap") {
    Input in(8);  // a ring of 10
    in.feed("abcdef\nghi");
    CHECK(in.frames() == Frames{"abcdef"});
    std::string scratch;
    const char* held = in.ring().peek(3, scratch).data();
    REQUIRE(in.ring().writable().data() < held);  // "ghi" is at the end: what follows goes to the front
    in.feed("jk\n");
    CHECK(in.frames() == Frames{"abcdef", "ghijk"});
  }
  SECTION("a long stream through a small ring, in odd-sized reads") {
    std::string stream;
    Frames expected;
    for (int i = 0; i < 100; ++i) {
      expected.push_back("line-" + std::to_string(i));
      stream += expected.back() + (i % 2 == 0 ? "\n" : "\r\n");
    }
    CHECK(Input(8).feed_in_chunks(stream, 5).frames() == expected);
  }
}

// A wrapped line is copied into the frame's scratch, cleaned of telnet bytes
// into a second, and of controls back into the first: each step must read
// from the other string than the one it writes.
TEST_CASE("Framer cleans a wrapped line of telnet bytes and controls", "[framer][wrap][telnet]") {
  Input in(8);  // a ring of 10
  in.feed("abcdef\ng\xFF\xFB"s);  // what follows goes to the front of the ring
  in.feed("\x01h\x07i\n"s);
  CHECK(in.frames() == Frames{"abcdef", "gh" + kReplacement + "i"});
}

TEST_CASE("Framer::finish takes the bytes after the last LF as a line", "[framer][finish]") {
  constexpr std::size_t kMaxLine = 16;
  const auto at_end = [](std::string_view bytes) { return Input(kMaxLine).feed(bytes).finish().frames(); };

  CHECK(at_end("a\nbob:hi") == Frames{"a", "bob:hi"});
  CHECK(at_end("bob:hi\r") == Frames{"bob:hi"});
  CHECK(at_end("\xFF\xFB\x01server:hi\0"s) == Frames{"server:hi"});
  CHECK(at_end("a\n") == Frames{"a"});
  CHECK(at_end("") == Frames{});
  CHECK(at_end("a\n \t") == Frames{"a"});
  CHECK(at_end("bad\xC0\xAF") == Frames{kBadUtf8});
  CHECK(at_end(line_of(kMaxLine + 1)) == Frames{kTooLong});
}

TEST_CASE("Framer::finish gives nothing while an over-long line is being discarded", "[framer][finish]") {
  constexpr std::size_t kMaxLine = 16;
  Input in(kMaxLine);
  in.feed(line_of(3 * kMaxLine)).finish();
  CHECK(in.frames() == Frames{kTooLong});
  CHECK(in.ring().empty());
}

TEST_CASE("strip_telnet replaces what was in its output", "[framer][telnet]") {
  std::string out = "old";
  strip_telnet("n\0e\xFF\xF1w"s, out);
  CHECK(out == "new");
}

}  // namespace
}  // namespace uvchat::protocol
