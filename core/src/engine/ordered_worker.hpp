// OrderedWorker: one thread that runs submitted tasks one at a time, in submission order.
//
// The engine hands each batch's sink write and commit to it, so that they overlap the stages of the next batches
// while the sink still sees one call at a time, in order.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <string>
#include <thread>

#include <pthread.h>

namespace conflux::engine {

class OrderedWorker {
 public:
  explicit OrderedWorker(std::string thread_name) : name_(std::move(thread_name)) {}
  ~OrderedWorker() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();  // runs what is queued first: every future handed out gets its value
  }
  OrderedWorker(const OrderedWorker&) = delete;
  OrderedWorker& operator=(const OrderedWorker&) = delete;

  template <typename Result>
  std::future<Result> submit(std::function<Result()> work) {
    auto task = std::make_shared<std::packaged_task<Result()>>(std::move(work));
    std::future<Result> result = task->get_future();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!thread_.joinable()) thread_ = std::thread([this] { loop(); });  // started on first use
      tasks_.push_back([task] { (*task)(); });
    }
    wake_.notify_one();
    return result;
  }

 private:
  void loop() {
    pthread_setname_np(pthread_self(), name_.substr(0, 15).c_str());  // shows in top -H, perf and gdb
    std::unique_lock<std::mutex> lock(mutex_);
    while (true) {
      wake_.wait(lock, [&] { return !tasks_.empty() || stopping_; });
      if (tasks_.empty()) return;
      std::function<void()> task = std::move(tasks_.front());
      tasks_.pop_front();
      lock.unlock();
      task();
      lock.lock();
    }
  }

  std::string name_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace conflux::engine
