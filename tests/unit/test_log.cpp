// The log's lines: written at once, or held by a thread (the loop's) and
// written together, whole and in order.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "uvchat/log.hpp"

namespace {

// A log file of its own for the test, and stderr again afterwards.
class LogFile {
 public:
  LogFile() {
    std::string name = (std::filesystem::temp_directory_path() / "uvchat-test-log-XXXXXX").string();
    const int fd = ::mkstemp(name.data());
    REQUIRE(fd >= 0);
    ::close(fd);
    path_ = name;
    REQUIRE(uvchat::set_log_file(path_).empty());
  }
  ~LogFile() {
    uvchat::hold_log_lines(false);
    uvchat::set_log_file("");
    std::filesystem::remove(path_);
  }
  LogFile(const LogFile&) = delete;
  LogFile& operator=(const LogFile&) = delete;

  std::string text() const {
    std::ifstream in(path_, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  // The text of each line, without its time and level.
  std::vector<std::string> lines() const {
    std::vector<std::string> out;
    const std::string all = text();
    std::size_t start = 0;
    for (std::size_t end; (end = all.find('\n', start)) != std::string::npos; start = end + 1) {
      const std::string line = all.substr(start, end - start);
      out.push_back(line.substr(line.find(": ") + 2));
    }
    REQUIRE(start == all.size());  // whole lines only
    return out;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

using Lines = std::vector<std::string>;

}  // namespace

TEST_CASE("log: a line is written at once unless the thread holds its lines", "[log]") {
  LogFile file;
  uvchat::log(uvchat::LogLevel::kInfo, "one");
  CHECK(file.lines() == Lines{"one"});
  CHECK(file.text().find(" info: one\n") != std::string::npos);
}

TEST_CASE("log: held lines wait for flush_log_lines, then go out in order", "[log]") {
  LogFile file;
  uvchat::hold_log_lines(true);
  uvchat::log(uvchat::LogLevel::kInfo, "one");
  uvchat::log(uvchat::LogLevel::kInfo, "two");
  CHECK(file.text().empty());
  uvchat::flush_log_lines();
  CHECK(file.lines() == Lines{"one", "two"});
  uvchat::flush_log_lines();  // nothing more waits
  CHECK(file.lines() == Lines{"one", "two"});
}

TEST_CASE("log: a warning or an error writes what is held, then itself", "[log]") {
  LogFile file;
  uvchat::hold_log_lines(true);
  uvchat::log(uvchat::LogLevel::kInfo, "one");
  uvchat::log(uvchat::LogLevel::kWarn, "careful");
  CHECK(file.lines() == Lines{"one", "careful"});
  uvchat::log(uvchat::LogLevel::kInfo, "two");
  uvchat::log(uvchat::LogLevel::kError, "broken");
  CHECK(file.lines() == Lines{"one", "careful", "two", "broken"});
}

TEST_CASE("log: lines below the level are neither held nor written", "[log]") {
  LogFile file;
  uvchat::hold_log_lines(true);
  uvchat::log(uvchat::LogLevel::kDebug, "detail");
  uvchat::flush_log_lines();
  CHECK(file.text().empty());
}

TEST_CASE("log: held lines go out by themselves before they pass 4096 bytes, whole", "[log]") {
  LogFile file;
  uvchat::hold_log_lines(true);
  const std::string text(100, 'x');
  for (int i = 0; i < 100; ++i) uvchat::log(uvchat::LogLevel::kInfo, text);
  const std::size_t written = file.lines().size();  // whole lines only, checked there
  CHECK(written > 0);
  CHECK(written < 100);
  CHECK(file.text().size() % 4096 != 0);  // not cut at the limit
  uvchat::flush_log_lines();
  CHECK(file.lines() == Lines(100, text));
}

TEST_CASE("log: a line longer than a write's share goes out at once, after what is held", "[log]") {
  LogFile file;
  uvchat::hold_log_lines(true);
  uvchat::log(uvchat::LogLevel::kInfo, "short");
  const std::string long_text(5000, 'y');
  uvchat::log(uvchat::LogLevel::kInfo, long_text);
  CHECK(file.lines() == Lines{"short", long_text});
}

TEST_CASE("log: hold_log_lines(false) writes what waits", "[log]") {
  LogFile file;
  uvchat::hold_log_lines(true);
  uvchat::log(uvchat::LogLevel::kInfo, "one");
  uvchat::hold_log_lines(false);
  CHECK(file.lines() == Lines{"one"});
  uvchat::log(uvchat::LogLevel::kInfo, "two");
  CHECK(file.lines() == Lines{"one", "two"});
}

TEST_CASE("log: only the thread that holds its lines waits; others write at once", "[log]") {
  LogFile file;
  uvchat::hold_log_lines(true);
  uvchat::log(uvchat::LogLevel::kInfo, "loop");
  std::thread other([] { uvchat::log(uvchat::LogLevel::kInfo, "store"); });
  other.join();
  CHECK(file.lines() == Lines{"store"});
  uvchat::flush_log_lines();
  CHECK(file.lines() == Lines{"store", "loop"});
}

TEST_CASE("log: held lines go to the file they were logged for", "[log]") {
  LogFile first;
  uvchat::hold_log_lines(true);
  uvchat::log(uvchat::LogLevel::kInfo, "old");
  {
    LogFile second;
    uvchat::hold_log_lines(true);
    uvchat::log(uvchat::LogLevel::kInfo, "new");
    uvchat::flush_log_lines();
    CHECK(first.lines() == Lines{"old"});
    CHECK(second.lines() == Lines{"new"});
  }
}
