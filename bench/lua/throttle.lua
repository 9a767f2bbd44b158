-- Soak: the scenario's own script ($BENCH_BASE_SCRIPT, e.g. static.lua or g2.lua), throttled.
-- wrk (not wrk2) has no rate option, but its delay() hook holds each connection for N ms after a
-- response before the next request, so the rate is about connections * 1000 / (delay + latency).
-- BENCH_DELAY_MS may be fractional: each delay is the floor or the ceiling, at random, so the mean
-- is exact. bench/lib/soak.sh re-aims the delay after every segment from the achieved rate.
dofile(os.getenv("BENCH_LUA_DIR") .. "/" .. (os.getenv("BENCH_BASE_SCRIPT") or "static.lua"))
local base = tonumber(os.getenv("BENCH_DELAY_MS") or "0")
local whole = math.floor(base)
local frac = base - whole
function delay()
  if math.random() < frac then return whole + 1 end
  return whole
end
