// The server's password work (the hub's kHashPassword and kVerifyPassword),
// off the loop thread, and the hub told the answer on it.
#include <memory>
#include <string>
#include <vector>

#include "uvchat/log.hpp"
#include "uvchat/net/server.hpp"
#include "uvchat/store/password.hpp"

namespace uvchat::net {

// Hashing and checking passwords takes tens of milliseconds of CPU on
// purpose, so it runs on libuv's thread pool. A wrong password is answered
// only after a delay, on a timer, so that guessing is slow while the loop
// goes on serving everyone else.
struct Server::PasswordJob {
  uv_work_t work{};
  uv_timer_t delay{};
  bool delaying = false;
  Server* server = nullptr;
  std::shared_ptr<chat::HashPassword> to_hash;
  std::shared_ptr<chat::VerifyPassword> to_verify;
  std::string hash;
  bool matches = false;
};

void Server::start_password_job(chat::Effect& effect) {
  auto* job = new PasswordJob;
  job->server = this;
  job->to_hash = std::move(effect.hash_password);
  job->to_verify = std::move(effect.verify_password);
  job->work.data = job;
  password_jobs_.insert(job);
  uv_queue_work(loop_, &job->work, on_password_work, on_password_done);
}

void Server::on_password_work(uv_work_t* work) {
  auto* job = static_cast<PasswordJob*>(work->data);
  try {
    if (job->to_hash) {
      job->hash = store::hash_password(job->to_hash->password);
      store::wipe(job->to_hash->password);
    } else {
      job->matches = store::verify_password(job->to_verify->password, job->to_verify->hash);
      store::wipe(job->to_verify->password);
    }
  } catch (const store::StoreError& error) {
    log(LogLevel::kError, std::string("password: ") + error.what());
  }
}

void Server::on_password_done(uv_work_t* work, int) {
  auto* job = static_cast<PasswordJob*>(work->data);
  Server* self = job->server;
  const bool penalise = job->to_verify && !job->matches && job->to_verify->failure_delay.count() > 0;
  if (!penalise || self->stopping_) {
    self->finish_password_job(job);
    return;
  }
  uv_timer_init(self->loop_, &job->delay);
  job->delay.data = job;
  job->delaying = true;
  uv_timer_start(&job->delay, on_password_delay_over,
                 static_cast<std::uint64_t>(job->to_verify->failure_delay.count()), 0);
}

void Server::on_password_delay_over(uv_timer_t* timer) {
  auto* job = static_cast<PasswordJob*>(timer->data);
  job->server->finish_password_job(job);
}

void Server::finish_password_job(PasswordJob* job) {
  if (job->to_hash) {
    hub_.on_password_hashed(job->to_hash->session, job->to_hash->name, std::move(job->hash),
                            protocol::Clock::now(), effects_);
  } else {
    hub_.on_password_checked(job->to_verify->session, job->to_verify->name, job->matches,
                             protocol::Clock::now(), effects_);
  }
  apply_effects();
  password_jobs_.erase(job);
  free_password_job(job);
  finish_if_stopped();
}

void Server::free_password_job(PasswordJob* job) {
  if (!job->delaying) {
    delete job;
    return;
  }
  uv_close(reinterpret_cast<uv_handle_t*>(&job->delay),
           [](uv_handle_t* handle) { delete static_cast<PasswordJob*>(handle->data); });
}

// True while a job is on the thread pool (not only waiting out a delay).
bool Server::password_work_running() const {
  for (const PasswordJob* job : password_jobs_) {
    if (!job->delaying) return true;
  }
  return false;
}

// Jobs on the thread pool cannot be recalled (the loop waits for them);
// those only waiting out a wrong password's delay are dropped.
void Server::drop_password_delays() {
  std::vector<PasswordJob*> delaying;
  for (PasswordJob* job : password_jobs_) {
    if (job->delaying) delaying.push_back(job);
  }
  for (PasswordJob* job : delaying) {
    password_jobs_.erase(job);
    free_password_job(job);
  }
}

}  // namespace uvchat::net
