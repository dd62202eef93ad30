// A tiny test harness: TEST(name) registers a test; CHECK* record failures with file:line
// and let the test go on. check_main.cpp runs every test and ends with "N passed, N failed"
// (tests, not checks), exiting non-zero if any failed.
#pragma once

#include <cmath>
#include <cstdio>
#include <vector>

namespace check {

struct Test {
  const char* name;
  void (*fn)();
};

inline std::vector<Test>& registry() {
  static std::vector<Test> tests;
  return tests;
}
inline int& failures() {  // failed checks in the running test
  static int n = 0;
  return n;
}
inline void fail(const char* file, int line, const char* what) {
  std::printf("  %s:%d: FAILED: %s\n", file, line, what);
  ++failures();
}
struct Register {
  Register(const char* name, void (*fn)()) { registry().push_back({name, fn}); }
};

}  // namespace check

#define TEST(name)                                                \
  static void test_##name();                                      \
  static check::Register register_##name(#name, &test_##name);    \
  static void test_##name()

#define CHECK(cond) \
  do { if (!(cond)) check::fail(__FILE__, __LINE__, #cond); } while (0)

#define CHECK_NEAR(a, b, tol)                                                        \
  do {                                                                               \
    const double check_a_ = (a), check_b_ = (b);                                     \
    if (!(std::fabs(check_a_ - check_b_) <= (tol))) {                                \
      std::printf("  %s = %.9g, %s = %.9g\n", #a, check_a_, #b, check_b_);           \
      check::fail(__FILE__, __LINE__, "CHECK_NEAR(" #a ", " #b ", " #tol ")");       \
    }                                                                                \
  } while (0)

// CHECK_THROWS_AS(expr, type): expr must throw exactly that type (or a subclass).
#define CHECK_THROWS_AS(expr, type)                                                  \
  do {                                                                               \
    bool check_ok_ = false;                                                          \
    try { (void)(expr); } catch (const type&) { check_ok_ = true; } catch (...) {}   \
    if (!check_ok_) check::fail(__FILE__, __LINE__, #expr " throws " #type);         \
  } while (0)
#define CHECK_THROWS(expr) CHECK_THROWS_AS(expr, std::exception)
