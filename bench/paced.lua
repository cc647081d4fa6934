-- wrk script: each connection waits the given number of milliseconds between
-- requests (argument 1). A smoke run uses it so that its second per page goes
-- through the page's whole code path without keeping a worker busy throughout.

local pause = 0

function init(args)
  pause = tonumber(args[1])
end

function delay()
  return pause
end
