#pragma once

// Keyset pagination, once for every backend and listing: the opaque cursor (base64url of a tag
// naming the listing and the key of the page's last row) and the page a listing fills by
// offering rows in order. Internal to orderd_persistence.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "persistence/store.hpp"

namespace orderd::persistence::detail {

/// The listing a cursor belongs to. The value is the cursor's tag letter ("p:MUG-001"), so a
/// product cursor is refused by the order listing and vice versa. Part of the wire format.
enum class cursor_kind : char {
  product = 'p',      ///< key: the last sku
  order = 'o',        ///< key: the last order seq (orders are listed newest first)
  customer = 'c',     ///< key: the last customer id
  notification = 'n', ///< key: the last notification id
};

std::string encode_cursor(cursor_kind kind, std::string_view key);
std::string encode_cursor(cursor_kind kind, int64_t key);

/// The key of the previous page's last row; nullopt for an empty cursor (the first page).
/// Throws store_error(invalid_input) when `cursor` was not made by encode_cursor for `kind`
/// (for int64_t keys also when the key is not a positive number).
template <class Key>
std::optional<Key> decode_cursor(cursor_kind kind, std::string_view cursor);

template <>
std::optional<std::string> decode_cursor<std::string>(cursor_kind kind, std::string_view cursor);

template <>
std::optional<int64_t> decode_cursor<int64_t>(cursor_kind kind, std::string_view cursor);

/// The page size as a row count. Throws store_error(invalid_input) for 0: a page of nothing
/// with an empty next_cursor would falsely claim to be the last one.
int64_t page_limit(size_t limit);

/// One page of a keyset-paginated listing, filled row by row in listing order. A listing asks
/// its source for `fetch_limit()` rows, one more than fit: that row only tells that another
/// page follows, and the next cursor then points after the last row that fit.
template <class T, class Key>
class keyset_page {
public:
  /// Throws store_error(invalid_input) on a cursor not made for `kind` or a limit of 0.
  keyset_page(cursor_kind kind, std::string_view cursor, size_t limit)
    : kind_(kind),
      after_(decode_cursor<Key>(kind, cursor)),
      limit_(static_cast<size_t>(page_limit(limit))) {
  }

  /// The key the page starts after (in listing order); nullopt on the first page.
  const std::optional<Key>& after() const noexcept { return after_; }

  /// How many rows to fetch: the page size plus one.
  int64_t fetch_limit() const noexcept { return static_cast<int64_t>(limit_) + 1; }

  /// Adds the next row, whose key is `key`. Returns false once the page is full: `item` is then
  /// left alone, and the page ends with a cursor to the rest. Stop offering after that.
  template <class Item>
  bool offer(Key key, Item&& item) {
    if (page_.items.size() == limit_) {
      page_.next_cursor = encode_cursor(kind_, last_key_);
      return false;
    }
    page_.items.push_back(std::forward<Item>(item));
    last_key_ = std::move(key);
    return true;
  }

  page<T> take() && { return std::move(page_); }

private:
  cursor_kind kind_;
  std::optional<Key> after_;
  size_t limit_;
  page<T> page_;
  Key last_key_{};
};

} // namespace orderd::persistence::detail
