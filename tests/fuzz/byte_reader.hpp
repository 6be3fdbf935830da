// Reads a fuzzer's input as a stream of small choices. Past the end every
// read gives zero, so that every input is a valid program.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace uvchat::fuzz {

class ByteReader {
 public:
  explicit ByteReader(std::span<const std::uint8_t> data) : data_(data) {}

  bool empty() const { return position_ >= data_.size(); }

  std::uint8_t byte() { return empty() ? 0 : data_[position_++]; }

  // One of `count` (> 0) choices.
  std::size_t below(std::size_t count) { return byte() % count; }

  bool flag() { return (byte() & 1) != 0; }

  template <class T, std::size_t N>
  const T& pick(const T (&options)[N]) {
    return options[below(N)];
  }

  // The next `count` bytes, or fewer at the end.
  std::string_view bytes(std::size_t count) {
    const std::size_t left = data_.size() - position_;
    const std::size_t taken = count < left ? count : left;
    const std::string_view view(reinterpret_cast<const char*>(data_.data()) + position_, taken);
    position_ += taken;
    return view;
  }

  std::string_view rest() { return bytes(data_.size() - position_); }

 private:
  std::span<const std::uint8_t> data_;
  std::size_t position_ = 0;
};

}  // namespace uvchat::fuzz
