// The store worker's side of a paged replay (issue 16): the DMs a replay
// promised with queued-messages N are read page by page, and one that an
// earlier connection of the user marks delivered in the meantime is read
// all the same, so that N lines follow.
#include <uv.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <thread>
#include <variant>
#include <vector>

#include "uvchat/chat/effects.hpp"
#include "uvchat/net/store_worker.hpp"
#include "uvchat/store/store.hpp"

namespace uvchat::test {
namespace {

using chat::MessageId;

// A StoreWorker on its own loop and an in-memory database; `run` hands it
// requests and turns the loop until their answers are back (at most 5 s).
class WorkerRig {
 public:
  WorkerRig() {
    uv_loop_init(&loop_);
    worker_ = std::make_unique<net::StoreWorker>(
        &loop_, store::Store::open(":memory:"),
        [this](std::vector<chat::StoreResult>& results) {
          for (chat::StoreResult& result : results) results_.push_back(std::move(result));
        },
        /*group_commit=*/true);
  }
  WorkerRig(const WorkerRig&) = delete;
  WorkerRig& operator=(const WorkerRig&) = delete;
  ~WorkerRig() {
    worker_->stop();
    uv_run(&loop_, UV_RUN_DEFAULT);
    uv_loop_close(&loop_);
  }

  std::vector<chat::StoreResult> run(std::vector<chat::StoreRequest> requests, std::size_t answers) {
    for (chat::StoreRequest& request : requests) worker_->submit(std::move(request));
    worker_->hand_over();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (results_.size() < answers && std::chrono::steady_clock::now() < deadline) {
      uv_run(&loop_, UV_RUN_NOWAIT);
      if (results_.size() < answers) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    REQUIRE(results_.size() == answers);
    return std::exchange(results_, {});
  }

  // DMs 1..count from alice to bob, queued (each acknowledged once stored).
  void queue_for_bob(MessageId count) {
    std::vector<chat::StoreRequest> inserts;
    for (MessageId id = 1; id <= count; ++id) {
      chat::InsertMessage insert;
      insert.message = {id, chat::TimePoint(std::chrono::seconds(1700000000)), "alice", chat::MessageKind::kDirect,
                        "bob", "dm " + std::to_string(id)};
      insert.ticket = static_cast<std::uint64_t>(id);
      inserts.emplace_back(std::move(insert));
    }
    run(std::move(inserts), static_cast<std::size_t>(count));
  }

  chat::QueuedFetched page(MessageId after, MessageId up_to, bool first, std::size_t count = 2) {
    chat::FetchQueued fetch;
    fetch.session = 1;
    fetch.user = "BOB";
    fetch.ticket = 100;
    fetch.after = after;
    fetch.up_to = up_to;
    fetch.max_count = count;
    fetch.count_total = first;
    auto results = run({fetch}, 1);
    REQUIRE(std::holds_alternative<chat::QueuedFetched>(results.front()));
    auto fetched = std::get<chat::QueuedFetched>(std::move(results.front()));
    REQUIRE(fetched.ok);
    return fetched;
  }

  // Done once it returns: a history read after it in the same batch is
  // answered only once the batch is.
  void mark_delivered(std::vector<MessageId> ids) {
    chat::MarkDelivered delivered{std::move(ids), chat::TimePoint(std::chrono::seconds(1700000100))};
    chat::FetchHistory history;
    history.of_room = true;
    history.target = "nowhere";
    history.limit = 1;
    run({delivered, history}, 1);
  }

  net::StoreWorker& worker() { return *worker_; }

  // Hands `requests` over as the server does once a loop turn, and turns
  // the loop until the store has taken them all (at most `bound`): true if
  // it did.
  bool settle(std::vector<chat::StoreRequest> requests, std::chrono::milliseconds bound) {
    for (chat::StoreRequest& request : requests) worker_->submit(std::move(request));
    worker_->hand_over();
    const auto deadline = std::chrono::steady_clock::now() + bound;
    while (worker_->backlog() > 0 && std::chrono::steady_clock::now() < deadline) {
      uv_run(&loop_, UV_RUN_NOWAIT);
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return worker_->backlog() == 0;
  }

 private:
  uv_loop_t loop_{};
  std::unique_ptr<net::StoreWorker> worker_;
  std::vector<chat::StoreResult> results_;
};

std::vector<MessageId> ids_of(const chat::QueuedFetched& fetched) {
  std::vector<MessageId> ids;
  for (const chat::MessageRecord& message : fetched.messages) ids.push_back(message.id);
  return ids;
}

TEST_CASE("Store worker: a replay reads its queue page by page, counted first", "[store][replay]") {
  WorkerRig rig;
  rig.queue_for_bob(5);
  const auto first = rig.page(0, 5, true);
  CHECK(first.total == 5);
  CHECK(ids_of(first) == std::vector<MessageId>{1, 2});
  CHECK(first.more);
  CHECK(ids_of(rig.page(2, 5, false)) == std::vector<MessageId>{3, 4});
  const auto last = rig.page(4, 5, false);
  CHECK(ids_of(last) == std::vector<MessageId>{5});
  CHECK_FALSE(last.more);
}

TEST_CASE("Store worker: a DM a replay promised and another connection delivers meanwhile is still read",
          "[store][replay]") {
  WorkerRig rig;
  rig.queue_for_bob(6);
  const auto first = rig.page(0, 6, true);
  CHECK(first.total == 6);
  CHECK(ids_of(first) == std::vector<MessageId>{1, 2});
  // The earlier connection was still writing 3 and 6; the replay's own 1 is
  // delivered too.
  rig.mark_delivered({1, 3, 6});
  // The pages bring 3 to 6, each once, in order: 3 and 6 though they are
  // marked delivered now.
  std::vector<MessageId> rest;
  MessageId after = 2;
  for (int pages = 0; pages < 4; ++pages) {
    const auto next = rig.page(after, 6, false);
    const auto ids = ids_of(next);
    rest.insert(rest.end(), ids.begin(), ids.end());
    if (!next.more) break;
    after = ids.back();
  }
  CHECK(rest == std::vector<MessageId>{3, 4, 5, 6});
  // That replay is over: the next one counts only what is undelivered.
  const auto next = rig.page(0, 6, true, 10);
  CHECK(next.total == 3);
  CHECK(ids_of(next) == std::vector<MessageId>{2, 4, 5});
}

// Requests nobody waits for are not handed over at once (store_worker.cpp,
// kLazyDelayMs), but they must get there by themselves, with no other
// request to take them along: history that never reaches the store would
// never reach the disk either.
TEST_CASE("Store worker: requests nobody waits for reach the store by themselves", "[store][durability]") {
  WorkerRig rig;
  CHECK(rig.settle({chat::TouchUser{"carol", chat::TimePoint(std::chrono::seconds(1700000000)), {}}},
                   std::chrono::seconds(2)));
}

// A crowd registering: each TouchUser waiting to be handed over would be a
// whole request (the size of the largest, a DM with its inline text); a run
// of them is folded into one, each name kept, in order.
TEST_CASE("Store worker: a run of TouchUser waits as one request", "[store][arrivals]") {
  WorkerRig rig;
  const chat::TimePoint when(std::chrono::seconds(1700000000));
  for (const char* name : {"ann", "ben", "cy"}) rig.worker().submit(chat::TouchUser{name, when, {}});
  CHECK(rig.worker().backlog() == 1);
  CHECK(rig.settle({}, std::chrono::seconds(2)));
}

// One somebody waits for takes those before it along, in order: a DM
// queued for a user the store learnt of in the same hand-over is counted.
TEST_CASE("Store worker: a request somebody waits for takes the lazy ones before it along", "[store][durability]") {
  WorkerRig rig;
  rig.queue_for_bob(1);
  chat::MarkDelivered delivered{{1}, chat::TimePoint(std::chrono::seconds(1700000100))};
  chat::FetchQueued count;
  count.session = 1;
  count.user = "bob";
  count.ticket = 7;
  count.up_to = 1;
  count.count_total = true;
  const auto results = rig.run({delivered, count}, 1);
  REQUIRE(std::holds_alternative<chat::QueuedFetched>(results.front()));
  CHECK(std::get<chat::QueuedFetched>(results.front()).total == 0);  // the delivery came first
}

}  // namespace
}  // namespace uvchat::test
