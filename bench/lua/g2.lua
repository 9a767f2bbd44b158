-- G2: spreads requests round-robin over the "host path" pairs in $BENCH_TARGETS (100 of the
-- 10,000 routes, written by bench/tools/prepare.py). Requests are formatted once in init().
dofile(os.getenv("BENCH_LUA_DIR") .. "/report.lua")
local reqs = {}
local n = 0
function init(args)
  for line in io.lines(os.getenv("BENCH_TARGETS")) do
    local host, path = line:match("^(%S+)%s+(%S+)")
    if host then
      reqs[#reqs + 1] = wrk.format("GET", path, { Host = host })
    end
  end
  if #reqs == 0 then error("no targets in " .. tostring(os.getenv("BENCH_TARGETS"))) end
end
function request()
  n = n % #reqs + 1
  return reqs[n]
end
