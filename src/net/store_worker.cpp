#include "uvchat/net/store_worker.hpp"

#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <iterator>

#include "uvchat/log.hpp"

namespace uvchat::net {
namespace {

// What a batch that failed to commit reports: no ack, and no data read in
// a transaction that was rolled back.
void mark_failed(std::vector<chat::StoreResult>& results,
                 const std::vector<std::shared_ptr<chat::StoreRequest>>& batch) {
  results.clear();
  for (const auto& pointer : batch) {
    const chat::StoreRequest& request = *pointer;
    if (const auto* insert = std::get_if<chat::InsertMessage>(&request); insert && insert->ticket != 0) {
      results.emplace_back(chat::StoreAck{insert->ticket, false});
    } else if (const auto* password = std::get_if<chat::SetPasswordHash>(&request); password && password->ticket) {
      results.emplace_back(chat::StoreAck{password->ticket, false});
    } else if (const auto* queued = std::get_if<chat::FetchQueued>(&request)) {
      results.emplace_back(chat::QueuedFetched{*queued, false, {}});
    } else if (const auto* history = std::get_if<chat::FetchHistory>(&request)) {
      results.emplace_back(chat::HistoryFetched{*history, false, {}});
    }
  }
}

}  // namespace

// How long a live DM may wait in memory for its delivery before it is
// written queued. The server learns of deliveries within about a second
// (Server::sweep asks each connection's kernel once a second, and a busy
// connection every 128 DMs), so 2 s covers nearly every DM to a reader.
// It is also how long a crash can lose a live DM its recipient never got
// (docs/STORAGE.md).
constexpr std::chrono::milliseconds kHoldDirects{2000};
// The memory bound: held DMs span at most this many message ids (a slot
// is 32 bytes) and this many bytes of names and text. DMs of 64 bytes
// reach the first at about 1.7 MB; long ones reach the second.
constexpr std::size_t kHoldSpan = 16384;
constexpr std::size_t kHoldBytes = 4 * 1024 * 1024;
// How long a commit that promised nothing may stay off the disk: it is
// synced at the next commit that promises something, or by then
// (docs/STORAGE.md, "When a commit reaches the disk"). One fsync a second
// at most for all the history, instead of one a commit.
constexpr std::chrono::milliseconds kSyncWithin{1000};
// Requests nobody waits for (a live DM to hold, a room line, a delivery, a
// user's last_seen) do not wake the store's thread by themselves: they wait
// on the loop's side until one that somebody waits for comes (a queued DM,
// a page, a history), kLazyRequests of them gather, or kLazyDelay passes.
// At 20,000 DMs/s that is about 20 wake-ups of the store's thread a second
// instead of one per loop turn, each of which took the loop's core for a
// transaction in the middle of a burst. The cost: history reaches the
// store (and then the disk, kSyncWithin) up to kLazyDelay later.
constexpr std::uint64_t kLazyDelayMs = 50;
constexpr std::size_t kLazyRequests = 1024;

namespace {

bool someone_waits_for(const chat::StoreRequest& request) {
  if (const auto* insert = std::get_if<chat::InsertMessage>(&request)) return insert->ticket != 0;
  return !std::holds_alternative<chat::MarkDelivered>(request) && !std::holds_alternative<chat::TouchUser>(request);
}

}  // namespace

// The other half of sharing a core: the loop's thread asks the scheduler
// for the shortest time slice it grants, 100 µs (sched_attr.sched_runtime
// of a SCHED_OTHER thread, Linux 6.12's EEVDF). A waking task with a
// shorter slice than the running one preempts it, so a DM that arrives
// while another program holds the core need not wait for its slice to run
// out: 2.25 ms by default on a 4-core Pi. (The store's thread, SCHED_IDLE
// where it can be, gives way to the loop whatever the slices; where it
// falls back to nice 10, this was what kept a DM from waiting for a store
// slice.) On the development VM the default slice is already
// 100 µs, and the request still lowered p99 at 20,000 paced DMs/s: median
// 505 against 616 µs, lower in 9 of 11 alternated runs (docs/BENCHMARKS.md,
// issue 20). Older kernels ignore sched_runtime for this policy; the call
// keeps the thread's nice value. Not in glibc 2.36, hence the raw system
// call and the kernel's structure (version 0, 48 bytes). A hint: no test
// can tell it from the default on a machine whose default is 100 µs.
void ask_for_short_slice() {
  struct SchedAttr {
    std::uint32_t size;
    std::uint32_t sched_policy;
    std::uint64_t sched_flags;
    std::int32_t sched_nice;
    std::uint32_t sched_priority;
    std::uint64_t sched_runtime;
    std::uint64_t sched_deadline;
    std::uint64_t sched_period;
  };
  constexpr std::uint64_t kLoopSliceNs = 100'000;  // the shortest Linux takes
  const auto tid = static_cast<pid_t>(gettid());
  errno = 0;
  const int nice = getpriority(PRIO_PROCESS, static_cast<id_t>(tid));
  if (errno != 0) return;
  SchedAttr attr{};
  attr.size = sizeof attr;
  attr.sched_policy = SCHED_OTHER;
  attr.sched_nice = nice;
  attr.sched_runtime = kLoopSliceNs;
  syscall(SYS_sched_setattr, tid, &attr, 0U);  // best effort: a scheduling hint
}

StoreWorker::StoreWorker(uv_loop_t* loop, std::unique_ptr<store::Store> store, ResultHandler on_results,
                         bool group_commit)
    : wakeup_(loop, [this] { on_wake(); }),
      store_(std::move(store)),
      on_results_(std::move(on_results)),
      group_commit_(group_commit),
      held_(kHoldDirects, kHoldSpan, kHoldBytes) {
  uv_timer_init(loop, &lazy_timer_);
  lazy_timer_.data = this;
  uv_unref(reinterpret_cast<uv_handle_t*>(&lazy_timer_));  // never keeps the loop alive by itself
  thread_ = std::thread([this] { run(); });
}

StoreWorker::~StoreWorker() { stop(); }

void StoreWorker::submit(std::shared_ptr<chat::StoreRequest> request) {
  if (auto* touch = std::get_if<chat::TouchUser>(request.get()); touch != nullptr && !submitted_.empty()) {
    if (auto* last = std::get_if<chat::TouchUser>(submitted_.back().get())) {
      last->more.emplace_back(std::move(touch->name), touch->when);
      ++lazy_items_;
      return;
    }
  }
  if (!urgent_ && someone_waits_for(*request)) urgent_ = true;
  ++lazy_items_;
  submitted_.push_back(std::move(request));
  backlog_.fetch_add(1, std::memory_order_relaxed);
}

void StoreWorker::submit(chat::StoreRequest request) {
  submit(std::make_shared<chat::StoreRequest>(std::move(request)));
}

void StoreWorker::hand_over() {
  if (submitted_.empty()) return;
  // While the server holds input for the store (--store-backlog), what
  // waits here counts as behind too: it goes at once.
  if (!urgent_ && !server_waiting_.load(std::memory_order_relaxed) && lazy_items_ < kLazyRequests) {
    if (uv_is_active(reinterpret_cast<uv_handle_t*>(&lazy_timer_)) == 0) {
      uv_timer_start(&lazy_timer_, on_lazy_timer, kLazyDelayMs, 0);
    }
    return;
  }
  hand_over_now();
}

void StoreWorker::on_lazy_timer(uv_timer_t* timer) { static_cast<StoreWorker*>(timer->data)->hand_over_now(); }

void StoreWorker::hand_over_now() {
  uv_timer_stop(&lazy_timer_);
  urgent_ = false;
  lazy_items_ = 0;
  if (submitted_.empty()) return;
  {
    std::lock_guard lock(mutex_);
    if (incoming_.empty()) {
      incoming_.swap(submitted_);
    } else {
      std::move(submitted_.begin(), submitted_.end(), std::back_inserter(incoming_));
    }
    spent_.swap(freeing_);
  }
  submitted_.clear();
  wake_.notify_one();
  free_spent();
}

// Loop thread. Frees the requests the store is done with, where they were
// made, and keeps the vector's capacity for the next swap.
void StoreWorker::free_spent() {
  freeing_.clear();
}

void StoreWorker::stop() {
  if (stopped_) return;
  stopped_ = true;
  hand_over_now();
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
  wakeup_.close();
  uv_close(reinterpret_cast<uv_handle_t*>(&lazy_timer_), nullptr);
}

void StoreWorker::on_wake() {
  std::vector<chat::StoreResult> results;
  {
    std::lock_guard lock(mutex_);
    results.swap(outgoing_);
    spent_.swap(freeing_);
  }
  free_spent();
  if (!results.empty() || server_waiting_.load(std::memory_order_relaxed)) on_results_(results);
}

namespace {

// On a Pi (or a server pinned to one core) the store thread and the loop
// share a core. The loop answers people; the store only has to keep up,
// with --store-backlog as its bound. So the store takes the core only when
// the loop does not want it: SCHED_IDLE, which Linux sets per thread and
// which any user may ask for. Its share when something else wants the core
// is small (a weight of 3 against a normal thread's 1,024), not nothing: a
// store behind on a saturated core still moves, and past --store-backlog
// the loop stops taking lines until it has caught up.
// Measured at 20,000 paced DMs/s, server pinned to one core, alternated
// (docs/BENCHMARKS.md, issue 20): p99 133 to 163 µs, as low as a bare relay
// with no store at all, against 177 to 692 at nice 10 and 139 to 249 at
// nice 19. At nice 10 a store batch (the lazy hand-over's 1,024 requests)
// still took turns with the loop, and the DMs that came meanwhile waited.
// An earlier try of SCHED_IDLE (before the lazy hand-over) halved queued
// DMs acknowledged per second, the store then being preempted at every
// turn of the loop with a few requests each time; now a batch is gathered
// on the loop's side, and offline, dm and arrivals did not change.
// Where SCHED_IDLE is refused, nice 10.
void lower_own_priority() {
  sched_param idle{};
  if (sched_setscheduler(0, SCHED_IDLE, &idle) == 0) return;  // 0: this thread
  constexpr int kStoreNice = 10;
  setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), kStoreNice);
}

}  // namespace

// Group commit: everything that arrived while the last transaction was
// being written goes into the next one, so a burst of messages shares one
// fsync instead of paying one each.
void StoreWorker::run() {
  lower_own_priority();
  Batch batch;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wait_for_work(lock);
      if (incoming_.empty() && stopping_) break;
      if (group_commit_) {
        batch.swap(incoming_);
      } else {
        batch.push_back(std::move(incoming_.front()));
        incoming_.erase(incoming_.begin());
      }
    }
    read_pages_first(batch);
    std::vector<chat::StoreResult> results = run_batch(batch);
    make_durable(results);
    batch.insert(batch.end(), std::make_move_iterator(read_first_.begin()),
                 std::make_move_iterator(read_first_.end()));
    read_first_.clear();
    backlog_.fetch_sub(batch.size(), std::memory_order_relaxed);
    {
      std::lock_guard lock(mutex_);
      for (chat::StoreResult& result : results) outgoing_.push_back(std::move(result));
      give_back(batch);
    }
    // No wake-up just for the spent requests: the loop takes them at its
    // next hand_over, which locks anyway.
    if (results.empty() && !server_waiting_.load(std::memory_order_relaxed)) continue;
    wakeup_.wake();
  }
  finish_holding();
  make_durable_now();
}

// Under mutex_. Leaves `batch` empty, with spent_'s capacity when it had
// some, so that the vectors go round instead of being made anew.
void StoreWorker::give_back(Batch& batch) {
  if (spent_.empty()) {
    spent_.swap(batch);
  } else {
    std::move(batch.begin(), batch.end(), std::back_inserter(spent_));
    batch.clear();
  }
}

// Until there are requests, the oldest held DM is due to be written, or
// commits made without a sync are due to be synced.
void StoreWorker::wait_for_work(std::unique_lock<std::mutex>& lock) {
  const auto has_work = [this] { return !incoming_.empty() || stopping_; };
  std::optional<Clock::time_point> until = held_.next_expiry();
  if (unsynced_since_ && (!until || *unsynced_since_ + kSyncWithin < *until)) until = *unsynced_since_ + kSyncWithin;
  if (until) {
    wake_.wait_until(lock, *until, has_work);
  } else {
    wake_.wait(lock, has_work);
  }
}

// The next page of a replay under way is read ahead of the batch, outside
// its transaction, and answered at once: it writes nothing, so it need not
// wait for the batch's commit (an fsync, tens of milliseconds on an SD
// card), and a replay would otherwise go one page per commit. What the
// batch does cannot change the page: the replay's DMs are fixed, the held
// ones among them were written at its first page, and one marked
// delivered in the batch is in the page already (Replay). Anything else
// (a first page, a spill's page, which needs held DMs written) stays in
// order. Moves those it read to read_first_.
void StoreWorker::read_pages_first(Batch& batch) {
  // Only a replay under way has pages to read first; without one, a batch of
  // thousands of DMs is not walked twice.
  if (replays_.empty()) return;
  std::vector<chat::StoreResult> results;
  const auto read_now = [&](const std::shared_ptr<chat::StoreRequest>& request) {
    const auto* fetch = std::get_if<chat::FetchQueued>(request.get());
    if (fetch == nullptr || fetch->count_total) return false;
    const auto replay = replay_of(*fetch);
    if (replay == replays_.end()) return false;
    try {
      read_page(*fetch, replay, results);
    } catch (const store::StoreError& error) {
      log(LogLevel::kError, std::string("store: ") + error.what());
      results.emplace_back(chat::QueuedFetched{*fetch, false, {}});
    }
    read_first_.push_back(request);
    return true;
  };
  std::erase_if(batch, read_now);
  if (results.empty()) return;
  {
    std::lock_guard lock(mutex_);
    for (chat::StoreResult& result : results) outgoing_.push_back(std::move(result));
  }
  wakeup_.wake();
}

// A batch may be empty: the wait ended because held DMs are due.
std::vector<chat::StoreResult> StoreWorker::run_batch(Batch& batch) {
  std::vector<chat::StoreResult> results;
  now_ = store::HeldDirects::Clock::now();
  try {
    store_->begin();
    for (const auto& request : batch) execute(*request, results);
    held_.expire(now_, to_write_);
    write_queued();
    write_delivered();
    store_->commit();
  } catch (const store::StoreError& error) {
    roll_back();
    log(LogLevel::kError, std::string("store: ") + error.what() + "; a batch of " +
                              std::to_string(batch.size()) + " requests and " + std::to_string(delivered_.size()) +
                              " delivered DMs was not stored");
    delivered_.clear();
    to_write_.clear();
    mark_failed(results, batch);
  }
  held_.reclaim();
  return results;
}

// After each batch. Its acknowledgments (a queued DM, a password) go out
// only once everything it wrote is on disk: the WAL is synced now. Any
// other commit is only noted, and synced with the next acknowledged one or
// kSyncWithin after the first of them, whichever comes first: the loop's
// answers to people do not share their core with an fsync per commit.
void StoreWorker::make_durable(std::vector<chat::StoreResult>& results) {
  if (sync_broken_) return;  // nothing is promised any more (sync)
  const bool promised = std::any_of(results.begin(), results.end(), [](const chat::StoreResult& result) {
    const auto* ack = std::get_if<chat::StoreAck>(&result);
    return ack != nullptr && ack->committed;
  });
  if (store_->changes() != synced_changes_ && !unsynced_since_) unsynced_since_ = now_;
  if (!unsynced_since_) return;
  if (!promised && Clock::now() - *unsynced_since_ < kSyncWithin) return;
  if (sync()) return;
  // The commit happened, but it may never reach the disk: nobody is told
  // it is kept.
  for (chat::StoreResult& result : results) {
    if (auto* ack = std::get_if<chat::StoreAck>(&result)) ack->committed = false;
  }
}

// At the end, whatever is left: the close's checkpoint would sync it too,
// but not when the checkpoint cannot run (a reader holds the WAL).
void StoreWorker::make_durable_now() {
  if (store_->changes() == synced_changes_ || sync_broken_) return;
  sync();
}

// True once every commit so far is on disk. A failed sync is not tried
// again: after a failed fsync Linux may drop the pages it could not write
// and report the next fsync as a success, so no later sync can vouch for
// them (PostgreSQL's "fsyncgate", 2018). From then on the store refuses
// every request that would be acknowledged, until the server restarts.
bool StoreWorker::sync() {
  try {
    store_->sync();
    synced_changes_ = store_->changes();
    unsynced_since_.reset();
    return true;
  } catch (const store::StoreError& error) {
    sync_broken_ = true;
    unsynced_since_.reset();  // no timer for a sync never tried again
    log(LogLevel::kError, std::string("store: ") + error.what() +
                              "; from now on no message is acknowledged as queued and no password is set,"
                              " until the server is restarted (check the disk; the latest messages may be lost)");
    return false;
  }
}

// At the end: what is still held is written queued (its recipient never
// acknowledged it), and delivered again at its next registration.
void StoreWorker::finish_holding() {
  if (held_.size() == 0) return;
  Batch none;
  held_.release_all(to_write_);
  run_batch(none);
}

// A failed ROLLBACK leaves nothing more to undo here; it must not end the
// thread (an exception would end the process).
void StoreWorker::roll_back() {
  try {
    store_->rollback();
  } catch (const store::StoreError& error) {
    log(LogLevel::kError, std::string("store: ") + error.what());
  }
  // A page read in the batch is read again: what is marked meanwhile
  // counts from its start.
  for (auto& [key, replay] : replays_) replay.paged = replay.after;
}

}  // namespace uvchat::net
