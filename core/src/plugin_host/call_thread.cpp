#include "call_thread.hpp"

#include <pthread.h>

#include <atomic>
#include <chrono>

namespace conflux::plugin_host {

namespace {
std::atomic<bool> g_any_abandoned{false};
}

bool any_plugin_abandoned() { return g_any_abandoned.load(); }

CallThread::CallThread() : shared_(std::make_shared<Shared>()) {
  // The thread owns a reference to the shared state, so an abandoned thread never touches freed memory.
  thread_ = std::thread([shared = shared_] {
    pthread_setname_np(pthread_self(), "cfx-plugin");  // shows in top -H, perf and gdb
    std::unique_lock<std::mutex> lock(shared->mutex);
    while (true) {
      shared->cv.wait(lock, [&] { return shared->has_task || shared->stop; });
      if (shared->stop && !shared->has_task) return;
      std::function<void()> task = std::move(shared->task);
      shared->has_task = false;
      lock.unlock();
      task();
      lock.lock();
      shared->done = true;
      shared->cv.notify_all();
    }
  });
}

CallThread::~CallThread() {
  bool abandoned;
  {
    std::lock_guard<std::mutex> lock(shared_->mutex);
    abandoned = shared_->abandoned;
    shared_->stop = true;
  }
  shared_->cv.notify_all();
  if (abandoned) {
    thread_.detach();
  } else if (thread_.joinable()) {
    thread_.join();
  }
}

bool CallThread::abandoned() const {
  std::lock_guard<std::mutex> lock(shared_->mutex);
  return shared_->abandoned;
}

Status CallThread::run(const std::function<void()>& task, double timeout_seconds, const std::string& what) {
  std::unique_lock<std::mutex> lock(shared_->mutex);
  if (shared_->abandoned) return deadline_exceeded(what + ": an earlier call to this plugin never returned");
  shared_->task = task;
  shared_->has_task = true;
  shared_->done = false;
  shared_->cv.notify_all();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_seconds);
  if (!shared_->cv.wait_until(lock, deadline, [&] { return shared_->done; })) {
    shared_->abandoned = true;
    g_any_abandoned = true;
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, "%g", timeout_seconds);
    return deadline_exceeded(what + " did not return within " + seconds +
                             " s (settings.call_timeout_seconds); the plugin is hung");
  }
  return Status::ok();
}

}  // namespace conflux::plugin_host
