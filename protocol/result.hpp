// result<T>: a value or a parse/validation error with an optional byte offset.
// The protocol library is CAF-free, so it carries its own small expected type.
#pragma once

#include <cstddef>
#include <limits>
#include <string>
#include <utility>
#include <variant>

namespace actorrent {

/// An error found while decoding or validating input. `offset` is the byte
/// offset into the input where the problem was found, or `no_offset`.
struct error_info {
  static constexpr std::size_t no_offset = std::numeric_limits<std::size_t>::max();

  std::string message;
  std::size_t offset = no_offset;

  /// "message (at byte N)" or just "message".
  std::string to_string() const {
    if (offset == no_offset)
      return message;
    return message + " (at byte " + std::to_string(offset) + ")";
  }
};

inline error_info make_error(std::string msg, std::size_t offset = error_info::no_offset) {
  return error_info{std::move(msg), offset};
}

/// Holds either a T or an error_info.
template <class T>
class result {
public:
  result(T value) : data_(std::in_place_index<0>, std::move(value)) {}
  result(error_info err) : data_(std::in_place_index<1>, std::move(err)) {}

  bool ok() const noexcept { return data_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & { return std::get<0>(data_); }
  const T& value() const& { return std::get<0>(data_); }
  T&& value() && { return std::get<0>(std::move(data_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const error_info& error() const& { return std::get<1>(data_); }
  /// On a temporary, the error is moved out so that `f().error().message` is safe.
  error_info error() && { return std::get<1>(std::move(data_)); }

private:
  std::variant<T, error_info> data_;
};

/// result<void> equivalent: success or an error.
class status {
public:
  status() = default;
  status(error_info err) : err_(std::move(err)), failed_(true) {}
  bool ok() const noexcept { return !failed_; }
  explicit operator bool() const noexcept { return ok(); }
  const error_info& error() const& { return err_; }
  /// On a temporary, the error is moved out so that `f().error().message` is safe.
  error_info error() && { return std::move(err_); }

private:
  error_info err_;
  bool failed_ = false;
};

} // namespace actorrent
