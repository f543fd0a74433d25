-- wrk script: GET /api/lookup at uniformly random points of the bench region.
-- The region comes from the environment (set by bench/bench_lookup.py).
local xmin = tonumber(os.getenv("BENCH_XMIN"))
local ymin = tonumber(os.getenv("BENCH_YMIN"))
local xmax = tonumber(os.getenv("BENCH_XMAX"))
local ymax = tonumber(os.getenv("BENCH_YMAX"))
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("seed", counter)
end

function init(args)
  math.randomseed(seed or 1)
end

function request()
  local lon = xmin + math.random() * (xmax - xmin)
  local lat = ymin + math.random() * (ymax - ymin)
  return wrk.format("GET", string.format("/api/lookup?lon=%.6f&lat=%.6f", lon, lat))
end
