-- wrk script of bench/fleet.sh: POST /api/v1/bench/debits (the wallet benchmark's debit route) with the bearer token of
-- a user picked at random from the tokens file and a fresh Idempotency-Key, a random UUID as an app sends it.
-- Usage: wrk ... -s bench/fleet-debits.lua <URL> -- <tokens file, one access token a line>
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("thread_number", threads)
end

function init(args)
  tokens = {}
  for line in io.lines(args[1]) do
    tokens[#tokens + 1] = line
  end
  -- Each thread its own sequence, each run its own (a repeated key would be replayed, not debited).
  math.randomseed(os.time() * 64 + thread_number)
end

local function uuid()
  local r = function() return math.random(0, 0xffff) end
  return string.format("%04x%04x-%04x-4%03x-%04x-%04x%04x%04x", r(), r(), r(), r() % 0x1000, 0x8000 + r() % 0x4000, r(), r(), r())
end

function request()
  return wrk.format("POST", "/api/v1/bench/debits", {
    ["Authorization"] = "Bearer " .. tokens[math.random(#tokens)],
    ["Idempotency-Key"] = uuid(),
  })
end
