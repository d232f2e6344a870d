-- wrk script for the read/write mix of bench_api.py: cycles through a request file whose lines are
-- "GET<TAB>PATH" or "POST<TAB>PATH<TAB>JSON BODY" (the file fixes the share of writes, e.g. 5 in 100).
-- Prints the same machine-readable line as ../shared/bench/report.lua (latencies in microseconds).
local reqs = {}
local idx = 0
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
end

function init(args)
  -- wrk.format does not merge wrk.headers (Host, -H) into a table of its own: copy them
  local get_headers = {}
  local post_headers = {}
  for k, v in pairs(wrk.headers) do
    get_headers[k] = v
    post_headers[k] = v
  end
  post_headers["Content-Type"] = "application/json"
  for line in io.lines(args[1]) do
    local method, rest = line:match("^(%u+)\t(.*)$")
    if method == "GET" then
      table.insert(reqs, wrk.format("GET", rest, get_headers))
    elseif method == "POST" then
      local path, body = rest:match("^([^\t]*)\t(.*)$")
      table.insert(reqs, wrk.format("POST", path, post_headers, body))
    end
  end
  -- each wrk thread starts at a different offset, so two threads never send the same body
  idx = ((tid or 1) - 1) * math.floor(#reqs / 8)
end

function request()
  idx = idx % #reqs + 1
  return reqs[idx]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRKRESULT requests=%d duration_us=%d bytes=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d mean_us=%.0f err_connect=%d err_read=%d err_write=%d err_status=%d err_timeout=%d\n",
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    e.connect, e.read, e.write, e.status, e.timeout))
end
