-- wrk script: POST /api/v1/orders with 1-3 lines over the SKUs listed in ORDERD_BENCH_SKUS
-- (comma-separated; default: the demo catalogue's well-stocked SKUs).
local skus = {}
for sku in string.gmatch(os.getenv("ORDERD_BENCH_SKUS") or
    "BOOK-001,BOOK-002,MUG-001,USB-C-1M,COFFEE-1K,TEE-100,CANDLE-01,TEE-M", "[^,]+") do
  skus[#skus + 1] = sku
end
local counter = 0

request = function()
  counter = counter + 1
  local n = (counter % 3) + 1
  local items = {}
  for i = 1, n do
    local sku = skus[((counter * 7 + i * 13) % #skus) + 1]
    items[#items + 1] = string.format('{"sku":"%s","quantity":1}', sku)
  end
  local body = string.format(
    '{"customer_id":"bench-%d","customer_email":"bench@example.com","items":[%s]}',
    counter % 1000, table.concat(items, ","))
  return wrk.format("POST", "/api/v1/orders", {["Content-Type"] = "application/json"}, body)
end

local statuses = {}
response = function(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

done = function(summary, latency, requests)
  io.write(string.format("p50 %.2f ms, p99 %.2f ms\n", latency:percentile(50) / 1000,
                         latency:percentile(99) / 1000))
end
