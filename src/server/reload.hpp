// SIGHUP: the config file read again and what a running server can change
// applied; the log file opened again (logrotate).
#pragma once

#include "options.hpp"
#include "uvchat/net/server.hpp"

namespace uvchat::server {

class Reloader {
 public:
  Reloader(net::Server& server, OptionSources sources, Configuration running)
      : server_(server), sources_(std::move(sources)), running_(std::move(running)) {}

  // Tells the service manager (RELOADING=1, then READY=1) around the reload.
  // A file with an error is logged and changes nothing.
  void reload();

 private:
  void apply(ReloadResult& result);
  void switch_log_file(ReloadResult& result);

  net::Server& server_;
  OptionSources sources_;
  Configuration running_;
};

// "STATUS=listening on 127.0.0.1:8080, [::1]:8080" for the service manager.
std::string listening_status(const net::Server& server);

}  // namespace uvchat::server
