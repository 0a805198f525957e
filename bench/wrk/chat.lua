-- wrk script for the closed-loop runs: POST /v1/chat/completions (non-stream) with a prompt that is
-- unique per request (thread, counter), and a JSON summary written to $WRK_OUT at the end.
-- Usage: WRK_OUT=out.json wrk -t1 -c10 -d10s -s bench/wrk/chat.lua URL -- MODEL [KEY]
local counter = 0
local model, key = "mock", nil
tid = 0 -- set per thread by setup()
local threads = {}

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  model = args[1] or model
  key = args[2]
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  if key and key ~= "" then
    wrk.headers["Authorization"] = "Bearer " .. key
  end
end

function request()
  counter = counter + 1
  local body = '{"model":"' .. model .. '","max_tokens":64,"messages":[{"role":"user","content":"req '
    .. tid .. "-" .. counter .. ' at ' .. os.time() .. ': say hello in one short sentence."}]}'
  return wrk.format(nil, nil, nil, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  local ok = summary.requests - e.status
  local secs = summary.duration / 1e6
  local function p(q) return latency:percentile(q) / 1000 end
  local out = string.format(
    '{"requests":%d,"ok":%d,"seconds":%.3f,"rps":%.3f,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},'
      .. '"latency_ms":{"mean":%.3f,"p50":%.3f,"p90":%.3f,"p95":%.3f,"p99":%.3f,"max":%.3f,"stdev":%.3f}}',
    summary.requests, ok, secs, ok / secs, e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean / 1000, p(50), p(90), p(95), p(99), latency.max / 1000, latency.stdev / 1000)
  local path = os.getenv("WRK_OUT")
  if path and path ~= "" then
    local f = assert(io.open(path, "w"))
    f:write(out)
    f:close()
  else
    io.write(out .. "\n")
  end
end
