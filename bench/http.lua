-- wrk script of bench/http.sh: every request as a random signed-in user, on a random page.
--
--   wrk -t2 -c8 -d60s -s bench/http.lua http://127.0.0.1:PORT -- SESSIONS PATH LABEL
--
-- SESSIONS: a file of `<HTTP header>\t<pages>` lines (bench/http_sessions.py writes them);
-- PATH: the path to ask for, where "%d" becomes a random page between 1 and that user's
-- page count (e.g. "/leads/?page=%d"); LABEL: the name printed in the result line.
-- done() prints one line: "RESULT <label> <requests/s> <p50 ms> <p95 ms> <p99 ms> <requests>
-- <socket errors> <non-2xx>", then the count of each status.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

function init(args)
  names, values, pages = {}, {}, {}
  for line in io.lines(args[1]) do
    local name, value, count = line:match("^([^:]+): ([^\t]+)\t(%d+)$")
    if name then
      table.insert(names, name)
      table.insert(values, value)
      table.insert(pages, tonumber(count))
    end
  end
  assert(#names > 0, "no session in " .. args[1])
  path = args[2]
  paged = path:find("%%d") ~= nil
  label = args[3] or path
  statuses = {}
  math.randomseed(os.time() * 100 + id)
end

function request()
  local i = math.random(#names)
  local target = path
  if paged then
    target = string.format(path, math.random(pages[i]))
  end
  return wrk.format("GET", target, { [names[i]] = values[i] })
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local counts = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do
      counts[status] = (counts[status] or 0) + n
    end
  end
  local non2xx = 0
  local listed = {}
  for status, n in pairs(counts) do
    if status < 200 or status > 299 then
      non2xx = non2xx + n
    end
    table.insert(listed, status .. "=" .. n)
  end
  table.sort(listed)
  local e = summary.errors
  local errors = e.connect + e.read + e.write + e.timeout
  io.write(string.format(
    "RESULT %s %.1f %.1f %.1f %.1f %d %d %d\n",
    threads[1]:get("label"),
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000,
    latency:percentile(95) / 1000,
    latency:percentile(99) / 1000,
    summary.requests,
    errors,
    non2xx
  ))
  io.write("statuses: " .. table.concat(listed, " ") .. "\n")
end
