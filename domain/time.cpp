#include "domain/time.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace orderd {

timestamp_ms system_now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

namespace {

/// Writes `value` as exactly `width` decimal digits at `out` (value must fit).
char* put_digits(char* out, int64_t value, int width) {
  for (int i = width - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  return out + width;
}

} // namespace

std::string format_rfc3339(timestamp_ms t) {
  // Every order, event and notification carries timestamps, so this runs several times per
  // request. gmtime_r takes glibc's time zone lock and snprintf parses its format each time;
  // the civil date follows from the day count with integer arithmetic instead (the proleptic
  // Gregorian calendar in 400-year eras of 146,097 days, each starting on March 1st).
  int64_t secs = t / 1000;
  int64_t millis = t % 1000;
  if (millis < 0) {
    millis += 1000;
    --secs;
  }
  int64_t days = secs / 86400;
  int64_t second_of_day = secs % 86400;
  if (second_of_day < 0) {
    second_of_day += 86400;
    --days;
  }
  days += 719468; // from 1970-01-01 to 0000-03-01
  int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  int64_t day_of_era = days - era * 146097;                                         // [0, 146096]
  int64_t year_of_era
    = (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365; // [0, 399]
  int64_t day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  int64_t month_from_march = (5 * day_of_year + 2) / 153;                           // [0, 11]
  int64_t day = day_of_year - (153 * month_from_march + 2) / 5 + 1;                 // [1, 31]
  int64_t month = month_from_march < 10 ? month_from_march + 3 : month_from_march - 9;
  int64_t year = year_of_era + era * 400 + (month <= 2 ? 1 : 0);
  if (year < 0 || year > 9999) { // outside RFC 3339's four-digit years: the slow, general path
    std::time_t whole = static_cast<std::time_t>(secs);
    std::tm tm{};
    gmtime_r(&whole, &tm);
    char buf[48];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>(millis));
    return buf;
  }
  std::string out(24, '\0'); // YYYY-MM-DDTHH:MM:SS.mmmZ
  char* p = out.data();
  p = put_digits(p, year, 4);
  *p++ = '-';
  p = put_digits(p, month, 2);
  *p++ = '-';
  p = put_digits(p, day, 2);
  *p++ = 'T';
  p = put_digits(p, second_of_day / 3600, 2);
  *p++ = ':';
  p = put_digits(p, second_of_day / 60 % 60, 2);
  *p++ = ':';
  p = put_digits(p, second_of_day % 60, 2);
  *p++ = '.';
  p = put_digits(p, millis, 3);
  *p = 'Z';
  return out;
}

std::optional<timestamp_ms> parse_rfc3339(std::string_view text) {
  std::tm tm{};
  int millis = 0;
  std::string s{text};
  int consumed = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6)
    return std::nullopt;
  auto rest = std::string_view{s}.substr(static_cast<size_t>(consumed));
  if (!rest.empty() && rest.front() == '.') {
    rest.remove_prefix(1);
    int digits = 0;
    while (!rest.empty() && rest.front() >= '0' && rest.front() <= '9') {
      if (digits < 3)
        millis = millis * 10 + (rest.front() - '0');
      ++digits;
      rest.remove_prefix(1);
    }
    for (; digits < 3; ++digits)
      millis *= 10;
  }
  if (rest != "Z")
    return std::nullopt;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  auto secs = timegm(&tm);
  if (secs == static_cast<std::time_t>(-1))
    return std::nullopt;
  return static_cast<timestamp_ms>(secs) * 1000 + millis;
}

} // namespace orderd
