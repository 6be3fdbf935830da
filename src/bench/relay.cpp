// uvchat-relay: the floor that uvchatd is measured against. It speaks just
// enough of the native door for uvchat-bench's dm, latency, fanout and idle
// scenarios (register, DMs, rooms, ping, who, exit) and does nothing else: no
// store, no checks, no names folded, no limits. What uvchatd costs beyond
// it is what the hub, the doors and the store add; the relay's own cost is
// the kernel's and libuv's, which no server on the machine escapes.
//
// It is built the way uvchatd is where the two must not differ: one libuv
// loop, each connection's lines taken by the same framer and parser, and
// each connection's output written once per loop turn. It takes uvchatd's
// command line so that scripts/bench-versus can run it in uvchatd's place:
// --host and --port, and it ignores the rest. It listens on loopback only:
// it is a tool for a benchmark, never a server (docs/BENCHMARKS.md).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <uv.h>

#include <csignal>
#include <cstdio>
#include <ctime>
#include <cxxopts.hpp>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "uvchat/protocol/framer.hpp"
#include "uvchat/protocol/parser.hpp"
#include "uvchat/protocol/ring_buffer.hpp"

namespace {

using uvchat::protocol::Command;
using uvchat::protocol::CommandKind;
using uvchat::protocol::Frame;
using uvchat::protocol::FrameKind;
using uvchat::protocol::Framer;
using uvchat::protocol::RingBuffer;

constexpr std::size_t kMaxLine = 4096;            // uvchatd's default --max-line
constexpr int kBacklog = 4096;                    // uvchatd's default --backlog
constexpr std::size_t kMostWaiting = 16u << 20;  // a client that reads nothing is closed past this

class Relay;

struct Client {
  Client(Relay& owner, std::size_t capacity) : relay(owner), input(capacity) {}

  uv_tcp_t tcp{};
  Relay& relay;
  RingBuffer input;
  Framer framer;
  std::string name;  // empty until registered
  std::string output;
  bool dirty = false;    // in the relay's list of output to write this turn
  bool closing = false;  // uv_close called; freed in its callback
};

// A write that did not go out at once: its bytes live as long as the request.
struct PendingWrite {
  uv_write_t request{};
  std::string bytes;
};

class Relay {
 public:
  explicit Relay(uv_loop_t* loop) : loop_(loop) {
    uv_tcp_init(loop_, &listener_);
    uv_prepare_init(loop_, &flush_);
    uv_signal_init(loop_, &sigterm_);
    uv_signal_init(loop_, &sigint_);
    for (auto* handle : handles()) handle->data = this;
  }

  // An error message, or empty once listening.
  std::string listen(const std::string& host, int port) {
    sockaddr_storage address{};
    if (uv_ip4_addr(host.c_str(), port, reinterpret_cast<sockaddr_in*>(&address)) != 0 &&
        uv_ip6_addr(host.c_str(), port, reinterpret_cast<sockaddr_in6*>(&address)) != 0) {
      return "not an IP address: " + host;
    }
    if (!is_loopback(address)) return "listens on loopback only (127.0.0.0/8 or ::1), not " + host;
    if (const int status = uv_tcp_bind(&listener_, reinterpret_cast<const sockaddr*>(&address), 0); status != 0) {
      return "bind " + host + ": " + uv_strerror(status);
    }
    if (const int status = uv_listen(reinterpret_cast<uv_stream_t*>(&listener_), kBacklog, on_connection);
        status != 0) {
      return std::string("listen: ") + uv_strerror(status);
    }
    uv_prepare_start(&flush_, on_prepare);
    uv_signal_start(&sigterm_, on_signal, SIGTERM);
    uv_signal_start(&sigint_, on_signal, SIGINT);
    sockaddr_storage bound{};
    int length = sizeof bound;
    uv_tcp_getsockname(&listener_, reinterpret_cast<sockaddr*>(&bound), &length);
    char text[INET6_ADDRSTRLEN] = {};
    const bool v4 = bound.ss_family == AF_INET;
    if (v4) {
      uv_ip4_name(reinterpret_cast<const sockaddr_in*>(&bound), text, sizeof text);
    } else {
      uv_ip6_name(reinterpret_cast<const sockaddr_in6*>(&bound), text, sizeof text);
    }
    const int bound_port = ntohs(v4 ? reinterpret_cast<const sockaddr_in*>(&bound)->sin_port
                                    : reinterpret_cast<const sockaddr_in6*>(&bound)->sin6_port);
    // The line scripts/bench-common.sh waits for, as uvchatd logs it.
    std::fprintf(stderr, "uvchat-relay: listening on %s:%d\n", text, bound_port);
    return {};
  }

 private:
  std::vector<uv_handle_t*> handles() {
    return {reinterpret_cast<uv_handle_t*>(&listener_), reinterpret_cast<uv_handle_t*>(&flush_),
            reinterpret_cast<uv_handle_t*>(&sigterm_), reinterpret_cast<uv_handle_t*>(&sigint_)};
  }

  static bool is_loopback(const sockaddr_storage& address) {
    if (address.ss_family == AF_INET) {
      const auto& v4 = reinterpret_cast<const sockaddr_in&>(address);
      return (ntohl(v4.sin_addr.s_addr) >> 24) == 127;
    }
    const auto& v6 = reinterpret_cast<const sockaddr_in6&>(address);
    return IN6_IS_ADDR_LOOPBACK(&v6.sin6_addr);
  }

  static void on_connection(uv_stream_t* server, int status) {
    auto& self = *static_cast<Relay*>(server->data);
    if (status != 0) return;
    auto* client = new Client(self, Framer::buffer_capacity(kMaxLine));
    uv_tcp_init(self.loop_, &client->tcp);
    client->tcp.data = client;
    if (uv_accept(server, reinterpret_cast<uv_stream_t*>(&client->tcp)) != 0) {
      self.close(*client);
      return;
    }
    uv_tcp_nodelay(&client->tcp, 1);
    uv_read_start(reinterpret_cast<uv_stream_t*>(&client->tcp), on_alloc, on_read);
  }

  // Straight into the ring, which the framer empties of every whole line;
  // a ring full of one line is discarded by the framer as too long.
  static void on_alloc(uv_handle_t* handle, std::size_t, uv_buf_t* buf) {
    const std::span<char> space = static_cast<Client*>(handle->data)->input.writable();
    *buf = uv_buf_init(space.data(), static_cast<unsigned int>(space.size()));
  }

  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t*) {
    auto& client = *static_cast<Client*>(stream->data);
    if (nread < 0) {
      client.relay.close(client);
      return;
    }
    client.input.commit(static_cast<std::size_t>(nread));
    Frame frame;
    while (!client.closing && client.framer.next(client.input, frame)) {
      if (frame.kind == FrameKind::kLine) client.relay.take(client, uvchat::protocol::parse_line(frame.line));
    }
    client.input.release();  // an idle connection holds no buffer, as in uvchatd
  }

  void take(Client& client, const Command& command) {
    switch (command.kind) {
      case CommandKind::kRegister:
        if (!client.name.empty() || names_.contains(std::string(command.target))) {
          send(client, "server:error name-taken " + std::string(command.target) + "\n");
          return;
        }
        client.name = command.target;
        names_.emplace(client.name, &client);
        send(client, "server:welcome " + client.name + "\nserver:queued-messages 0\n");
        return;
      case CommandKind::kDirect: {
        const auto found = names_.find(std::string(command.target));
        if (client.name.empty() || found == names_.end()) return;
        send(*found->second, chat_line({}, client.name, command.text));
        return;
      }
      case CommandKind::kJoin: {
        if (client.name.empty()) return;
        auto& members = rooms_[std::string(command.target)];
        members.push_back(&client);
        const std::string joined = "server:joined #" + std::string(command.target) + " " + client.name + "\n";
        for (Client* member : members) send(*member, joined);
        return;
      }
      case CommandKind::kRoom: {
        const auto found = rooms_.find(std::string(command.target));
        if (client.name.empty() || found == rooms_.end()) return;
        // Rendered once, for every member.
        const std::string line = chat_line(command.target, client.name, command.text);
        for (Client* member : found->second) {
          if (member != &client) send(*member, line);
        }
        return;
      }
      case CommandKind::kPing: send(client, "server:pong\n"); return;
      case CommandKind::kWho: {
        // Unsorted: idle asks it to see the closed connections gone.
        std::string users = "server:users";
        for (const auto& [name, online] : names_) users.append(" ").append(name);
        send(client, users.append("\n"));
        return;
      }
      case CommandKind::kExit: {
        // What was owed goes out first, as uvchatd does.
        write_out(client);
        close(client);
        return;
      }
      default: return;  // everything else: nothing, as the floor does nothing
    }
  }

  // `[HH:MM:SS] NAME: TEXT`, or `[HH:MM:SS] #room NAME: TEXT`, in UTC; the
  // stamp is made once a second.
  std::string chat_line(std::string_view room, const std::string& sender, std::string_view text) {
    const std::time_t now = std::time(nullptr);
    if (now != stamp_second_) {
      stamp_second_ = now;
      std::tm utc{};
      gmtime_r(&now, &utc);
      std::strftime(stamp_, sizeof stamp_, "[%H:%M:%S] ", &utc);
    }
    std::string line(stamp_);
    if (!room.empty()) line.append("#").append(room).append(" ");
    line.append(sender).append(": ").append(text).append("\n");
    return line;
  }

  void send(Client& client, std::string_view bytes) {
    if (client.closing) return;
    client.output.append(bytes);
    if (!client.dirty) {
      client.dirty = true;
      dirty_.push_back(&client);
    }
  }

  // Once per loop turn, before the loop waits: every client's output of the
  // turn in one write.
  static void on_prepare(uv_prepare_t* handle) {
    auto& self = *static_cast<Relay*>(handle->data);
    for (Client* client : self.dirty_) {
      client->dirty = false;
      self.write_out(*client);
    }
    self.dirty_.clear();
  }

  void write_out(Client& client) {
    if (client.closing || client.output.empty()) return;
    auto* stream = reinterpret_cast<uv_stream_t*>(&client.tcp);
    uv_buf_t buf = uv_buf_init(client.output.data(), static_cast<unsigned int>(client.output.size()));
    std::size_t written = 0;
    if (uv_stream_get_write_queue_size(stream) == 0) {
      const int status = uv_try_write(stream, &buf, 1);
      if (status < 0 && status != UV_EAGAIN) {
        close(client);
        return;
      }
      written = status > 0 ? static_cast<std::size_t>(status) : 0;
    }
    if (written < client.output.size()) {
      if (uv_stream_get_write_queue_size(stream) > kMostWaiting) {
        close(client);
        return;
      }
      auto* pending = new PendingWrite;
      pending->bytes = client.output.substr(written);
      buf = uv_buf_init(pending->bytes.data(), static_cast<unsigned int>(pending->bytes.size()));
      if (uv_write(&pending->request, stream, &buf, 1, [](uv_write_t* request, int) {
            delete reinterpret_cast<PendingWrite*>(request);  // request is PendingWrite's first member
          }) != 0) {
        delete pending;
        close(client);
        return;
      }
    }
    client.output.clear();
  }

  void close(Client& client) {
    if (client.closing) return;
    client.closing = true;
    if (!client.name.empty()) names_.erase(client.name);
    for (auto& [room, members] : rooms_) std::erase(members, &client);
    std::erase(dirty_, &client);
    uv_close(reinterpret_cast<uv_handle_t*>(&client.tcp),
             [](uv_handle_t* handle) { delete static_cast<Client*>(handle->data); });
  }

  // Every handle closes, the clients' with their Client: nothing runs after
  // this but close callbacks, so the maps need no tidying.
  static void on_signal(uv_signal_t* signal, int) {
    auto& self = *static_cast<Relay*>(signal->data);
    for (auto* own : self.handles()) uv_close(own, nullptr);
    uv_walk(
        self.loop_,
        [](uv_handle_t* open, void*) {
          if (!uv_is_closing(open)) {
            uv_close(open, [](uv_handle_t* tcp) { delete static_cast<Client*>(tcp->data); });
          }
        },
        nullptr);
  }

  uv_loop_t* loop_;
  uv_tcp_t listener_{};
  uv_prepare_t flush_{};
  uv_signal_t sigterm_{};
  uv_signal_t sigint_{};
  std::unordered_map<std::string, Client*> names_;
  std::unordered_map<std::string, std::vector<Client*>> rooms_;
  std::vector<Client*> dirty_;
  std::time_t stamp_second_ = 0;
  char stamp_[16] = {};
};

}  // namespace

int main(int argc, char** argv) {
  cxxopts::Options parser("uvchat-relay",
                          "The floor for benchmarks: a bare relay of the native door on loopback (no store, no "
                          "checks). Takes uvchatd's options and ignores all but --host and --port.");
  parser.allow_unrecognised_options();
  parser.add_options()("host", "Loopback address to listen on", cxxopts::value<std::string>()->default_value("127.0.0.1"))(
      "port", "Port (0: any free one)", cxxopts::value<int>()->default_value("8080"))("h,help", "This help");
  try {
    const auto options = parser.parse(argc, argv);
    if (options.count("help") != 0) {
      std::printf("%s\n", parser.help().c_str());
      return 0;
    }
    uv_loop_t* loop = uv_default_loop();
    Relay relay(loop);
    if (const std::string error = relay.listen(options["host"].as<std::string>(), options["port"].as<int>());
        !error.empty()) {
      std::fprintf(stderr, "uvchat-relay: %s\n", error.c_str());
      return 1;
    }
    uv_run(loop, UV_RUN_DEFAULT);
    uv_loop_close(loop);
    return 0;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "uvchat-relay: %s\n", error.what());
    return 2;
  }
}
