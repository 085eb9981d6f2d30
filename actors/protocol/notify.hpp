#pragma once

// The notification interface: the notification supervisor, its channels and their transports.
// Local to a node.

#include <vector>

#include "actors/protocol/common.hpp"
#include "domain/notification.hpp"

namespace orderd {

// notification supervisor (actors/notifier.hpp; subscribes to the bus, owns the channels):
//   (event_atom, event_record)                    -> void        from the bus: write records, deliver
//   (notify_atom, notification)                   -> notification | errc   ad-hoc: the id, times
//                                                    and status are filled in; replied once durable
//
// notification channel (one per channel, under the notification supervisor):
//   (notify_atom, notification)                   -> void        deliver a durable PENDING record;
//                                                    past channel_queue_limit records in memory it
//                                                    is left PENDING in the store and read back
//                                                    when the queue runs empty
//   (retry_atom, notification)                    -> void        (to itself) a retry is due
//   (tick_atom)                                   -> void        (to itself) the breaker may allow
//
// notification transport (email, webhook, push; blocking ones run detached):
//   (deliver_atom, notification)                  -> bool | unavailable (why it failed)
//   (deliver_atom, std::vector<notification>)     -> std::vector<std::string>  one reason per
//                                                    notification, empty: delivered

} // namespace orderd

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orderd::notification_channel)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orderd::notification)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<orderd::notification>)
