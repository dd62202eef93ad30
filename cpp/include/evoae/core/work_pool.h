// A persistent team of threads for short parallel loops called thousands of times a second: a
// generation of the original loop (population 20) is about 0.5 ms of work on two cores.
//
// Why not an OpenMP parallel for: its region ends only when every thread of the team has
// arrived, so a thread that the OS has descheduled (another process on a 2-core machine) stalls
// the loop even when it took no work; and a team that sleeps between regions pays a wake-up per
// region, one that spins holds cores it does not use. Here the calling thread starts on the items
// at once, helpers claim items as they wake, and run() returns when every item is done, not when
// every helper has looked. Between loops a helper spins for a short while (the gap between two
// generations is tens of microseconds), then sleeps.
//
// Results never depend on which thread runs an item: body(item, worker) gets the worker's
// index only to pick its own scratch memory.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

namespace evoae {

class WorkPool {
 public:
  // threads >= 1: the caller plus threads - 1 helpers, started on the first run().
  explicit WorkPool(int threads);
  ~WorkPool();
  WorkPool(const WorkPool&) = delete;
  WorkPool& operator=(const WorkPool&) = delete;

  int threads() const { return threads_; }

  // Calls body(item, worker) once for each item in [0, items), worker in [0, threads()) (0 is the
  // calling thread; no two calls at once share a worker index). Returns when all are done; if
  // items threw, every item still ran and the lowest item's exception is rethrown here. Not
  // re-entrant: one run() at a time per pool.
  template <class F>
  void run(long items, F&& body) {
    using Callable = std::remove_reference_t<F>;
    run_erased(items, const_cast<void*>(static_cast<const void*>(&body)),
               [](void* b, long item, int worker) { (*static_cast<Callable*>(b))(item, worker); });
  }

  // How long an idle helper spins for the next loop before it sleeps, and how long run() spins
  // for the last items before it yields its core (microseconds).
  static constexpr int kHelperSpinMicroseconds = 100;
  static constexpr int kCallerSpinMicroseconds = 20;

  // Under load (another busy process on a small machine) a helper can lose its core in the
  // middle of an item, and the loop waits for it for a time slice of the OS, milliseconds: two
  // threads then run slower than one. So the caller tracks the share of each loop it spent
  // waiting for the last items (an average over recent loops, weight kStallWeight each); above
  // kStallShare it runs the next kSoloLoops loops alone, then tries the helpers again. Waiting
  // for up to one item (the caller's average) is the loop's own imbalance and does not count,
  // so a quiet machine stays below it; a loop of few, very unequal items may not, which costs
  // speed only.
  static constexpr double kStallShare = 0.25;
  static constexpr double kStallWeight = 0.1;
  static constexpr int kSoloLoops = 200;

 private:
  // The helpers and what they wait on. A process forked from this one has none of the threads,
  // so a pool used in a child starts a team of its own (the parent's is left as it was).
  struct Team {
    std::mutex mutex;
    std::condition_variable wake;
    std::vector<std::thread> helpers;
    bool stop = false;
  };

  // The loop's ticket: (epoch << 32) | next unclaimed item. kClosed as the item part while a new
  // loop's items and body are being written.
  static constexpr std::uint32_t kClosed = 0xffffffffu;

  // The loop's body without a std::function (no allocation per loop).
  struct Loop {
    void* context;
    void (*call)(void* context, long item, int worker);
  };
  void run_erased(long items, void* context, void (*call)(void*, long, int));
  void start_team();
  void helper(int worker, std::uint32_t seen_epoch);
  // Claims and runs items of `epoch` until none are left or a later loop began; returns how
  // many it ran.
  long work(std::uint32_t epoch, int worker);
  // Runs one item; an exception is kept (the lowest item's) for run() to rethrow.
  void run_item(const Loop& body, long item, int worker);

  int threads_;
  double stall_share_ = 0.0;  // recent loops' share of time waiting for helpers
  int solo_loops_left_ = 0;
  std::unique_ptr<Team> team_;
  long team_pid_ = 0;
  std::atomic<std::uint64_t> ticket_{0};
  std::atomic<long> items_{0};
  std::atomic<const Loop*> body_{nullptr};
  std::atomic<long> done_{0};
  std::mutex error_mutex_;
  std::exception_ptr error_;  // the exception of the lowest item that threw in this loop
  long error_item_ = 0;
};

}  // namespace evoae
