// The settings tables' shared checks and messages; see settings_table.h.
#include "evoae/core/settings_table.h"

#include <cmath>
#include <stdexcept>

namespace evoae {
namespace {

std::string number_text(double x) {
  if (x == std::floor(x) && std::fabs(x) < 1e15) return std::to_string(static_cast<long long>(x));
  std::string s = std::to_string(x);
  s.erase(s.find_last_not_of('0') + 1);
  if (s.back() == '.') s.pop_back();
  return s;
}

// A range's bound: kSettingSeedMax, which a double rounds up to 2^63, as it is.
std::string bound_text(double x) {
  return x >= static_cast<double>(kSettingSeedMax) ? std::to_string(kSettingSeedMax)
                                                   : number_text(x);
}

}  // namespace

SettingSpec integer_setting(const char* name, const char* group, long long min, long long max,
                            SettingValue def, const char* metavar, const char* help) {
  SettingSpec s;
  s.name = name, s.type = SettingType::Integer, s.group = group;
  s.min = static_cast<double>(min);
  s.max = static_cast<double>(max);
  s.default_value = def;
  s.metavar = metavar;
  s.help = help;
  return s;
}

SettingSpec threads_setting() {
  return integer_setting("threads", "engine", 1, 1024, std::monostate{}, "",
                         "OpenMP threads (default: all cores, or OMP_NUM_THREADS); any number "
                         "gives the same result");
}

SettingSpec positive_real_setting(const char* name, const char* group, const char* help) {
  SettingSpec s;
  s.name = name, s.type = SettingType::Real, s.group = group;
  s.min_exclusive = true;
  s.help = help;
  return s;
}

SettingSpec choice_setting(const char* name, const char* group, std::vector<std::string> choices,
                           const char* help) {
  SettingSpec s;
  s.name = name, s.type = SettingType::Choice, s.group = group;
  s.default_value = choices.front();
  s.choices = std::move(choices);
  s.help = help;
  return s;
}

std::string setting_value_text(const SettingValue& v) {
  if (const auto* i = std::get_if<long long>(&v)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&v)) return number_text(*d);
  if (const auto* s = std::get_if<std::string>(&v)) return "'" + *s + "'";
  return "none";
}

void check_setting_value(const SettingSpec& spec, const SettingValue& v) {
  const std::string& n = spec.name;
  if (spec.type == SettingType::Choice) {
    if (!std::holds_alternative<std::string>(v))
      throw std::invalid_argument(n + " must be a name, got " + setting_value_text(v));
    return;  // the parse function names the valid choices
  }
  double x;
  if (const auto* i = std::get_if<long long>(&v)) x = static_cast<double>(*i);
  else if (const auto* d = std::get_if<double>(&v); d && spec.type == SettingType::Real) x = *d;
  else
    throw std::invalid_argument(n + " must be " +
                                (spec.type == SettingType::Integer ? "an integer" : "a number") +
                                ", got " + setting_value_text(v));
  const bool low = std::isnan(x) || (spec.min_exclusive ? !(x > spec.min) : !(x >= spec.min));
  const bool high = !(x <= spec.max) || std::isinf(x);
  if (!low && !high) return;
  const std::string lower = (spec.min_exclusive ? "> " : ">= ") + bound_text(spec.min);
  if (std::isinf(spec.max))
    throw std::invalid_argument(n + " must be " + (low ? lower : "finite") + ", got " +
                                setting_value_text(v));
  throw std::invalid_argument(n + " must be " + lower + " and <= " + bound_text(spec.max) +
                              ", got " + setting_value_text(v));
}

const SettingSpec& find_setting(const std::vector<SettingSpec>& specs, const std::string& key) {
  for (const SettingSpec& s : specs)
    if (s.name == key) return s;
  std::string valid;
  for (const SettingSpec& s : specs) valid += (valid.empty() ? "" : ", ") + s.name;
  throw std::invalid_argument("unknown setting '" + key + "': the settings are " + valid);
}

}  // namespace evoae
