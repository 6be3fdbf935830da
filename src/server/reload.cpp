#include "reload.hpp"

#include "notify.hpp"
#include "uvchat/log.hpp"

namespace uvchat::server {
namespace {

std::string joined(const std::vector<std::string>& names) {
  std::string text;
  for (const std::string& name : names) text += (text.empty() ? "" : ", ") + name;
  return text;
}

}  // namespace

std::string listening_status(const net::Server& server) {
  return "STATUS=listening on " + joined(server.addresses());
}

void Reloader::reload() {
  notify_service_manager(reloading_state());
  ReloadResult result = reload_options(sources_, running_);
  if (result.error.empty()) {
    apply(result);
  } else {
    // logrotate's SIGHUP must get its new file whatever the config says.
    if (const std::string error = reopen_log_file(); !error.empty()) log(LogLevel::kError, error);
    log(LogLevel::kError, "reload: " + result.error + "; the configuration stays as it was");
    // And certbot's renewed certificate is served all the same.
    server_.reload_tls();
  }
  notify_service_manager("READY=1\n" + listening_status(server_));
}

void Reloader::apply(ReloadResult& result) {
  switch_log_file(result);
  const Options& options = result.configuration.options;
  set_log_level(options.log_level);
  server_.reconfigure(options.server);
  for (const std::string& name : result.need_restart) {
    log(LogLevel::kWarn, "reload: " + name + " changed, but a running server keeps it until it restarts");
  }
  log(LogLevel::kInfo,
      "configuration reloaded: " +
          (result.applied.empty() ? "nothing changed" : "changed " + joined(result.applied)));
  running_ = std::move(result.configuration);
}

// The same file is opened again (after logrotate renamed it), or another
// one if the config names another. Should that fail, lines go on to the
// file they went to, and the next reload tries again.
void Reloader::switch_log_file(ReloadResult& result) {
  Configuration& fresh = result.configuration;
  const bool same = fresh.options.log_file == log_file();
  const std::string error = same ? reopen_log_file() : set_log_file(fresh.options.log_file);
  if (error.empty()) return;
  log(LogLevel::kError, "reload: " + error);
  if (same) return;
  fresh.options.log_file = running_.options.log_file;
  fresh.settings.erase("log-file");
  if (const auto found = running_.settings.find("log-file"); found != running_.settings.end())
    fresh.settings.insert(*found);
  std::erase(result.applied, std::string("log-file"));
}

}  // namespace uvchat::server
