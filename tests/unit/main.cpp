// The CAF unit-test runner: every tests/unit/*_test.cpp links into this binary.
#include <caf/test/unit_test_impl.hpp>
