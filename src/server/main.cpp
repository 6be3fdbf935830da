// uvchatd: wiring only. The options, one loop, the server, and a clean exit.
#include <uv.h>

#include <csignal>
#include <cstdio>

#include "descriptors.hpp"
#include "make_cert.hpp"
#include "notify.hpp"
#include "options.hpp"
#include "reload.hpp"
#include "uvchat/log.hpp"
#include "uvchat/net/server.hpp"

namespace {

void close_any(uv_handle_t* handle, void*) {
  if (!uv_is_closing(handle)) uv_close(handle, nullptr);
}

// The server closes what it opened; this catches anything left so that the
// loop can be closed without leaking.
void close_loop(uv_loop_t* loop) {
  if (uv_loop_close(loop) == 0) return;
  uv_walk(loop, close_any, nullptr);
  uv_run(loop, UV_RUN_DEFAULT);
  uv_loop_close(loop);
}

}  // namespace

int main(int argc, char** argv) {
  uvchat::server::ParseResult parsed = uvchat::server::parse_options(argc, argv);
  if (!parsed.make_cert_dir.empty()) return uvchat::server::make_certificate(parsed.make_cert_dir);
  if (!parsed.run) {
    std::fputs(parsed.message.c_str(), parsed.exit_code == 0 ? stdout : stderr);
    return parsed.exit_code;
  }
  // A peer that closes while we write must cost us an EPIPE, not the process.
  std::signal(SIGPIPE, SIG_IGN);
  const uvchat::server::Options& options = parsed.configuration.options;
  uvchat::set_log_level(options.log_level);
  if (const std::string error = uvchat::set_log_file(options.log_file); !error.empty()) {
    std::fprintf(stderr, "uvchatd: %s\n", error.c_str());
    return 1;
  }

  // Before any thread starts: see descriptors.cpp.
  uvchat::server::reserve_descriptors_for(options.server.hub.max_clients);

  uv_loop_t loop;
  uv_loop_init(&loop);
  int exit_code = 0;
  {
    uvchat::net::Server server(&loop, options.server);
    uvchat::server::Reloader reloader(server, std::move(parsed.sources), std::move(parsed.configuration));
    server.set_hooks(
        {[&reloader] { reloader.reload(); }, [] { uvchat::server::notify_service_manager("STOPPING=1"); }});
    if (const std::string error = server.start(); !error.empty()) {
      uvchat::log(uvchat::LogLevel::kError, error);
      exit_code = 1;
    } else {
      uvchat::server::notify_service_manager("READY=1\n" + uvchat::server::listening_status(server));
    }
    uv_run(&loop, UV_RUN_DEFAULT);
  }
  close_loop(&loop);
  if (exit_code == 0) uvchat::log(uvchat::LogLevel::kInfo, "stopped");
  return exit_code;
}
