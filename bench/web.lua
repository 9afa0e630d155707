-- wrk script for bench/web.py: one-click unsubscribes and sign-ups in turn, each connection waiting a random
-- 0 to 2 x `pace` ms (BENCH_PACE_MS, set by bench/web.py) before each request, so the connections do not
-- fire together and the requests arrive spread out at about connections / pace a second; the answers are
-- counted by status so that the bench can compare them with the database afterwards.
local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

function init(args)
  tokens, n = {}, 0
  local count = tonumber(os.getenv("BENCH_THREADS"))
  local i = 0
  for line in io.lines(os.getenv("BENCH_TOKENS")) do
    if i % count == id - 1 then table.insert(tokens, line) end
    i = i + 1
  end
  pace = tonumber(os.getenv("BENCH_PACE_MS"))
  math.randomseed(os.time() * 100 + id)
  unsubscribed, signed_up, other = 0, 0, 0
end

function delay()
  return math.random(0, 2 * pace)
end

function request()
  n = n + 1
  if n % 2 == 0 and #tokens > 0 then
    local token = table.remove(tokens)
    return wrk.format("POST", "/unsubscribe/" .. token,
      {["Content-Type"] = "application/x-www-form-urlencoded"}, "List-Unsubscribe=One-Click")
  end
  local body = string.format('{"email": "new%d-%d@example.net", "name": "New Reader"}', id, n)
  return wrk.format("POST", "/api/subscribe", {["Content-Type"] = "application/json"}, body)
end

function response(status, headers, body)
  -- an unsubscribe is answered 200, a sign-up 202: anything else is an error
  if status == 200 then unsubscribed = unsubscribed + 1
  elseif status == 202 then signed_up = signed_up + 1
  else other = other + 1 end
end

function done(summary, latency, requests)
  local u, s, o = 0, 0, 0
  for _, t in ipairs(threads) do
    u = u + t:get("unsubscribed"); s = s + t:get("signed_up"); o = o + t:get("other")
  end
  io.write(string.format("JSON {\"requests\": %d, \"seconds\": %.3f, \"unsubscribed\": %d, \"signed_up\": %d, " ..
    "\"other\": %d, \"socket_errors\": %d, \"timeouts\": %d, \"p50\": %.3f, \"p90\": %.3f, \"p99\": %.3f, " ..
    "\"max\": %.3f}\n",
    summary.requests, summary.duration / 1e6, u, s, o,
    summary.errors.connect + summary.errors.read + summary.errors.write, summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000))
end
