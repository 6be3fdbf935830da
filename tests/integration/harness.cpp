// harness: see harness.hpp
