-- wrk script: each request decides the next pending approval, as one of the
-- logged-in reviewers in turn, with the plain form POST; redirects are not
-- followed. Argument: a file of lines "<approval id> <cookie header> <csrf token>".
-- The line it writes at the answer to the last approval is the end of the
-- measurement: wrk itself always runs for its whole duration.

local items, next_item, first_call, answered, redirects, others = {}, 1, true, 0, 0, 0

function init(args)
  for line in io.lines(args[1]) do
    local id, cookie, token = line:match("^(%S+) (.+) (%S+)$")
    items[#items + 1] = { id = id, cookie = cookie, token = token }
  end
end

function delay()
  -- All handed out: send nothing more.
  if next_item > #items then return 600000 end
  return 0
end

function request()
  -- wrk builds one request per thread before connecting that it may never
  -- send: that one asks for /healthz, so that no approval is left out.
  if first_call or next_item > #items then
    first_call = false
    return wrk.format("GET", "/healthz")
  end
  local item = items[next_item]
  next_item = next_item + 1
  return wrk.format("POST", "/approvals/" .. item.id .. "/decide/", {
    ["Cookie"] = item.cookie,
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }, "decision=approved&notes=ok&csrfmiddlewaretoken=" .. item.token)
end

function response(status, headers, body)
  if status == 200 then return end  -- /healthz; a decision never answers 200 without htmx
  answered = answered + 1
  if status == 303 then redirects = redirects + 1 else others = others + 1 end
  if answered == #items then
    io.write(string.format("decided %d, 303: %d, other: %d\n", #items, redirects, others))
    io.stdout:flush()
    wrk.thread:stop()
  end
end
