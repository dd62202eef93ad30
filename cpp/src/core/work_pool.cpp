// The work pool; see work_pool.h.
#include "evoae/core/work_pool.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <string>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define EVOAE_PAUSE() _mm_pause()
#else
#define EVOAE_PAUSE() std::this_thread::yield()
#endif

namespace evoae {
namespace {

using Clock = std::chrono::steady_clock;

// Spins (reading the clock every 64 pauses) until ready() or `microseconds` have passed.
template <class Ready>
bool spin_until(Ready&& ready, int microseconds) {
  const auto deadline = Clock::now() + std::chrono::microseconds(microseconds);
  for (;;) {
    for (int i = 0; i < 64; ++i) {
      if (ready()) return true;
      EVOAE_PAUSE();
    }
    if (Clock::now() >= deadline) return ready();
  }
}

}  // namespace

WorkPool::WorkPool(int threads) : threads_(threads > 0 ? threads : 1) {}

WorkPool::~WorkPool() {
  if (!team_ || team_pid_ != static_cast<long>(getpid())) {
    team_.release();  // a forked child: the parent's threads are not ours to join
    return;
  }
  {
    std::lock_guard<std::mutex> lock(team_->mutex);
    team_->stop = true;
  }
  team_->wake.notify_all();
  for (std::thread& t : team_->helpers) t.join();
}

void WorkPool::start_team() {
  if (team_) team_.release();  // inherited through fork(): its threads do not exist here
  team_ = std::make_unique<Team>();
  team_pid_ = static_cast<long>(getpid());
  // Before run() opens its loop: a helper that starts late still takes part in it.
  const std::uint32_t epoch = static_cast<std::uint32_t>(ticket_.load() >> 32);
  for (int worker = 1; worker < threads_; ++worker)
    team_->helpers.emplace_back(&WorkPool::helper, this, worker, epoch);
}

void WorkPool::run_erased(long items, void* context, void (*call)(void*, long, int)) {
  if (items <= 0) return;
  error_ = nullptr;
  error_item_ = items;
  if (threads_ == 1 || items == 1 || solo_loops_left_ > 0) {
    if (solo_loops_left_ > 0) --solo_loops_left_;
    for (long item = 0; item < items; ++item) run_item(Loop{context, call}, item, 0);
    if (error_) std::rethrow_exception(error_);
    return;
  }
  if (items >= static_cast<long>(kClosed))
    throw std::length_error("WorkPool: at most " + std::to_string(kClosed - 1) + " items a loop");
  const Loop body{context, call};
  if (!team_ || team_pid_ != static_cast<long>(getpid())) start_team();
  // Close the ticket before changing items_ and body_: a helper that read the old ticket can
  // then no longer claim with it (its compare-exchange fails), whatever it read since.
  const std::uint32_t epoch = static_cast<std::uint32_t>(ticket_.load() >> 32) + 1;
  ticket_.store(static_cast<std::uint64_t>(epoch) << 32 | kClosed);
  // Release: a helper that reads the new items_ or body_ also sees the ticket closed.
  items_.store(items, std::memory_order_release);
  body_.store(&body, std::memory_order_release);
  done_.store(0, std::memory_order_relaxed);
  ticket_.store(static_cast<std::uint64_t>(epoch) << 32);  // release: the above are visible
  {
    // Taking the lock orders this loop's start before any helper's check-then-sleep.
    std::lock_guard<std::mutex> lock(team_->mutex);
  }
  team_->wake.notify_all();
  const auto started = Clock::now();
  const long own_items = work(epoch, 0);
  const auto worked = Clock::now();
  const auto all_done = [&] { return done_.load(std::memory_order_acquire) == items; };
  if (!spin_until(all_done, kCallerSpinMicroseconds))
    while (!all_done()) std::this_thread::yield();  // a helper holding an item lost its core
  // Waiting for up to one item is the loop's own imbalance (3 items on 2 threads); only the
  // wait beyond it counts as a stall.
  const double worked_s = std::chrono::duration<double>(worked - started).count();
  const double waited_s = std::chrono::duration<double>(Clock::now() - worked).count();
  const double item_s = own_items > 0 ? worked_s / own_items : waited_s;
  const double stalled = std::max(0.0, waited_s - item_s) / (worked_s + waited_s + 1e-9);
  stall_share_ += kStallWeight * (stalled - stall_share_);
  if (stall_share_ > kStallShare) {
    solo_loops_left_ = kSoloLoops;
    stall_share_ = 0.0;
  }
  if (error_) std::rethrow_exception(error_);
}

long WorkPool::work(std::uint32_t epoch, int worker) {
  long ran = 0;
  std::uint64_t ticket = ticket_.load(std::memory_order_acquire);
  for (;;) {
    if (static_cast<std::uint32_t>(ticket >> 32) != epoch) return ran;
    const std::uint32_t next = static_cast<std::uint32_t>(ticket);
    if (next == kClosed || next >= static_cast<std::uint64_t>(items_.load())) return ran;
    // Succeeds only while the ticket is still this loop's, so items_ and body_ were its own.
    if (!ticket_.compare_exchange_weak(ticket, ticket + 1, std::memory_order_acq_rel)) continue;
    run_item(*body_.load(), static_cast<long>(next), worker);
    ++ran;
    done_.fetch_add(1, std::memory_order_release);
    ticket = ticket_.load(std::memory_order_acquire);
  }
}

void WorkPool::run_item(const Loop& body, long item, int worker) {
  try {
    body.call(body.context, item, worker);
  } catch (...) {  // for run() to rethrow once every item ran: the lowest item's, any timing
    std::lock_guard<std::mutex> lock(error_mutex_);
    if (item < error_item_) error_ = std::current_exception(), error_item_ = item;
  }
}

void WorkPool::helper(int worker, std::uint32_t seen) {
  Team& team = *team_;
  const auto new_loop = [&] {
    const std::uint64_t t = ticket_.load(std::memory_order_acquire);
    return static_cast<std::uint32_t>(t >> 32) != seen && static_cast<std::uint32_t>(t) != kClosed;
  };
  for (;;) {
    if (!spin_until(new_loop, kHelperSpinMicroseconds)) {
      std::unique_lock<std::mutex> lock(team.mutex);
      team.wake.wait(lock, [&] { return team.stop || new_loop(); });
      if (team.stop) return;
    }
    const std::uint64_t t = ticket_.load(std::memory_order_acquire);
    if (static_cast<std::uint32_t>(t) == kClosed) continue;  // the next loop is being set up
    seen = static_cast<std::uint32_t>(t >> 32);
    work(seen, worker);
  }
}

}  // namespace evoae
