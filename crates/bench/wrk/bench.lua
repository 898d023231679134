-- Requests for wrk, set by the environment the benchmark gives it:
--   BENCH_METHOD   GET or POST
--   BENCH_HEADERS  header lines, "Name: value" separated by "\n"
--   BENCH_BODY     the body of a POST
--   BENCH_PATHS    a file of paths, one a line, sent in turn: each wrk thread takes every
--                  n-th line from its own offset, so single-use paths are sent once
--   BENCH_ONCE     set: the paths are single use; once a thread has sent all of its own it
--                  sends GET /healthz instead of any path again
--   BENCH_PATH     the one path otherwise
local method = os.getenv("BENCH_METHOD") or "GET"
local once = os.getenv("BENCH_ONCE") ~= nil
local body = os.getenv("BENCH_BODY")
local headers = {}
for line in (os.getenv("BENCH_HEADERS") or ""):gmatch("[^\n]+") do
  local name, value = line:match("^([^:]+):%s*(.*)$")
  if name then headers[name] = value end
end

local threads = {}
local counter = 0

function setup(thread)
  thread:set("offset", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local file = os.getenv("BENCH_PATHS")
  paths = {}
  if file then
    local n = 0
    local step = tonumber(os.getenv("BENCH_THREADS") or "1")
    for line in io.lines(file) do
      if n % step == offset then paths[#paths + 1] = line end
      n = n + 1
    end
  else
    paths[1] = os.getenv("BENCH_PATH") or "/"
  end
  next_path = 1
  sent = 0
  prepared = {}
  if not file then
    prepared[1] = wrk.format(method, paths[1], headers, body)
  end
end

function request()
  if #prepared == 1 then return prepared[1] end
  if next_path > #paths then
    if once then return wrk.format("GET", "/healthz") end
    next_path = 1
  end
  local path = paths[next_path]
  next_path = next_path + 1
  if next_path - 1 > sent then sent = next_path - 1 end
  return wrk.format(method, path, headers, body)
end

function done(summary, latency, requests)
  for _, thread in ipairs(threads) do
    local sent = thread:get("sent") or 0
    io.write(string.format("bench-used %d %d\n", thread:get("offset"), sent))
  end
end
