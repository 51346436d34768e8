#pragma once
// Batches for steps [first, end) built ahead on a small pool of worker threads and handed out in
// step order. Each worker builds whole batches (make(step) must be safe to call concurrently for
// different steps and be a pure function of the step), at most `depth` steps ahead of the
// consumer. An exception thrown while building step s is rethrown by the next() that asks for s.
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

namespace sakuga::harness {

template <class Batch>
class OrderedPrefetch {
 public:
  OrderedPrefetch(std::function<Batch(int64_t)> make, int64_t first, int64_t end, int workers, int depth)
      : make_(std::move(make)), next_to_build_(first), next_to_take_(first), end_(end),
        depth_(std::max(depth, workers)) {
    for (int i = 0; i < std::max(1, workers); ++i) threads_.emplace_back([this] { work(); });
  }
  ~OrderedPrefetch() {
    {
      std::lock_guard<std::mutex> l(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }
  OrderedPrefetch(const OrderedPrefetch&) = delete;
  OrderedPrefetch& operator=(const OrderedPrefetch&) = delete;

  // The batch of the next step in order (blocks until it is built).
  Batch next() {
    std::unique_lock<std::mutex> l(mu_);
    const int64_t step = next_to_take_;
    cv_.wait(l, [&] { return ready_.count(step) || errors_.count(step); });
    if (auto e = errors_.find(step); e != errors_.end()) std::rethrow_exception(e->second);
    Batch b = std::move(ready_.at(step));
    ready_.erase(step);
    ++next_to_take_;
    cv_.notify_all();
    return b;
  }

 private:
  void work() {
    for (;;) {
      int64_t step;
      {
        std::unique_lock<std::mutex> l(mu_);
        cv_.wait(l, [&] { return stop_ || next_to_build_ >= end_ || next_to_build_ < next_to_take_ + depth_; });
        if (stop_ || next_to_build_ >= end_) return;
        step = next_to_build_++;
      }
      try {
        Batch b = make_(step);
        std::lock_guard<std::mutex> l(mu_);
        ready_.emplace(step, std::move(b));
      } catch (...) {
        std::lock_guard<std::mutex> l(mu_);
        errors_.emplace(step, std::current_exception());
      }
      cv_.notify_all();
    }
  }

  std::function<Batch(int64_t)> make_;
  int64_t next_to_build_, next_to_take_, end_, depth_;
  std::map<int64_t, Batch> ready_;
  std::map<int64_t, std::exception_ptr> errors_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace sakuga::harness
