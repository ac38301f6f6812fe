-- The Lua side of the `lua` bench (cli/benches/lua.rs), run through a real
-- `require "opdeck"` by a stock lua5.4 and embedded by the bench itself.
-- Each round: `n` sequential calls, then `n` calls through deck:parallel at
-- `limit`, each phase fenced by a call to /mark, whose arrival the bench's
-- server timestamps, so Lua's start-up and the spec's loading are not timed.
local opdeck = require("opdeck")
local a = args or {}
local url = a.url or os.getenv("OPDECK_BENCH_URL")
local n = tonumber(a.n or os.getenv("OPDECK_BENCH_N") or 1000)
local rounds = tonumber(a.rounds or os.getenv("OPDECK_BENCH_ROUNDS") or 5)
local limit = tonumber(a.limit or os.getenv("OPDECK_BENCH_LIMIT") or 64)
local spec = a.spec or os.getenv("OPDECK_BENCH_SPEC")

local deck = opdeck.new({})
local ids = {}
for _, id in ipairs(deck:add_source("bench", spec, { base_url = url })) do ids[id:match("[^.]+$")] = id end
local list, mark = assert(ids.list, "no list operation"), assert(ids.mark, "no mark operation")

for i = 1, 200 do deck:call(list, { user = "u1", limit = 20, page = i }) end
for _ = 1, rounds do
  deck:call(mark, {})
  for i = 1, n do deck:call(list, { user = "u1", limit = 20, page = i }) end
  deck:call(mark, {})
  local calls = {}
  for i = 1, n do calls[i] = { list, { user = "u1", limit = 20, page = i } } end
  local results = deck:parallel(calls, limit)
  deck:call(mark, {})
  assert(#results == n and results[n].success, "parallel results")
end
