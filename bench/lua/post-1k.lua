-- WB: a fixed POST with a 1 KiB lower-case body (bench-body upper-cases it; length unchanged).
dofile(os.getenv("BENCH_LUA_DIR") .. "/report.lua")
wrk.method = "POST"
wrk.body = string.rep("abcdefghijklmnop", 64)
wrk.headers["Content-Type"] = "text/plain"
