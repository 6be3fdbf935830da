// The store's own thread: the loop hands it requests and never waits for
// the disk; results come back to the loop through a uv_async_t.
#pragma once

#include <uv.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "uvchat/chat/effects.hpp"
#include "uvchat/store/store.hpp"

namespace uvchat::net {

class StoreWorker {
 public:
  using ResultHandler = std::function<void(std::vector<chat::StoreResult>& results)>;

  // `group_commit` off commits every request on its own: only for measuring
  // what group commit is worth.
  StoreWorker(uv_loop_t* loop, std::unique_ptr<store::Store> store, ResultHandler on_results,
              bool group_commit);
  StoreWorker(const StoreWorker&) = delete;
  StoreWorker& operator=(const StoreWorker&) = delete;
  ~StoreWorker();

  // From the loop thread. Requests run in the order they are submitted.
  void submit(chat::StoreRequest request);
  // Requests submitted and not yet committed: how far behind the store is.
  std::size_t backlog() const { return backlog_.load(std::memory_order_relaxed); }
  // While set, the results handler is also called (with no results) after
  // every batch, so that the loop sees the backlog shrink.
  void report_every_batch(bool on) { report_every_batch_.store(on, std::memory_order_relaxed); }
  // Runs everything submitted so far, commits it, ends the thread and closes
  // the async handle. Results still on the way are dropped.
  void stop();

 private:
  static void on_async(uv_async_t* handle);
  void run();
  // When each DM marked delivered in a batch was delivered (Unix ms).
  using Deliveries = std::unordered_map<chat::MessageId, std::int64_t>;
  std::vector<chat::StoreResult> run_batch(std::vector<chat::StoreRequest>& batch);
  void execute(chat::StoreRequest& request, Deliveries& deliveries, std::vector<chat::StoreResult>& results);
  void roll_back();

  uv_async_t async_{};
  std::unique_ptr<store::Store> store_;  // used by the thread only
  ResultHandler on_results_;
  bool group_commit_;

  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<chat::StoreRequest> incoming_;  // guarded by mutex_
  std::vector<chat::StoreResult> outgoing_;   // guarded by mutex_
  bool stopping_ = false;                     // guarded by mutex_
  std::atomic<std::size_t> backlog_{0};
  std::atomic<bool> report_every_batch_{false};
  bool stopped_ = false;  // loop thread only
  std::thread thread_;
};

}  // namespace uvchat::net
