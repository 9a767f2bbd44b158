-- One fixed GET request (wrk keeps its static fast path: no request() function).
dofile(os.getenv("BENCH_LUA_DIR") .. "/report.lua")
