-- wrk script for benches/ingest.rs: each wrk thread replays its own file of pre-signed
-- deliveries ("<signature>\t<body>" per line), in order, wrapping around at the end.
local threads = 0
function setup(thread)
  thread:set("id", threads)
  threads = threads + 1
end

local requests, count, at = {}, 0, 0
function init(args)
  for line in io.lines(args[1] .. "." .. id) do
    local tab = line:find("\t", 1, true)
    count = count + 1
    requests[count] = wrk.format("POST", nil, {
      ["content-type"] = "application/json",
      ["x-pilot-status-signature"] = line:sub(1, tab - 1),
    }, line:sub(tab + 1))
  end
end

function request()
  at = at % count + 1
  return requests[at]
end
