// Runs plugin calls on a dedicated thread so the host can give up on one that never returns.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "conflux/common/status.hpp"

namespace conflux::plugin_host {

class CallThread {
 public:
  CallThread();
  ~CallThread();
  CallThread(const CallThread&) = delete;
  CallThread& operator=(const CallThread&) = delete;

  // Runs `task` on the call thread and waits at most `timeout_seconds`. On timeout returns kDeadlineExceeded and the
  // thread is abandoned: every later run() fails at once, and the thread is detached, never joined.
  Status run(const std::function<void()>& task, double timeout_seconds, const std::string& what);
  bool abandoned() const;

 private:
  struct Shared {
    std::mutex mutex;
    std::condition_variable cv;
    std::function<void()> task;
    bool has_task = false;
    bool done = false;
    bool stop = false;
    bool abandoned = false;
  };
  std::shared_ptr<Shared> shared_;
  std::thread thread_;
};

}  // namespace conflux::plugin_host
