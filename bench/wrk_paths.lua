-- wrk script: GET paths picked at random from a file (one per line), each prefixed with the
-- server's API root. The file and prefix come from the environment (bench/bench_features.py),
-- so both servers get the same requests.
local paths = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("seed", counter)
end

function init(args)
  math.randomseed(seed or 1)
  local prefix = os.getenv("BENCH_PREFIX") or ""
  for line in io.lines(os.getenv("BENCH_PATHS")) do
    paths[#paths + 1] = prefix .. line
  end
end

function request()
  return wrk.format("GET", paths[math.random(#paths)])
end
