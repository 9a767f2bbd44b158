-- P2: a fixed GET carrying the consumer's key (key-auth's default key name `apikey`).
dofile(os.getenv("BENCH_LUA_DIR") .. "/report.lua")
wrk.headers["apikey"] = os.getenv("BENCH_APIKEY")
