-- wrk script of the benchmarks that load our API and the Django peer alike: one request, with the bearer token of a
-- user picked at random from a tokens file, and for a POST a fresh Idempotency-Key (a random UUID, as an app sends it;
-- a repeated key would be replayed, not run again) and an optional JSON body.
-- Usage: wrk ... -s bench/requests.lua <base URL> -- <tokens file, one access token a line, or -> <method> <path> [JSON body]
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("thread_number", threads)
end

function init(args)
  tokens = {}
  if args[1] ~= "-" then
    for line in io.lines(args[1]) do
      tokens[#tokens + 1] = line
    end
  end
  method, path, body = args[2], args[3], args[4]
  -- Each thread its own sequence, each run its own.
  math.randomseed(os.time() * 64 + thread_number)
end

local function uuid()
  local r = function() return math.random(0, 0xffff) end
  return string.format("%04x%04x-%04x-4%03x-%04x-%04x%04x%04x", r(), r(), r(), r() % 0x1000, 0x8000 + r() % 0x4000, r(), r(), r())
end

function request()
  local headers = {}
  if #tokens > 0 then
    headers["Authorization"] = "Bearer " .. tokens[math.random(#tokens)]
  end
  if method == "POST" then
    headers["Idempotency-Key"] = uuid()
  end
  if body then
    headers["Content-Type"] = "application/json"
  end
  return wrk.format(method, path, headers, body)
end
