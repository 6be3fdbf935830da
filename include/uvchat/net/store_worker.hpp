// The store's own thread: the loop hands it requests and never waits for
// the disk; results come back to the loop through a Wakeup (an eventfd).
#pragma once

#include <uv.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "uvchat/chat/effects.hpp"
#include "uvchat/net/wakeup.hpp"
#include "uvchat/store/held_directs.hpp"
#include "uvchat/store/store.hpp"

namespace uvchat::net {

// The loop's half of sharing a core with the store's thread: the calling
// thread asks the scheduler for a short time slice (store_worker.cpp says
// why). The server calls it from the loop's thread once the store runs.
void ask_for_short_slice();

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

  // From the loop thread. Requests run in the order they are submitted,
  // once handed over. Done with, they come back to the loop thread and are
  // freed at its next hand_over: what the loop allocates, the loop frees.
  void submit(std::shared_ptr<chat::StoreRequest> request);
  void submit(chat::StoreRequest request);
  // Hands everything submitted since the last call to the store's thread.
  // Once per loop turn (Server::flush_pending): a turn's requests then cost
  // one lock and at most one wake-up, not one each. Requests nobody waits
  // for wait for company, or at most kLazyDelayMs (store_worker.cpp).
  void hand_over();
  // Requests submitted and not yet committed: how far behind the store is.
  std::size_t backlog() const { return backlog_.load(std::memory_order_relaxed); }
  // Set while the server holds everyone's input until the store catches up
  // (--store-backlog). Meanwhile the results handler is also called (with no
  // results) after every batch, so that the loop sees the backlog shrink,
  // and nothing submitted waits on the loop's side for company.
  void set_server_waiting(bool waiting) { server_waiting_.store(waiting, std::memory_order_relaxed); }
  // Runs everything submitted so far, commits it, ends the thread and closes
  // the wake-up. Results still on the way are dropped.
  void stop();

 private:
  void on_wake();
  static void on_lazy_timer(uv_timer_t* timer);
  void hand_over_now();
  void run();
  void wait_for_work(std::unique_lock<std::mutex>& lock);
  using Batch = std::vector<std::shared_ptr<chat::StoreRequest>>;
  std::vector<chat::StoreResult> run_batch(Batch& batch);
  void give_back(Batch& batch);
  void free_spent();
  void finish_holding();
  void execute(chat::StoreRequest& request, std::vector<chat::StoreResult>& results);
  void insert(chat::InsertMessage& insert, std::vector<chat::StoreResult>& results);
  void read_pages_first(Batch& batch);
  void fetch_queued(const chat::FetchQueued& fetch, std::vector<chat::StoreResult>& results);
  struct Replay;
  void add_delivered_meanwhile(Replay& replay, const chat::FetchQueued& fetch, store::QueuePage& page);
  void mark_delivered(chat::MarkDelivered& delivered);
  void write_queued();
  void write_delivered();
  void roll_back();
  void make_durable(std::vector<chat::StoreResult>& results);
  void make_durable_now();
  bool sync();

  Wakeup wakeup_;  // the store thread tells the loop its results are ready
  std::unique_ptr<store::Store> store_;  // used by the thread only
  ResultHandler on_results_;
  bool group_commit_;

  // The store thread's own: live DMs held until their delivery is known,
  // those that left the hold delivered (written as chunks when the batch
  // ends), and those that left it otherwise (written at once, queued).
  // Both point into the hold, or into the batch's requests, until the
  // batch is done (HeldDirects::reclaim).
  store::HeldDirects held_;
  // Replays under way, by the user's lower-case name. A replay promised
  // `queued-messages N`, the DMs undelivered up to up_to when it began; a
  // DM among those not sent yet that is marked delivered meanwhile (an
  // earlier connection of the user was still writing it) is still sent in
  // its place, so that N lines follow. Only ids past the pages read so far
  // (`paged`) are kept: a DM of a page given out is in it already, and the
  // session's own deliveries are of those.
  struct Replay {
    std::int64_t after = 0;  // the start of the last page read
    std::int64_t paged = 0;  // its end
    std::int64_t up_to = 0;
    std::set<std::int64_t> delivered;
  };
  // Looked up by the store's string_view, without a copy.
  struct KeyHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view key) const { return std::hash<std::string_view>{}(key); }
  };
  using Replays = std::unordered_map<std::string, Replay, KeyHash, std::equal_to<>>;
  Replays replays_;
  // The replay under way whose page `fetch` asks for (a first page starts
  // one); end() for a spill's page, or a replay no longer under way.
  Replays::iterator replay_of(const chat::FetchQueued& fetch);
  void read_page(const chat::FetchQueued& fetch, Replays::iterator replay, std::vector<chat::StoreResult>& results);
  Batch read_first_;  // the batch's pages read ahead of it (read_pages_first)
  std::vector<store::MessageRef> delivered_;
  std::vector<store::MessageRef> to_write_;
  using Clock = store::HeldDirects::Clock;
  Clock::time_point now_;
  // Durability (make_durable): the store's change count at the last sync,
  // the first commit since it, and whether a sync has ever failed.
  std::int64_t synced_changes_ = 0;
  std::optional<Clock::time_point> unsynced_since_;
  bool sync_broken_ = false;

  Batch submitted_;  // loop thread only
  bool urgent_ = false;  // loop thread only: submitted_ holds a request somebody waits for
  std::size_t lazy_items_ = 0;  // loop thread only: submitted since the last hand-over, folded ones too
  uv_timer_t lazy_timer_{};

  std::mutex mutex_;
  std::condition_variable wake_;
  Batch incoming_;                            // guarded by mutex_
  std::vector<chat::StoreResult> outgoing_;   // guarded by mutex_
  // Requests the store is done with, for the loop thread to free: they and
  // the lines they share were allocated there, and go back to its pools
  // (glibc, too, frees a block cheaply only on the thread that made it).
  Batch spent_;                               // guarded by mutex_
  Batch freeing_;                             // loop thread only: spent_, taken
  bool stopping_ = false;                     // guarded by mutex_
  std::atomic<std::size_t> backlog_{0};
  std::atomic<bool> server_waiting_{false};
  bool stopped_ = false;  // loop thread only
  std::thread thread_;
};

}  // namespace uvchat::net
