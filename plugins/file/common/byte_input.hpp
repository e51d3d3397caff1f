// Byte sources the file connectors' readers pull chunks from: a file (the plugin) or a string (unit tests).
// Shared by plugins/file/csv and plugins/file/jsonl (header-only, SDK-independent).
//
// Contract: read() fills at most `capacity` bytes and returns how many it wrote, 0 only at the end of the input;
// seek() moves to an absolute byte offset. Both throw InputError on an I/O fault. Not thread-safe.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>

namespace conflux::plugins::file_io {

// An I/O fault. `missing()` tells the caller that the file is not there or not readable (a config problem), as
// opposed to a read error in the middle of the file.
class InputError : public std::runtime_error {
 public:
  InputError(const std::string& message, int error_number)
      : std::runtime_error(message), error_number_(error_number) {}
  int error_number() const noexcept { return error_number_; }
  bool missing() const noexcept {
    return error_number_ == ENOENT || error_number_ == EACCES || error_number_ == ENOTDIR || error_number_ == EISDIR;
  }

 private:
  int error_number_;
};

class ByteInput {
 public:
  virtual ~ByteInput() = default;
  virtual size_t read(char* destination, size_t capacity) = 0;
  virtual void seek(uint64_t offset) = 0;
  // Total size in bytes, for progress and cursor checks.
  virtual uint64_t size() const = 0;
};

// A regular file read with plain read(2) calls: the kernel's read-ahead does the rest (we also hint SEQUENTIAL).
class FileInput final : public ByteInput {
 public:
  // Throws InputError("<prefix>: cannot open '<path>': <strerror>").
  FileInput(const std::string& path, std::string_view error_prefix) : path_(path), prefix_(error_prefix) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) fail("cannot open");
    struct stat st {};
    if (::fstat(fd_, &st) != 0) {
      int saved = errno;
      ::close(fd_);
      errno = saved;
      fail("cannot stat");
    }
    if (S_ISDIR(st.st_mode)) {
      ::close(fd_);
      errno = EISDIR;
      fail("cannot open");
    }
    size_ = static_cast<uint64_t>(st.st_size);
#ifdef POSIX_FADV_SEQUENTIAL
    ::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
  }
  ~FileInput() override {
    if (fd_ >= 0) ::close(fd_);
  }
  FileInput(const FileInput&) = delete;
  FileInput& operator=(const FileInput&) = delete;

  size_t read(char* destination, size_t capacity) override {
    for (;;) {
      ssize_t n = ::read(fd_, destination, capacity);
      if (n >= 0) return static_cast<size_t>(n);
      if (errno != EINTR) fail("cannot read");
    }
  }
  void seek(uint64_t offset) override {
    if (::lseek(fd_, static_cast<off_t>(offset), SEEK_SET) < 0) fail("cannot seek in");
  }
  uint64_t size() const override { return size_; }

 private:
  [[noreturn]] void fail(const char* what) const {
    int saved = errno;
    throw InputError(prefix_ + ": " + what + " '" + path_ + "': " + std::strerror(saved), saved);
  }

  std::string path_;
  std::string prefix_;
  int fd_ = -1;
  uint64_t size_ = 0;
};

// Serves a string, optionally in small pieces so that tests exercise every chunk boundary.
class MemoryInput final : public ByteInput {
 public:
  explicit MemoryInput(std::string data, size_t max_read = SIZE_MAX) : data_(std::move(data)), max_read_(max_read) {}
  size_t read(char* destination, size_t capacity) override {
    size_t n = std::min({capacity, max_read_, data_.size() - offset_});
    std::memcpy(destination, data_.data() + offset_, n);
    offset_ += n;
    return n;
  }
  void seek(uint64_t offset) override { offset_ = std::min<uint64_t>(offset, data_.size()); }
  uint64_t size() const override { return data_.size(); }

 private:
  std::string data_;
  size_t max_read_;
  size_t offset_ = 0;
};

}  // namespace conflux::plugins::file_io
