// Reading numbers from the command line, with messages that name the option.
#pragma once

#include <cstdint>
#include <cxxopts.hpp>
#include <memory>
#include <string>

#include "wire.hpp"

namespace uvchat::bench {

// A command line that cannot run; the message is for the user.
struct BadOption {
  std::string message;
};

// Options are declared as strings and read with these, so that a bad value
// says which option and which range (cxxopts would only say "bad value").
std::uint64_t whole_number(const cxxopts::ParseResult& options, const std::string& name, std::uint64_t low,
                           std::uint64_t high);
double real_number(const cxxopts::ParseResult& options, const std::string& name, double low, double high);

// The door --door names (the command line has checked it).
Door chosen_door(const cxxopts::ParseResult& options);

// A string option whose default is `value`, for whole_number and real_number.
template <typename T>
std::shared_ptr<cxxopts::Value> number_option(T value) {
  return cxxopts::value<std::string>()->default_value(std::to_string(value));
}

}  // namespace uvchat::bench
