// uvchat: wiring only. The options, one loop, the app, a clean exit.
#include <unistd.h>
#include <uv.h>

#include <clocale>
#include <csignal>
#include <cstdio>
#include <cstdlib>

#include "app.hpp"
#include "options.hpp"

namespace {

void close_any(uv_handle_t* handle, void*) {
  if (!uv_is_closing(handle)) uv_close(handle, nullptr);
}

}  // namespace

int main(int argc, char** argv) {
  const uvchat::client::OptionsResult parsed = uvchat::client::parse_client_options(
      argc, argv, [](const char* name) -> const char* { return std::getenv(name); });
  if (!parsed.run) {
    std::fputs(parsed.message.c_str(), parsed.exit_code == 0 ? stdout : stderr);
    return parsed.exit_code;
  }
  const bool interactive = ::isatty(STDIN_FILENO) == 1;
  if (!interactive && parsed.options.name.empty()) {
    std::fputs(
        "uvchat: --name (or name in the configuration file) is needed when standard input is not a "
        "terminal\n",
        stderr);
    return 2;
  }
  // For the widths of what is typed (wcwidth).
  std::setlocale(LC_CTYPE, "");
  std::signal(SIGPIPE, SIG_IGN);

  uv_loop_t loop;
  uv_loop_init(&loop);
  int status = 0;
  {
    uvchat::client::App app(&loop, parsed.options, interactive);
    status = app.run();
  }
  if (uv_loop_close(&loop) != 0) {
    uv_walk(&loop, close_any, nullptr);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
  }
  return status;
}
