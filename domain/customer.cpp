#include "domain/customer.hpp"

#include <cctype>

#include "util/ascii.hpp"

namespace orderd {

std::string email_key(std::string_view email) {
  return ascii_lower(email);
}

namespace {

bool has_control_chars(std::string_view s, bool allow_line_breaks) {
  for (char c : s) {
    if (!std::iscntrl(static_cast<unsigned char>(c)))
      continue;
    if (allow_line_breaks && (c == '\n' || c == '\r'))
      continue;
    return true;
  }
  return false;
}

bool is_valid_phone(std::string_view phone) {
  size_t digits = 0;
  for (char c : phone) {
    if (c >= '0' && c <= '9')
      ++digits;
    else if (c != '+' && c != '-' && c != ' ' && c != '(' && c != ')' && c != '.')
      return false;
  }
  return digits >= 3;
}

} // namespace

field_errors validate(const customer_details& d) {
  field_errors errs;
  if (d.name.empty())
    errs.push_back({"name", "must not be empty"});
  else if (d.name.size() > limits::max_name_length)
    errs.push_back({"name", "must be at most " + std::to_string(limits::max_name_length)
                              + " characters"});
  else if (has_control_chars(d.name, false))
    errs.push_back({"name", "must not contain control characters"});
  if (!is_valid_email(d.email))
    errs.push_back({"email", "must be a valid e-mail address"});
  if (!d.phone.empty()) {
    if (d.phone.size() > limits::max_phone_length)
      errs.push_back({"phone", "must be at most " + std::to_string(limits::max_phone_length)
                                 + " characters"});
    else if (!is_valid_phone(d.phone))
      errs.push_back({"phone", "must be at least 3 digits with optional + - ( ) . and spaces"});
  }
  if (d.address.size() > limits::max_address_length)
    errs.push_back({"address", "must be at most " + std::to_string(limits::max_address_length)
                                 + " characters"});
  else if (has_control_chars(d.address, true))
    errs.push_back({"address", "must not contain control characters"});
  return errs;
}

} // namespace orderd
