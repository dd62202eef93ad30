// What every settings table shares (evo/settings.h's for evolution, train/settings.h's for
// training): a setting's spec, its value as it crosses to Python, the range check with its
// messages, the makers of specs, and the access to a member of a settings struct.
#pragma once

#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

namespace evoae {

// A setting's value as it crosses to Python and back: none (unset), an integer, a real, a name.
using SettingValue = std::variant<std::monostate, long long, double, std::string>;

enum class SettingType { Integer, Real, Choice };

struct SettingSpec {
  std::string name;   // Python keyword; the CLI option is --name with '-' for '_'
  SettingType type;
  std::string group;  // the part that reads it, e.g. "strategy", "objective", "engine"
  double min = 0;                 // Integer, Real: the smallest value a user may give
  bool min_exclusive = false;     // Real: the value must be > min
  double max = std::numeric_limits<double>::infinity();
  std::vector<std::string> choices;  // Choice: the names, the default first
  SettingValue default_value;        // monostate: resolved from the others (see help)
  std::string metavar;               // the CLI's placeholder, e.g. "T"; empty: the name's
  bool command_line = true;          // offered as an `evoae run` option
  std::string help;                  // says what it does, where it comes from, its default
};

// Upper bounds: what the members hold, and for counts of work a bound far above any useful
// run (the engines check what they can afford).
constexpr long long kSettingIntMax = 2147483647;
constexpr long long kSettingCountMax = 10000000;
constexpr long long kSettingSeedMax = 9223372036854775807;  // 2^63 - 1: a seed crosses as long long

SettingSpec integer_setting(const char* name, const char* group, long long min, long long max,
                            SettingValue def, const char* metavar, const char* help);
// The "threads" row every table shares: OpenMP threads, unset = all cores.
SettingSpec threads_setting();
SettingSpec positive_real_setting(const char* name, const char* group, const char* help);
SettingSpec choice_setting(const char* name, const char* group, std::vector<std::string> choices,
                           const char* help);

std::string setting_value_text(const SettingValue& v);  // 3, 0.5, 'adam', none
// Throws std::invalid_argument naming the setting unless `v` is a value of the spec's type in
// its range (an integer counts as a real; a choice's name is its parser's to check).
void check_setting_value(const SettingSpec& spec, const SettingValue& v);
// The spec named `key`, or std::invalid_argument listing the settings there are.
const SettingSpec& find_setting(const std::vector<SettingSpec>& specs, const std::string& key);

// How a table reads a member of a settings struct S as a value V (a variant with long long,
// double and std::string, such as SettingValue) and writes a value in range into it.
template <class S, class V>
struct SettingAccess {
  std::function<V(const S&)> get;
  std::function<void(S&, const V&)> set;
};

// An integer or real member; a member equal to `unset` reads as "not given".
template <class V, class S, class T>
SettingAccess<S, V> number_access(T S::*member, bool has_unset = false, T unset = T()) {
  return {[=](const S& s) -> V {
            const T v = s.*member;
            if (has_unset && v == unset) return std::monostate{};
            if constexpr (std::is_floating_point_v<T>) return static_cast<double>(v);
            else return static_cast<long long>(v);
          },
          [=](S& s, const V& v) {
            if (const auto* i = std::get_if<long long>(&v)) s.*member = static_cast<T>(*i);
            else s.*member = static_cast<T>(std::get<double>(v));
          }};
}

// A member of enum type E, by name: namer(e) gives it, parse(name) reads it back.
template <class V, class S, class E, class Namer>
SettingAccess<S, V> choice_access(E S::*member, E (*parse)(const std::string&), Namer namer) {
  return {[=](const S& s) -> V { return std::string(namer(s.*member)); },
          [=](S& s, const V& v) { s.*member = parse(std::get<std::string>(v)); }};
}

// The same for a std::optional<E> member: empty reads as "not given" (resolved later).
template <class V, class S, class E, class Namer>
SettingAccess<S, V> optional_choice_access(std::optional<E> S::*member,
                                           E (*parse)(const std::string&), Namer namer) {
  return {[=](const S& s) -> V {
            if (!(s.*member)) return std::monostate{};
            return std::string(namer(*(s.*member)));
          },
          [=](S& s, const V& v) { s.*member = parse(std::get<std::string>(v)); }};
}

// Every setting's value by name, as a table's entries (each with .spec and .access) read s.
template <class V, class Entries, class S>
std::map<std::string, V> setting_values_of(const Entries& entries, const S& s) {
  std::map<std::string, V> values;
  for (const auto& e : entries) values[e.spec.name] = e.access.get(s);
  return values;
}

}  // namespace evoae
