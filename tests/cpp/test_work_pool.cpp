// WorkPool: every item of every loop runs exactly once, worker indices are in range and never
// in use twice at once, a slow helper or a caller that finishes first does not lose items, a
// pool keeps working in a forked child, and a pool with idle (spinning or sleeping) helpers is
// destroyed without hanging.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "check.h"
#include "evoae/core/work_pool.h"

using evoae::WorkPool;

namespace {

// Runs `loops` loops of varying sizes; checks each item ran once and workers did not overlap.
bool every_item_once(WorkPool& pool, int loops) {
  std::atomic<bool> ok{true};
  std::vector<std::atomic<int>> in_use(pool.threads());
  for (int loop = 0; loop < loops; ++loop) {
    const long items = 1 + (loop * 7919) % 97;
    std::vector<std::atomic<int>> runs(items);
    pool.run(items, [&](long item, int worker) {
      if (worker < 0 || worker >= pool.threads() || in_use[worker].exchange(1) != 0) ok = false;
      runs[item].fetch_add(1);
      in_use[worker].store(0);
    });
    for (auto& r : runs)
      if (r.load() != 1) ok = false;
  }
  return ok.load();
}

}  // namespace

TEST(every_item_runs_once_at_any_thread_count) {
  for (int threads : {1, 2, 3, 5}) {
    WorkPool pool(threads);
    CHECK(pool.threads() == threads);
    CHECK(every_item_once(pool, 2000));
  }
  WorkPool defaulted(0);
  CHECK(defaulted.threads() == 1);
}

TEST(helpers_join_after_sleeping) {
  WorkPool pool(3);
  CHECK(every_item_once(pool, 10));
  // Longer than the helpers' spin: they sleep, and a new loop must wake them.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  std::atomic<int> helpers_used{0};
  for (int loop = 0; loop < 50 && helpers_used.load() == 0; ++loop) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    pool.run(64, [&](long, int worker) {
      if (worker != 0) helpers_used.fetch_add(1);
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    });
  }
  CHECK(helpers_used.load() > 0);
}

TEST(a_slow_item_is_waited_for) {
  WorkPool pool(2);
  std::atomic<long> sum{0};
  for (int loop = 0; loop < 20; ++loop)
    pool.run(8, [&](long item, int) {
      if (item == 7) std::this_thread::sleep_for(std::chrono::milliseconds(3));
      sum.fetch_add(item + 1);
    });
  CHECK(sum.load() == 20 * 36);
}

TEST(a_forked_child_gets_its_own_team) {
  WorkPool pool(2);
  CHECK(every_item_once(pool, 100));
  const pid_t child = fork();
  if (child == 0) _exit(every_item_once(pool, 200) ? 0 : 1);
  int status = 0;
  CHECK(waitpid(child, &status, 0) == child);
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  CHECK(every_item_once(pool, 100));  // the parent's team is untouched
}

TEST(destroyed_while_helpers_are_idle) {
  for (int i = 0; i < 20; ++i) {
    WorkPool pool(3);
    CHECK(every_item_once(pool, 5));
    if (i % 2) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  WorkPool never_run(4);  // helpers start on the first run(): nothing to join
}

TEST(a_helper_that_keeps_stalling_is_left_out_for_a_while) {
  WorkPool pool(2);
  // Items a helper takes stall for 2 ms (as if it lost its core); the caller's take 0.1 ms.
  std::vector<int> helper_items;
  for (int loop = 0; loop < 60; ++loop) {
    std::atomic<int> by_helper{0};
    pool.run(16, [&](long, int worker) {
      if (worker == 0) {
        std::this_thread::sleep_for(std::chrono::microseconds(100));
        return;
      }
      by_helper.fetch_add(1);
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    });
    helper_items.push_back(by_helper.load());
  }
  // Helpers took part at first, then the caller ran the loops alone.
  CHECK(std::count_if(helper_items.begin(), helper_items.begin() + 10, [](int n) { return n > 0; }) > 0);
  CHECK(std::all_of(helper_items.end() - 20, helper_items.end(), [](int n) { return n == 0; }));
  CHECK(every_item_once(pool, 300));  // and comes back to them, every item still once
}

TEST(an_item_that_throws_reaches_the_caller_after_every_item_ran) {
  for (int threads : {1, 3}) {
    WorkPool pool(threads);
    for (int loop = 0; loop < 50; ++loop) {
      std::vector<std::atomic<int>> runs(40);
      std::string thrown;
      try {
        pool.run(40, [&](long item, int) {
          runs[item].fetch_add(1);
          if (item % 13 == 5) throw std::runtime_error("item " + std::to_string(item));
        });
      } catch (const std::runtime_error& e) {
        thrown = e.what();
      }
      CHECK(thrown == "item 5");  // the lowest item's, whichever thread threw first
      for (auto& r : runs) CHECK(r.load() == 1);
    }
    CHECK(every_item_once(pool, 100));  // usable afterwards
  }
}
