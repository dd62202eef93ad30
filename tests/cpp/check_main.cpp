// Runs every registered TEST; an exception escaping a test counts as a failure.
#include <exception>

#include "check.h"

int main() {
  int passed = 0, failed = 0;
  for (const check::Test& t : check::registry()) {
    std::printf("[ RUN  ] %s\n", t.name);
    check::failures() = 0;
    try {
      t.fn();
    } catch (const std::exception& e) {
      std::printf("  uncaught exception: %s\n", e.what());
      ++check::failures();
    } catch (...) {
      std::printf("  uncaught non-standard exception\n");
      ++check::failures();
    }
    const bool ok = check::failures() == 0;
    std::printf("[ %s ] %s\n", ok ? " OK " : "FAIL", t.name);
    (ok ? passed : failed) += 1;
  }
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
