#pragma once

// What the keyed registries (the stock, order and cart supervisors) have in common: one live
// child per key, monitored; a restart budget per key; the passivation handshake; stopping the
// children with the registry; and the handlers every registry answers the same way (idle
// requests, fault injection, stats). Each registry keeps a `registry_core` in its state as
// `core`, and supplies only how a child is spawned and the messages that are its own.

#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_addr.hpp>
#include <caf/actor_cast.hpp>
#include <caf/error.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scheduled_actor.hpp>
#include <caf/sec.hpp>
#include <caf/system_messages.hpp>
#include <spdlog/spdlog.h>

#include "actors/cluster_link.hpp"
#include "actors/protocol.hpp"
#include "actors/supervision.hpp"

namespace orderd {

/// How a registry brings back a crashed child: at once (after its backoff), or on the next
/// message for its key (the child reloads from the store then, after any backoff still due).
enum class restart_mode { eager, lazy };

class registry_core {
public:
  /// `label` names the registry in logs ("inventory supervisor"); `child_kind` its children
  /// ("stock actor").
  registry_core(supervisor_stats stats, std::string label, std::string child_kind)
    : stats_(std::move(stats)), label_(std::move(label)), child_kind_(std::move(child_kind)) {}

  /// The live child of `key`; an invalid handle when there is none.
  caf::actor live(const std::string& key) const {
    auto i = children_.find(key);
    return i == children_.end() ? caf::actor{} : i->second;
  }

  /// Registers `child` as the one serving `key`.
  void add(const std::string& key, caf::actor child) {
    keys_[child.address()] = key;
    children_[key] = std::move(child);
    count();
  }

  /// Takes back a passivating child that still holds work (it stays known by its address, so
  /// only the key map needs it again). False if another child serves `key` already.
  bool take_back(const std::string& key, const caf::actor& child) {
    if (children_.count(key) > 0)
      return false;
    children_[key] = child;
    count();
    return true;
  }

  /// Spawns the child of `key` with `spawn(delay)` and registers it. A key whose child crashed
  /// recently gets its reload delay (see below), so a crash loop backs off.
  template <class Spawn>
  caf::actor spawn_reloading(const std::string& key, restart_tracker::time_point now,
                             const restart_limits& limits, Spawn spawn) {
    caf::actor child = spawn(reload_delay(key, now, limits));
    add(key, child);
    return child;
  }

  /// Forgets the live child of `key` and returns it (invalid if none): it gets no new work.
  caf::actor release(const std::string& key) {
    auto i = children_.find(key);
    if (i == children_.end())
      return {};
    auto child = std::move(i->second);
    children_.erase(i);
    count();
    return child;
  }

  /// How long a child restarted lazily waits before it reloads: nothing after a single crash,
  /// then doubling per recent crash (the same curve as restart_tracker's eager restarts).
  caf::timespan reload_delay(const std::string& key, restart_tracker::time_point now,
                             const restart_limits& limits) {
    auto t = trackers_.find(key);
    if (t == trackers_.end())
      return caf::timespan{0};
    auto recent = t->second.recent(now, limits);
    if (recent == 0) {
      trackers_.erase(t);
      return caf::timespan{0};
    }
    if (recent == 1)
      return caf::timespan{0};
    return std::min<caf::timespan>(limits.max_backoff,
                                   limits.first_backoff * (1 << (recent - 2)));
  }

  /// A monitored child stopped: forget it and, for a crash, consult its restart budget.
  /// Returns the child's key and the decision, or nothing when the child was not ours or
  /// stopped normally.
  std::optional<std::pair<std::string, restart_tracker::decision>>
  on_down(const caf::down_msg& msg, restart_tracker::time_point now,
          const restart_limits& limits) {
    auto key = keys_.find(msg.source);
    if (key == keys_.end())
      return std::nullopt;
    auto name = std::move(key->second);
    keys_.erase(key);
    if (auto i = children_.find(name); i != children_.end() && i->second.address() == msg.source)
      children_.erase(i);
    count();
    if (!msg.reason || msg.reason == caf::exit_reason::normal)
      return std::nullopt;
    // A child that could not reach the store (a database outage) did not fail by itself, and
    // restarting it cannot help until the database is back: an outage must not spend budgets
    // and take the supervision tree down. Retried at a steady pace instead.
    if (msg.reason.category() == caf::atom("orderd") && code_of(msg.reason) == errc::unavailable) {
      auto pace = std::min<std::chrono::milliseconds>(limits.max_backoff,
                                                      std::chrono::milliseconds{1000});
      return std::make_pair(name, restart_tracker::decision{false, pace, true});
    }
    return std::make_pair(name, trackers_[name].on_crash(now, limits));
  }

  /// The live children by key (read-only; tests and views inspect it).
  const std::unordered_map<std::string, caf::actor>& children() const noexcept {
    return children_;
  }

  /// Whether `who` was ever one of this incarnation's children.
  bool knows(const caf::actor_addr& who) const { return keys_.count(who) > 0; }

  template <class Self>
  void stop_children(Self* self, const caf::error& reason) const {
    for (auto& entry : children_)
      self->send_exit(entry.second, reason ? reason : caf::error{caf::exit_reason::user_shutdown});
  }

  /// On a cluster node: the children of keys whose shard this node stopped serving are let go
  /// (forgotten and told to passivate), so a shard that comes back is loaded afresh from the
  /// store. Checked every second once shed_with() named the link.
  void shed_with(std::shared_ptr<cluster_link> link) { cluster_ = std::move(link); }
  bool sheds() const noexcept { return cluster_ != nullptr; }

  template <class Self>
  void shed_unserved(Self* self) {
    if (!cluster_)
      return;
    auto& table = cluster_->shards();
    std::vector<std::string> gone;
    for (auto& entry : children_)
      if (!table.serving_epoch(table.shard_of(entry.first)))
        gone.push_back(entry.first);
    for (auto& key : gone)
      if (auto child = release(key))
        self->send(child, idle_atom_v);
    if (!gone.empty())
      spdlog::info("{}: let go of {} {}(s) of shards this node no longer serves", label_,
                   gone.size(), child_kind_);
  }

  supervisor_stats& stats() noexcept { return stats_; }
  const std::string& label() const noexcept { return label_; }
  const std::string& child_kind() const noexcept { return child_kind_; }

private:
  void count() { stats_.live_children = static_cast<int64_t>(children_.size()); }

  std::unordered_map<std::string, caf::actor> children_;
  std::unordered_map<caf::actor_addr, std::string> keys_;
  std::unordered_map<std::string, restart_tracker> trackers_;
  std::shared_ptr<cluster_link> cluster_;
  supervisor_stats stats_;
  std::string label_;
  std::string child_kind_;
};

/// A registry child's start-up: requests wait in the mailbox until `load()` has run, which
/// happens after `delay` (the backoff of a restarted child). `load` ends by calling
/// `serve(self, running)` or by quitting.
template <class Self, class Load>
caf::behavior load_after(Self* self, caf::timespan delay, Load load) {
  self->set_default_handler(caf::skip);
  if (delay.count() > 0)
    self->delayed_send(self, delay, load_atom_v);
  else
    self->send(self, load_atom_v);
  return {
    [load](load_atom) { load(); },
  };
}

/// A loaded child starts serving: from now on a message it does not understand is dropped.
template <class Self>
void serve(Self* self, caf::behavior running) {
  self->set_default_handler(caf::print_and_drop);
  self->become(std::move(running));
}

/// A child notes that it handled a request and makes sure an idle check is scheduled
/// (`self->state.idle` is its idle_watch).
template <class Self>
void note_activity(Self* self, caf::timespan idle_timeout) {
  auto& idle = self->state.idle;
  idle.touch(self->clock().now());
  if (idle.arm())
    self->delayed_send(self, idle_timeout, tick_atom_v);
}

/// A child's idle check fired. Idle for `idle_timeout` and not `busy`: it asks `registry` to
/// passivate it (asking first, so a message the registry already routed to it is not lost).
/// Otherwise it checks again later.
template <class Self>
void on_idle_tick(Self* self, caf::timespan idle_timeout, bool busy, const caf::actor& registry,
                  const std::string& key) {
  auto& idle = self->state.idle;
  auto wait = caf::timespan{idle.remaining(self->clock().now(), idle_timeout)};
  if (wait.count() > 0 || busy) {
    idle.arm();
    self->delayed_send(self, wait.count() > 0 ? wait : idle_timeout, tick_atom_v);
    return;
  }
  caf::anon_send(registry, idle_atom_v, key, self->address());
}

/// Installs what every keyed registry does on its own and its children's exits:
/// - it stops its children whenever it stops (its supervisor's exit message, or an exception
///   escaping a handler). Children are monitored rather than linked: CAF 0.17 removes a link by
///   scanning the parent's attachable list, so with tens of thousands of live order actors a
///   burst of passivations became quadratic and stalled the registry;
/// - a crashed child is counted against its budget; past the budget the registry escalates
///   (stops with its children); otherwise `restart(key, backoff)` runs for an eager registry,
///   and a lazy one lets the next message for the key bring the child back.
template <class Self, class Restart>
void supervise_children(Self* self, restart_limits limits, restart_mode mode, Restart restart) {
  self->set_exit_handler([self](caf::exit_msg& msg) {
    if (msg.reason) {
      self->state.core.stop_children(self, msg.reason);
      self->quit(msg.reason);
    }
  });
  self->set_exception_handler([self](caf::scheduled_actor*, std::exception_ptr& ep) {
    std::string what = "unknown exception";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& ex) {
      what = ex.what();
    } catch (...) {
    }
    caf::error reason = caf::make_error(caf::sec::runtime_error, what);
    self->state.core.stop_children(self, reason);
    return reason;
  });
  self->set_down_handler([self, limits, mode, restart](caf::down_msg& msg) {
    auto& core = self->state.core;
    auto crashed = core.on_down(msg, self->clock().now(), limits);
    if (!crashed)
      return;
    auto& [key, decision] = *crashed;
    if (decision.escalate) {
      ++core.stats().escalations;
      spdlog::error("{}: {} {} exceeded its restart budget; escalating", core.label(),
                    core.child_kind(), key);
      core.stop_children(self, caf::exit_reason::unhandled_exception);
      self->quit(caf::exit_reason::unhandled_exception);
      return;
    }
    ++core.stats().restarts;
    if (decision.dependency_down) {
      spdlog::warn("{}: {} {} stopped, the store is unavailable ({}); {}", core.label(),
                   core.child_kind(), key, caf::to_string(msg.reason),
                   mode == restart_mode::lazy ? std::string{"it reloads on next use"}
                                              : fmt::format("retrying in {} ms",
                                                            decision.backoff.count()));
      if (mode == restart_mode::eager)
        restart(key, caf::timespan{decision.backoff});
      return;
    }
    if (mode == restart_mode::lazy) {
      spdlog::warn("{}: {} {} crashed ({}); it reloads on next use", core.label(),
                   core.child_kind(), key, caf::to_string(msg.reason));
      return;
    }
    spdlog::warn("{}: {} {} crashed ({}); restarting in {} ms", core.label(), core.child_kind(),
                 key, caf::to_string(msg.reason), decision.backoff.count());
    restart(key, caf::timespan{decision.backoff});
  });
}

/// supervise_children for a lazy registry: the next request for a crashed child's key rebuilds
/// it from the store.
template <class Self>
void supervise_children_lazily(Self* self, restart_limits limits) {
  supervise_children(self, limits, restart_mode::lazy, [](const std::string&, caf::timespan) {});
}

/// The behaviour of a keyed registry: its own handlers first, then the ones every registry
/// answers alike. `child_for(key)` returns the live child of a key, spawning it if needed.
///   (idle_atom, key, addr)  a child asks to passivate: if it is the current child for its key,
///     it is forgotten and answered, so it may quit (anything routed to it before arrives first:
///     per-sender FIFO). A child left over from a previous incarnation of the registry is let
///     go too; a child replaced under its key meanwhile gets no answer.
///   (crash_atom, key)       fault injection in the child; (crash_atom) in the registry itself
///   (stats_atom)            the registry's counters
///   (tick_atom)             on a cluster node, every second: shed_unserved()
template <class Self, class ChildFor, class... Handlers>
caf::behavior keyed_registry(Self* self, ChildFor child_for, Handlers... own) {
  if (self->state.core.sheds())
    self->send(self, tick_atom_v);
  return {
    std::move(own)...,
    [self](idle_atom, const std::string& key, const caf::actor_addr& who) {
      auto& core = self->state.core;
      auto current = core.live(key);
      if (current && current.address() == who) {
        core.release(key);
        self->send(current, idle_atom_v);
      } else if (!core.knows(who)) {
        if (auto orphan = caf::actor_cast<caf::actor>(who))
          self->send(orphan, idle_atom_v);
      }
    },
    [self, child_for](crash_atom a, const std::string& key) {
      self->send(child_for(key), a, key);
    },
    [self](crash_atom) {
      spdlog::warn("fault injection: {} crashing on request", self->state.core.label());
      throw std::runtime_error("injected fault in " + self->state.core.label());
    },
    [self](stats_atom) { return std::vector<supervisor_stats>{self->state.core.stats()}; },
    [self](tick_atom) {
      auto& core = self->state.core;
      if (!core.sheds())
        return;
      core.shed_unserved(self);
      self->delayed_send(self, std::chrono::seconds{1}, tick_atom_v);
    },
  };
}

} // namespace orderd
