#include "messaging/amqp_connection.hpp"

#include <amqp.h>
#include <amqp_tcp_socket.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <deque>
#include <map>
#include <new>
#include <sys/time.h>

#include "util/name_table.hpp"

namespace orderd::messaging {

amqp_error::amqp_error(std::string operation, std::string reply_text, uint16_t reply_code)
  : std::runtime_error(operation + ": "
                       + (reply_code != 0 ? std::to_string(reply_code) + " " : std::string{})
                       + reply_text),
    operation_(std::move(operation)),
    reply_text_(std::move(reply_text)),
    reply_code_(reply_code) {
  // nop
}

std::string_view to_string(publish_status x) noexcept {
  static constexpr name_table names{
    publish_status::timed_out, {"confirmed", "nacked", "returned", "timed-out"}, "unknown"};
  return names.name(x);
}

connection_options connection_options::from_url(const amqp_url& url) {
  connection_options result;
  result.url = url;
  if (url.heartbeat)
    result.heartbeat = *url.heartbeat;
  if (url.connection_timeout)
    result.connect_timeout = *url.connection_timeout;
  return result;
}

namespace {

constexpr amqp_channel_t channel_id = 1;

/// How many messages publish_batch writes between two looks at incoming confirms, so a large
/// batch does not let acknowledgements pile up unread in the socket.
constexpr size_t drain_every = 128;

amqp_bytes_t bytes_of(std::string_view x) {
  amqp_bytes_t out;
  out.len = x.size();
  out.bytes = const_cast<char*>(x.data()); // rabbitmq-c only reads through it
  return out;
}

std::string string_of(amqp_bytes_t x) {
  return x.len == 0 ? std::string{} : std::string{static_cast<const char*>(x.bytes), x.len};
}

timeval timeval_of(std::chrono::milliseconds x) {
  if (x.count() < 0)
    x = std::chrono::milliseconds{0};
  timeval tv;
  tv.tv_sec = static_cast<time_t>(x.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((x.count() % 1000) * 1000);
  return tv;
}

/// An amqp_pool_t for encoding tables, emptied on scope exit.
class scoped_pool {
public:
  scoped_pool() { init_amqp_pool(&pool_, 4096); }
  ~scoped_pool() { empty_amqp_pool(&pool_); }
  scoped_pool(const scoped_pool&) = delete;
  scoped_pool& operator=(const scoped_pool&) = delete;
  amqp_pool_t* get() noexcept { return &pool_; }
  void recycle() noexcept { recycle_amqp_pool(&pool_); }

private:
  amqp_pool_t pool_;
};

// -- field tables: ours <-> rabbitmq-c's. Encoded tables point into the source table's strings,
// so the source must outlive the encoded form (both live for one call).

amqp_table_t encode_table(const field_table& table, amqp_pool_t* pool);

amqp_field_value_t encode_value(const field_value& value, amqp_pool_t* pool) {
  amqp_field_value_t out;
  std::memset(&out, 0, sizeof(out));
  struct visitor {
    amqp_field_value_t& out;
    amqp_pool_t* pool;
    void operator()(std::monostate) { out.kind = AMQP_FIELD_KIND_VOID; }
    void operator()(bool x) {
      out.kind = AMQP_FIELD_KIND_BOOLEAN;
      out.value.boolean = x ? 1 : 0;
    }
    void operator()(int64_t x) {
      out.kind = AMQP_FIELD_KIND_I64;
      out.value.i64 = x;
    }
    void operator()(double x) {
      out.kind = AMQP_FIELD_KIND_F64;
      out.value.f64 = x;
    }
    void operator()(const std::string& x) {
      out.kind = AMQP_FIELD_KIND_UTF8;
      out.value.bytes = bytes_of(x);
    }
    void operator()(field_timestamp x) {
      out.kind = AMQP_FIELD_KIND_TIMESTAMP;
      out.value.u64 = x.seconds;
    }
    void operator()(const field_array& xs) {
      out.kind = AMQP_FIELD_KIND_ARRAY;
      out.value.array.num_entries = static_cast<int>(xs.size());
      out.value.array.entries = nullptr;
      if (xs.empty())
        return;
      auto mem = amqp_pool_alloc(pool, sizeof(amqp_field_value_t) * xs.size());
      if (mem == nullptr)
        throw std::bad_alloc{};
      out.value.array.entries = static_cast<amqp_field_value_t*>(mem);
      for (size_t i = 0; i < xs.size(); ++i)
        out.value.array.entries[i] = encode_value(xs[i], pool);
    }
    void operator()(const field_table& xs) {
      out.kind = AMQP_FIELD_KIND_TABLE;
      out.value.table = encode_table(xs, pool);
    }
  };
  std::visit(visitor{out, pool}, value.value);
  return out;
}

amqp_table_t encode_table(const field_table& table, amqp_pool_t* pool) {
  amqp_table_t out;
  out.num_entries = static_cast<int>(table.size());
  out.entries = nullptr;
  if (table.empty())
    return out;
  auto mem = amqp_pool_alloc(pool, sizeof(amqp_table_entry_t) * table.size());
  if (mem == nullptr)
    throw std::bad_alloc{};
  out.entries = static_cast<amqp_table_entry_t*>(mem);
  for (size_t i = 0; i < table.size(); ++i) {
    out.entries[i].key = bytes_of(table[i].key);
    out.entries[i].value = encode_value(table[i].value, pool);
  }
  return out;
}

field_table decode_table(const amqp_table_t& table);

field_value decode_value(const amqp_field_value_t& v) {
  switch (v.kind) {
    case AMQP_FIELD_KIND_BOOLEAN:
      return field_value{v.value.boolean != 0};
    case AMQP_FIELD_KIND_I8:
      return field_value{v.value.i8};
    case AMQP_FIELD_KIND_U8:
      return field_value{v.value.u8};
    case AMQP_FIELD_KIND_I16:
      return field_value{v.value.i16};
    case AMQP_FIELD_KIND_U16:
      return field_value{v.value.u16};
    case AMQP_FIELD_KIND_I32:
      return field_value{v.value.i32};
    case AMQP_FIELD_KIND_U32:
      return field_value{v.value.u32};
    case AMQP_FIELD_KIND_I64:
      return field_value{v.value.i64};
    case AMQP_FIELD_KIND_U64:
      return field_value{v.value.u64 > static_cast<uint64_t>(INT64_MAX)
                           ? INT64_MAX
                           : static_cast<int64_t>(v.value.u64)};
    case AMQP_FIELD_KIND_F32:
      return field_value{static_cast<double>(v.value.f32)};
    case AMQP_FIELD_KIND_F64:
      return field_value{v.value.f64};
    case AMQP_FIELD_KIND_DECIMAL: {
      double x = static_cast<double>(v.value.decimal.value);
      for (uint8_t i = 0; i < v.value.decimal.decimals; ++i)
        x /= 10.0;
      return field_value{x};
    }
    case AMQP_FIELD_KIND_UTF8:
    case AMQP_FIELD_KIND_BYTES:
      return field_value{string_of(v.value.bytes)};
    case AMQP_FIELD_KIND_TIMESTAMP:
      return field_value{field_timestamp{v.value.u64}};
    case AMQP_FIELD_KIND_ARRAY: {
      field_array xs;
      xs.reserve(static_cast<size_t>(v.value.array.num_entries));
      for (int i = 0; i < v.value.array.num_entries; ++i)
        xs.push_back(decode_value(v.value.array.entries[i]));
      return field_value{std::move(xs)};
    }
    case AMQP_FIELD_KIND_TABLE:
      return field_value{decode_table(v.value.table)};
    default:
      return field_value{};
  }
}

field_table decode_table(const amqp_table_t& table) {
  field_table out;
  out.reserve(static_cast<size_t>(table.num_entries));
  for (int i = 0; i < table.num_entries; ++i)
    out.push_back(field_entry{string_of(table.entries[i].key),
                              decode_value(table.entries[i].value)});
  return out;
}

/// Fills `out` from `props`; `out` must not be reallocated while `out` is in use (it points
/// into `props`' strings and into `pool`).
void encode_properties(const message_properties& props, const field_table& headers,
                       amqp_basic_properties_t& out, amqp_pool_t* pool) {
  std::memset(&out, 0, sizeof(out));
  out._flags = AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_TIMESTAMP_FLAG;
  out.delivery_mode = props.persistent ? 2 : 1;
  out.timestamp = static_cast<uint64_t>(props.timestamp.value_or(
    std::chrono::duration_cast<std::chrono::seconds>(
      std::chrono::system_clock::now().time_since_epoch())
      .count()));
  auto add = [&](const std::string& x, amqp_flags_t flag, amqp_bytes_t& field) {
    if (x.empty())
      return;
    out._flags |= flag;
    field = bytes_of(x);
  };
  add(props.content_type, AMQP_BASIC_CONTENT_TYPE_FLAG, out.content_type);
  add(props.message_id, AMQP_BASIC_MESSAGE_ID_FLAG, out.message_id);
  add(props.correlation_id, AMQP_BASIC_CORRELATION_ID_FLAG, out.correlation_id);
  add(props.type, AMQP_BASIC_TYPE_FLAG, out.type);
  add(props.reply_to, AMQP_BASIC_REPLY_TO_FLAG, out.reply_to);
  add(props.app_id, AMQP_BASIC_APP_ID_FLAG, out.app_id);
  if (!headers.empty()) {
    out._flags |= AMQP_BASIC_HEADERS_FLAG;
    out.headers = encode_table(headers, pool);
  }
}

message_properties decode_properties(const amqp_basic_properties_t& p) {
  message_properties out;
  auto get = [&](amqp_flags_t flag, amqp_bytes_t field) {
    return (p._flags & flag) != 0 ? string_of(field) : std::string{};
  };
  out.content_type = get(AMQP_BASIC_CONTENT_TYPE_FLAG, p.content_type);
  out.message_id = get(AMQP_BASIC_MESSAGE_ID_FLAG, p.message_id);
  out.correlation_id = get(AMQP_BASIC_CORRELATION_ID_FLAG, p.correlation_id);
  out.type = get(AMQP_BASIC_TYPE_FLAG, p.type);
  out.reply_to = get(AMQP_BASIC_REPLY_TO_FLAG, p.reply_to);
  out.app_id = get(AMQP_BASIC_APP_ID_FLAG, p.app_id);
  if ((p._flags & AMQP_BASIC_TIMESTAMP_FLAG) != 0)
    out.timestamp = static_cast<int64_t>(p.timestamp);
  out.persistent = (p._flags & AMQP_BASIC_DELIVERY_MODE_FLAG) != 0 && p.delivery_mode == 2;
  if ((p._flags & AMQP_BASIC_HEADERS_FLAG) != 0)
    out.headers = decode_table(p.headers);
  return out;
}

/// The library's text for a status, with errno's when a socket call failed (rabbitmq-c says
/// only "a socket error occurred").
std::string status_text(int status, int saved_errno) {
  std::string text = amqp_error_string2(status);
  // A non-blocking connect leaves EINPROGRESS behind and rabbitmq-c does not pass on the
  // socket's real error, so only a different errno says something.
  if (status == AMQP_STATUS_SOCKET_ERROR && saved_errno != 0 && saved_errno != EINPROGRESS
      && saved_errno != EAGAIN)
    text += std::string{" ("} + std::strerror(saved_errno) + ")";
  return text;
}

} // namespace

// -- impl ---------------------------------------------------------------------------------------

struct amqp_connection::impl {
  /// One published message waiting for its confirm.
  struct pending_confirm {
    size_t index;                 ///< into *results
    const outgoing_message* msg;  ///< alive during publish_batch
    bool returned = false;
    std::string detail;
  };

  connection_options options;
  amqp_connection_state_t conn = nullptr;
  bool open = false;
  bool blocked = false;
  std::string blocked_reason;
  uint64_t next_publish_seq = 1; ///< delivery tag of the next publish (confirm mode)
  std::map<uint64_t, pending_confirm> pending;
  std::vector<publish_result>* results = nullptr; ///< set while publish_batch waits
  std::deque<delivery> deliveries;                ///< received, not yet returned
  /// What the owner is doing, for errors that arrive as frames (channel.close after a publish
  /// to a missing exchange, heartbeat loss while waiting, …).
  std::string context = "connection";

  explicit impl(connection_options opts) : options(std::move(opts)) {}

  ~impl() { close(); }

  std::string endpoint() const {
    return options.url.host + ":" + std::to_string(options.url.port);
  }

  void require_open(const char* op) const {
    if (!open)
      throw amqp_error(op, "the connection is closed");
  }

  /// Frees rabbitmq-c's state without talking to the broker.
  void destroy() noexcept {
    open = false;
    if (conn != nullptr) {
      amqp_destroy_connection(conn);
      conn = nullptr;
    }
    pending.clear();
  }

  /// Closes channel and connection politely, each bounded by rpc_timeout.
  void close() noexcept {
    if (conn != nullptr && open) {
      amqp_channel_close(conn, channel_id, AMQP_REPLY_SUCCESS);
      amqp_connection_close(conn, AMQP_REPLY_SUCCESS);
    }
    destroy();
  }

  [[noreturn]] void fail_status(const std::string& op, int status, int saved_errno = 0) {
    auto text = status_text(status, saved_errno);
    destroy();
    throw amqp_error(op, std::move(text));
  }

  /// The broker closed the channel: acknowledge it, then close the whole connection (the
  /// model is "any error closes the connection").
  [[noreturn]] void on_channel_close(const std::string& op, const amqp_channel_close_t& m) {
    auto code = m.reply_code;
    auto text = string_of(m.reply_text);
    amqp_channel_close_ok_t ok{};
    amqp_send_method(conn, channel_id, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok);
    amqp_connection_close(conn, AMQP_REPLY_SUCCESS);
    destroy();
    throw amqp_error(op, std::move(text), code);
  }

  [[noreturn]] void on_connection_close(const std::string& op, const amqp_connection_close_t& m) {
    auto code = m.reply_code;
    auto text = string_of(m.reply_text);
    amqp_connection_close_ok_t ok{};
    amqp_send_method(conn, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok);
    destroy();
    throw amqp_error(op, std::move(text), code);
  }

  /// Throws unless `r` is a normal reply.
  void check(const amqp_rpc_reply_t& r, const std::string& op) {
    switch (r.reply_type) {
      case AMQP_RESPONSE_NORMAL:
        return;
      case AMQP_RESPONSE_NONE:
        destroy();
        throw amqp_error(op, "missing RPC reply");
      case AMQP_RESPONSE_LIBRARY_EXCEPTION:
        fail_status(op, r.library_error, errno);
      case AMQP_RESPONSE_SERVER_EXCEPTION:
        if (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD)
          on_channel_close(op, *static_cast<amqp_channel_close_t*>(r.reply.decoded));
        if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD)
          on_connection_close(op, *static_cast<amqp_connection_close_t*>(r.reply.decoded));
        destroy();
        throw amqp_error(op, std::string{"unexpected method "} + amqp_method_name(r.reply.id));
    }
    destroy();
    throw amqp_error(op, "unknown reply type");
  }

  /// Checks the reply of the synchronous method just called, then lets rabbitmq-c recycle
  /// its buffers (call only after copying what the reply points to).
  void check_rpc(const std::string& op) { check(amqp_get_rpc_reply(conn), op); }

  void release() noexcept { amqp_maybe_release_buffers(conn); }

  void connect() {
    auto& url = options.url;
    auto where = "connect " + endpoint();
    conn = amqp_new_connection();
    if (conn == nullptr)
      throw amqp_error(where, "out of memory");
    auto socket = amqp_tcp_socket_new(conn);
    if (socket == nullptr)
      fail_status(where, AMQP_STATUS_NO_MEMORY);
    auto connect_tv = timeval_of(options.connect_timeout);
    errno = 0;
    if (auto st = amqp_socket_open_noblock(socket, url.host.c_str(), url.port, &connect_tv);
        st != AMQP_STATUS_OK) {
      auto saved = errno;
      if (st == AMQP_STATUS_SOCKET_ERROR && (saved == 0 || saved == EINPROGRESS)) {
        destroy();
        throw amqp_error(where, "connection refused or host unreachable");
      }
      fail_status(where, st, saved);
    }
    amqp_set_handshake_timeout(conn, &connect_tv);
    auto rpc_tv = timeval_of(options.rpc_timeout);
    amqp_set_rpc_timeout(conn, &rpc_tv);

    // Capabilities beyond rabbitmq-c's defaults: learn about resource alarms (so publishing
    // can fail fast instead of blocking) and about consumers the broker cancels.
    field_table client_properties{
      {"connection_name", field_value{options.connection_name}},
      {"capabilities", field_value{field_table{{"connection.blocked", field_value{true}},
                                               {"consumer_cancel_notify", field_value{true}}}}},
    };
    scoped_pool pool;
    auto props = encode_table(client_properties, pool.get());
    errno = 0;
    auto reply = amqp_login_with_properties(
      conn, url.vhost.c_str(), 0, 131072, static_cast<int>(options.heartbeat.count()), &props,
      AMQP_SASL_METHOD_PLAIN, url.user.c_str(), url.password.c_str());
    open = true; // from here on, failures are reported through check()
    check(reply, "login to " + endpoint() + " vhost '" + url.vhost + "' as '" + url.user + "'");
    amqp_channel_open(conn, channel_id);
    check_rpc("channel.open");
    amqp_confirm_select(conn, channel_id);
    check_rpc("confirm.select");
    release();
  }

  // -- incoming frames ----------------------------------------------------------------------

  /// Waits up to `timeout` for one frame; false on timeout. Throws on any failure.
  bool read_frame(std::chrono::milliseconds timeout, amqp_frame_t& frame) {
    auto tv = timeval_of(timeout);
    errno = 0;
    auto st = amqp_simple_wait_frame_noblock(conn, &frame, &tv);
    if (st == AMQP_STATUS_OK)
      return true;
    if (st == AMQP_STATUS_TIMEOUT)
      return false;
    fail_status(context, st, errno);
  }

  /// Reads the content (header and body frames) that follows a basic.deliver or basic.return.
  /// The caller destroys `msg`.
  void read_content(amqp_message_t& msg, const char* op) {
    errno = 0;
    check(amqp_read_message(conn, channel_id, &msg, 0), op);
  }

  /// Acts on one frame: confirms, returns, deliveries, blocking and closes.
  void dispatch(amqp_frame_t& frame) {
    if (frame.frame_type != AMQP_FRAME_METHOD)
      return; // stray content frames cannot occur: content is read right after its method
    auto& method = frame.payload.method;
    switch (method.id) {
      case AMQP_BASIC_ACK_METHOD: {
        auto m = static_cast<amqp_basic_ack_t*>(method.decoded);
        settle(m->delivery_tag, m->multiple != 0, true);
        break;
      }
      case AMQP_BASIC_NACK_METHOD: {
        auto m = static_cast<amqp_basic_nack_t*>(method.decoded);
        settle(m->delivery_tag, m->multiple != 0, false);
        break;
      }
      case AMQP_BASIC_RETURN_METHOD: {
        auto m = static_cast<amqp_basic_return_t*>(method.decoded);
        auto detail = std::to_string(m->reply_code) + " " + string_of(m->reply_text);
        amqp_message_t msg;
        read_content(msg, "basic.return");
        auto id = (msg.properties._flags & AMQP_BASIC_MESSAGE_ID_FLAG) != 0
                    ? string_of(msg.properties.message_id)
                    : std::string{};
        amqp_destroy_message(&msg);
        mark_returned(id, std::move(detail));
        break;
      }
      case AMQP_BASIC_DELIVER_METHOD: {
        auto m = static_cast<amqp_basic_deliver_t*>(method.decoded);
        delivery d;
        d.delivery_tag = m->delivery_tag;
        d.redelivered = m->redelivered != 0;
        d.exchange = string_of(m->exchange);
        d.routing_key = string_of(m->routing_key);
        d.consumer_tag = string_of(m->consumer_tag);
        amqp_message_t msg;
        read_content(msg, "basic.deliver");
        d.properties = decode_properties(msg.properties);
        d.body = string_of(msg.body);
        amqp_destroy_message(&msg);
        deliveries.push_back(std::move(d));
        break;
      }
      case AMQP_BASIC_CANCEL_METHOD: {
        auto m = static_cast<amqp_basic_cancel_t*>(method.decoded);
        auto tag = string_of(m->consumer_tag);
        close();
        throw amqp_error(context, "the broker cancelled consumer '" + tag
                                      + "' (queue deleted, or its leader moved)");
      }
      case AMQP_CONNECTION_BLOCKED_METHOD: {
        auto m = static_cast<amqp_connection_blocked_t*>(method.decoded);
        blocked = true;
        blocked_reason = string_of(m->reason);
        break;
      }
      case AMQP_CONNECTION_UNBLOCKED_METHOD:
        blocked = false;
        blocked_reason.clear();
        break;
      case AMQP_CHANNEL_CLOSE_METHOD:
        on_channel_close(context, *static_cast<amqp_channel_close_t*>(method.decoded));
      case AMQP_CONNECTION_CLOSE_METHOD:
        on_connection_close(context, *static_cast<amqp_connection_close_t*>(method.decoded));
      default:
        break; // nothing else is sent unasked on a confirm-mode channel
    }
    release();
  }

  /// Applies a basic.ack (`acked`) or basic.nack to the waiting messages. Tags of messages
  /// no longer waited for (an earlier batch that timed out) are ignored.
  void settle(uint64_t tag, bool multiple, bool acked) {
    auto first = pending.begin();
    auto last = pending.end();
    if (!multiple) {
      first = pending.find(tag);
      if (first == pending.end())
        return;
      last = std::next(first);
    } else if (tag != 0) {
      last = pending.upper_bound(tag);
    }
    for (auto i = first; i != last; ++i) {
      auto& p = i->second;
      auto& r = (*results)[p.index];
      if (!acked) {
        r.status = publish_status::nacked;
        r.detail = "the broker nacked the message";
      } else if (p.returned) {
        r.status = publish_status::returned;
        r.detail = std::move(p.detail);
      } else {
        r.status = publish_status::confirmed;
        r.detail.clear();
      }
    }
    pending.erase(first, last);
  }

  /// basic.return precedes the basic.ack of the same message, so the returned message is the
  /// oldest waiting mandatory message with that id.
  void mark_returned(const std::string& message_id, std::string detail) {
    for (auto& [seq, p] : pending) {
      if (p.msg->mandatory && !p.returned && p.msg->properties.message_id == message_id) {
        p.returned = true;
        p.detail = std::move(detail);
        return;
      }
    }
  }

  /// Reads frames until none is waiting after the first `timeout`.
  void drain(std::chrono::milliseconds timeout) {
    amqp_frame_t frame;
    // Bounded so a broker that streams deliveries cannot keep the caller here forever.
    for (int i = 0; i < 10000 && read_frame(timeout, frame); ++i) {
      dispatch(frame);
      timeout = std::chrono::milliseconds{0};
    }
  }

  std::vector<publish_result> publish_batch(const std::vector<outgoing_message>& messages,
                                            std::chrono::milliseconds confirm_timeout) {
    require_open("basic.publish");
    context = "basic.publish";
    std::vector<publish_result> out(messages.size());
    if (messages.empty())
      return out;
    drain(std::chrono::milliseconds{0}); // learn about connection.blocked before writing
    if (blocked) {
      for (auto& r : out)
        r.detail = "the broker blocks publishing: " + blocked_reason;
      return out;
    }
    results = &out;
    struct reset_guard {
      impl* self;
      ~reset_guard() {
        self->results = nullptr;
        self->pending.clear();
      }
    } guard{this};
    scoped_pool pool;
    for (size_t i = 0; i < messages.size(); ++i) {
      auto& msg = messages[i];
      amqp_basic_properties_t props;
      encode_properties(msg.properties, msg.properties.headers, props, pool.get());
      pending.emplace(next_publish_seq++, pending_confirm{i, &msg, false, {}});
      errno = 0;
      auto st = amqp_basic_publish(conn, channel_id, bytes_of(msg.exchange),
                                   bytes_of(msg.routing_key), msg.mandatory ? 1 : 0, 0, &props,
                                   bytes_of(msg.body));
      if (st != AMQP_STATUS_OK)
        fail_status("basic.publish to '" + msg.exchange + "'", st, errno);
      pool.recycle();
      if ((i + 1) % drain_every == 0)
        drain(std::chrono::milliseconds{0});
    }
    auto deadline = std::chrono::steady_clock::now() + confirm_timeout;
    amqp_frame_t frame;
    while (!pending.empty()) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0)
        break;
      if (read_frame(left, frame))
        dispatch(frame);
    }
    for (auto& [seq, p] : pending)
      out[p.index].detail = "no confirm within " + std::to_string(confirm_timeout.count()) + " ms";
    return out;
  }

  std::optional<delivery> next_delivery(std::chrono::milliseconds timeout) {
    require_open("next delivery");
    context = "wait for deliveries";
    auto deadline = std::chrono::steady_clock::now() + timeout;
    amqp_frame_t frame;
    while (deliveries.empty()) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
      if (left.count() < 0 || !read_frame(left, frame))
        return std::nullopt;
      dispatch(frame);
    }
    auto d = std::move(deliveries.front());
    deliveries.pop_front();
    return d;
  }

  /// Result check for the asynchronous basic.ack / nack / reject.
  void check_send(int status, const char* op) {
    if (status != AMQP_STATUS_OK)
      fail_status(op, status, errno);
  }
};

// -- amqp_connection --------------------------------------------------------------------------

amqp_connection::amqp_connection(connection_options options)
  : impl_(std::make_unique<impl>(std::move(options))) {
  impl_->connect();
}

amqp_connection::~amqp_connection() = default;

amqp_connection::amqp_connection(amqp_connection&&) noexcept = default;

amqp_connection& amqp_connection::operator=(amqp_connection&&) noexcept = default;

void amqp_connection::require(const std::string& op) const {
  if (!impl_ || !impl_->open)
    throw amqp_error(op, "the connection is closed");
}

bool amqp_connection::is_open() const noexcept {
  return impl_ && impl_->open;
}

bool amqp_connection::is_blocked() const noexcept {
  return impl_ && impl_->blocked;
}

const std::string& amqp_connection::blocked_reason() const noexcept {
  static const std::string none;
  return impl_ ? impl_->blocked_reason : none;
}

std::string amqp_connection::server_version() const {
  if (!is_open())
    return {};
  auto props = decode_table(*amqp_get_server_properties(impl_->conn));
  return get_string(props, "product").value_or("?") + " "
         + get_string(props, "version").value_or("?");
}

void amqp_connection::close() noexcept {
  if (impl_)
    impl_->close();
}

void amqp_connection::declare_exchange(const exchange_spec& x) {
  auto op = "exchange.declare '" + x.name + "'";
  require(op);
  amqp_exchange_declare(impl_->conn, channel_id, bytes_of(x.name), bytes_of(x.type), 0,
                        x.durable ? 1 : 0, 0, 0, amqp_empty_table);
  impl_->check_rpc(op);
  impl_->release();
}

queue_info amqp_connection::declare_queue(const queue_spec& q) {
  auto op = "queue.declare '" + q.name + "'";
  require(op);
  auto args = queue_arguments(q);
  scoped_pool pool;
  auto ok = amqp_queue_declare(impl_->conn, channel_id, bytes_of(q.name), 0, 1, 0, 0,
                               encode_table(args, pool.get()));
  impl_->check_rpc(op);
  queue_info info{string_of(ok->queue), ok->message_count, ok->consumer_count};
  impl_->release();
  return info;
}

queue_info amqp_connection::inspect_queue(const std::string& name) {
  auto op = "queue.declare (passive) '" + name + "'";
  require(op);
  auto ok = amqp_queue_declare(impl_->conn, channel_id, bytes_of(name), 1, 0, 0, 0,
                               amqp_empty_table);
  impl_->check_rpc(op);
  queue_info info{string_of(ok->queue), ok->message_count, ok->consumer_count};
  impl_->release();
  return info;
}

void amqp_connection::bind_queue(const binding_spec& b) {
  auto op = "queue.bind '" + b.queue + "' to '" + b.exchange + "' with '" + b.routing_key + "'";
  require(op);
  amqp_queue_bind(impl_->conn, channel_id, bytes_of(b.queue), bytes_of(b.exchange),
                  bytes_of(b.routing_key), amqp_empty_table);
  impl_->check_rpc(op);
  impl_->release();
}

void amqp_connection::declare(const topology& t) {
  for (auto& x : t.exchanges)
    declare_exchange(x);
  for (auto& q : t.queues)
    declare_queue(q);
  for (auto& b : t.bindings)
    bind_queue(b);
}

uint32_t amqp_connection::purge_queue(const std::string& name) {
  auto op = "queue.purge '" + name + "'";
  require(op);
  auto ok = amqp_queue_purge(impl_->conn, channel_id, bytes_of(name));
  impl_->check_rpc(op);
  auto n = ok->message_count;
  impl_->release();
  return n;
}

void amqp_connection::delete_queue(const std::string& name) {
  auto op = "queue.delete '" + name + "'";
  require(op);
  amqp_queue_delete(impl_->conn, channel_id, bytes_of(name), 0, 0);
  impl_->check_rpc(op);
  impl_->release();
}

void amqp_connection::delete_exchange(const std::string& name) {
  auto op = "exchange.delete '" + name + "'";
  require(op);
  amqp_exchange_delete(impl_->conn, channel_id, bytes_of(name), 0);
  impl_->check_rpc(op);
  impl_->release();
}

std::vector<publish_result>
amqp_connection::publish_batch(const std::vector<outgoing_message>& messages,
                               std::chrono::milliseconds confirm_timeout) {
  require("basic.publish");
  return impl_->publish_batch(messages, confirm_timeout);
}

publish_result amqp_connection::publish(const outgoing_message& message,
                                        std::chrono::milliseconds confirm_timeout) {
  std::vector<outgoing_message> one{message};
  return publish_batch(one, confirm_timeout).front();
}

void amqp_connection::qos(uint16_t prefetch) {
  require("basic.qos");
  amqp_basic_qos(impl_->conn, channel_id, 0, prefetch, 0);
  impl_->check_rpc("basic.qos");
  impl_->release();
}

std::string amqp_connection::consume(const std::string& queue, const std::string& consumer_tag) {
  auto op = "basic.consume '" + queue + "'";
  require(op);
  auto ok = amqp_basic_consume(impl_->conn, channel_id, bytes_of(queue), bytes_of(consumer_tag),
                               0, 0, 0, amqp_empty_table);
  impl_->check_rpc(op);
  auto tag = string_of(ok->consumer_tag);
  impl_->release();
  return tag;
}

void amqp_connection::cancel(const std::string& consumer_tag) {
  auto op = "basic.cancel '" + consumer_tag + "'";
  require(op);
  amqp_basic_cancel(impl_->conn, channel_id, bytes_of(consumer_tag));
  impl_->check_rpc(op);
  impl_->release();
}

std::optional<delivery> amqp_connection::get(const std::string& queue) {
  auto op = "basic.get '" + queue + "'";
  require(op);
  errno = 0;
  auto reply = amqp_basic_get(impl_->conn, channel_id, bytes_of(queue), 0);
  impl_->check(reply, op);
  if (reply.reply.id == AMQP_BASIC_GET_EMPTY_METHOD) {
    impl_->release();
    return std::nullopt;
  }
  if (reply.reply.id != AMQP_BASIC_GET_OK_METHOD)
    throw amqp_error(op, std::string{"unexpected reply "} + amqp_method_name(reply.reply.id));
  auto m = static_cast<amqp_basic_get_ok_t*>(reply.reply.decoded);
  delivery d;
  d.delivery_tag = m->delivery_tag;
  d.redelivered = m->redelivered != 0;
  d.exchange = string_of(m->exchange);
  d.routing_key = string_of(m->routing_key);
  amqp_message_t msg;
  impl_->read_content(msg, "basic.get");
  d.properties = decode_properties(msg.properties);
  d.body = string_of(msg.body);
  amqp_destroy_message(&msg);
  impl_->release();
  return d;
}

std::optional<delivery> amqp_connection::next_delivery(std::chrono::milliseconds timeout) {
  require("next delivery");
  return impl_->next_delivery(timeout);
}

void amqp_connection::ack(uint64_t delivery_tag, bool multiple) {
  require("basic.ack");
  errno = 0;
  impl_->check_send(amqp_basic_ack(impl_->conn, channel_id, delivery_tag, multiple ? 1 : 0),
                    "basic.ack");
}

void amqp_connection::nack(uint64_t delivery_tag, bool requeue, bool multiple) {
  require("basic.nack");
  errno = 0;
  impl_->check_send(amqp_basic_nack(impl_->conn, channel_id, delivery_tag, multiple ? 1 : 0,
                                    requeue ? 1 : 0),
                    "basic.nack");
}

void amqp_connection::reject(uint64_t delivery_tag, bool requeue) {
  require("basic.reject");
  errno = 0;
  impl_->check_send(amqp_basic_reject(impl_->conn, channel_id, delivery_tag, requeue ? 1 : 0),
                    "basic.reject");
}

void amqp_connection::poll(std::chrono::milliseconds timeout) {
  require("poll");
  impl_->context = "poll";
  impl_->drain(timeout);
}

} // namespace orderd::messaging
