-- One fixed GET request with `Connection: close`: the server closes after each response and wrk opens a new
-- connection (over TLS, a new handshake) for the next one, so requests/s is connections/s.
wrk.headers["Connection"] = "close"
dofile(os.getenv("BENCH_LUA_DIR") .. "/report.lua")
