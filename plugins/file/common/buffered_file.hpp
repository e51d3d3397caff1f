// An output file written through a memory buffer, fsynced on request.
// Shared by plugins/file/csv and plugins/file/jsonl (header-only, SDK-independent).
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>

namespace conflux::plugins::file_io {

class OutputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// An output file written through a memory buffer. append() buffers; the buffer goes to the kernel when it passes
// kFlushAt and on flush(); sync() adds fsync. Throws OutputError on I/O faults. Not thread-safe.
class BufferedFile {
 public:
  static constexpr size_t kFlushAt = size_t{1} << 20;

  // truncate: start empty (overwrite) or keep the content and append. The parent directory is fsynced once when the
  // file is created, so that the file itself survives a crash after the first sync().
  BufferedFile(const std::string& path, bool truncate, std::string error_prefix)
      : path_(path), prefix_(std::move(error_prefix)) {
    struct stat st {};
    bool existed = ::stat(path.c_str(), &st) == 0;
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | (truncate ? O_TRUNC : O_APPEND), 0644);
    if (fd_ < 0) fail("cannot open");
    if (::fstat(fd_, &st) != 0) {
      int saved = errno;
      ::close(fd_);
      errno = saved;
      fail("cannot stat");
    }
    initial_size_ = truncate ? 0 : static_cast<uint64_t>(st.st_size);
    if (!existed) sync_directory();
    buffer_.reserve(kFlushAt + (64 << 10));
  }
  ~BufferedFile() {
    try {
      flush();
    } catch (...) {
      // Best effort: a caller that cares calls flush()/sync() and sees the error.
    }
    if (fd_ >= 0) ::close(fd_);
  }
  BufferedFile(const BufferedFile&) = delete;
  BufferedFile& operator=(const BufferedFile&) = delete;

  // Bytes the file had when opened (0 after truncation).
  uint64_t initial_size() const { return initial_size_; }
  uint64_t bytes_written() const { return written_ + buffer_.size(); }

  void append(std::string_view text) {
    buffer_.append(text);
    if (buffer_.size() >= kFlushAt) flush();
  }

  void flush() {
    const char* p = buffer_.data();
    size_t left = buffer_.size();
    while (left > 0) {
      ssize_t n = ::write(fd_, p, left);
      if (n < 0) {
        if (errno == EINTR) continue;
        fail("cannot write");
      }
      p += n;
      left -= static_cast<size_t>(n);
    }
    written_ += buffer_.size();
    buffer_.clear();
  }

  void sync() {
    flush();
    // EINVAL: a pipe or device that cannot be synchronised (e.g. /dev/stdout); there is nothing more to make durable.
    if (::fsync(fd_) != 0 && errno != EINVAL) fail("cannot fsync");
  }

 private:
  void sync_directory() {
    size_t slash = path_.find_last_of('/');
    std::string directory = slash == std::string::npos ? "." : slash == 0 ? "/" : path_.substr(0, slash);
    int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
      ::fsync(fd);
      ::close(fd);
    }
  }
  [[noreturn]] void fail(const char* what) const {
    int saved = errno;
    throw OutputError(prefix_ + ": " + what + " '" + path_ + "': " + std::strerror(saved));
  }

  std::string path_;
  std::string prefix_;
  int fd_ = -1;
  uint64_t initial_size_ = 0;
  uint64_t written_ = 0;
  std::string buffer_;
};

}  // namespace conflux::plugins::file_io
