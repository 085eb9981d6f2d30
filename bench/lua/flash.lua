-- Scenario 3, flash sale: every order asks for the same two SKUs (BENCH_FLASH_SKUS, comma
-- separated), cycling through {A:1}, {B:1}, {A:1, B:1}, all for customer "flash-sale" (so the
-- check afterwards can list exactly these orders). Counts 201s and 409s, and the units of each
-- SKU the 201s were granted (read back from the response body).
package.path = (debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "?.lua;" .. package.path
local bench = require("common")
bench.install("flash")

local bodies, n = {}, 0

function init(args)
  local skus = {}
  for s in string.gmatch(os.getenv("BENCH_FLASH_SKUS") or "FLASH-A,FLASH-B", "[^,]+") do
    skus[#skus + 1] = s
  end
  local a, b = skus[1], skus[2] or skus[1]
  local line = function(sku) return string.format('{"sku":"%s","quantity":1}', sku) end
  local body = function(items)
    return '{"customer_id":"flash-sale","customer_email":"flash@example.com","items":[' ..
           items .. ']}'
  end
  bodies = {body(line(a)), body(line(b))}
  if b ~= a then bodies[3] = body(line(a) .. "," .. line(b)) end
  n = bench_thread or 0
end

function request()
  n = n + 1
  return wrk.format("POST", "/api/v1/orders", bench.json_headers, bodies[(n % #bodies) + 1])
end

function response(status, headers, body)
  bench.count_status(status)
  if status == 201 then
    -- The items are the only objects nested in the order: {"sku":..,"quantity":..,...}.
    for item in body:gmatch("{[^{}]*}") do
      local sku = item:match('"sku"%s*:%s*"([^"]+)"')
      local q = tonumber(item:match('"quantity"%s*:%s*(%d+)'))
      if sku and q then bench.count("units:" .. sku, q) end
    end
  end
end
