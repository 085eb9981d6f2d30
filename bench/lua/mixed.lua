-- Scenario 5, mixed: 70% GET /api/v1/orders/{id} of random existing orders, 25% new orders
-- (as in scenario 2), 5% cancels. Cancels walk the ids of scenario 2 from the newest backwards,
-- so each order is cancelled at most once (while ids last: repeats would be 409s).
package.path = (debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "?.lua;" .. package.path
local bench = require("common")
bench.install("mixed")

local ids, nskus, next_cancel, stride = {}, 0, 0, 1

function init(args)
  bench.seed()
  nskus = bench.sku_count()
  ids = bench.read_ids()
  if #ids == 0 then ids[1] = "no-orders-were-created" end
  -- Threads (BENCH_THREADS, wrk -t) take disjoint stripes of the ids for their cancels.
  stride = tonumber(os.getenv("BENCH_THREADS") or "1")
  next_cancel = #ids - ((bench_thread or 1) - 1)
end

function request()
  local r = math.random()
  if r < 0.70 then
    bench.count("reads")
    return wrk.format("GET", "/api/v1/orders/" .. ids[math.random(1, #ids)])
  elseif r < 0.95 then
    bench.count("creates")
    return wrk.format("POST", "/api/v1/orders", bench.json_headers, bench.order_body(nskus))
  end
  bench.count("cancels")
  local id = ids[((next_cancel - 1) % #ids) + 1]
  next_cancel = next_cancel - stride
  return wrk.format("POST", "/api/v1/orders/" .. id .. "/cancel")
end

function response(status, headers, body)
  bench.count_status(status)
end
