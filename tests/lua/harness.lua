-- The one test harness of the Lua API tests (api.lua, zou.lua), loaded by
-- `require "harness"`: from the module runs through LUA_PATH, embedded
-- beside the script (`opdeck run --allow-read`).
--
--   local t = require("harness").new("lua-" .. where)
--   t.test("name", function() t.eq(got, want, "what") end)
--   t.finish()  -- prints the tally; fails the run when a test failed
local M = {}

function M.new(label)
  local h = { passed = 0, failed = 0 }

  function h.test(name, fn)
    local ok, err = pcall(fn)
    if ok then
      h.passed = h.passed + 1
    else
      h.failed = h.failed + 1
      print(("FAILED [%s] %s: %s"):format(label, name, tostring(err)))
    end
  end

  -- A failure outside any test (a missing peer under CI).
  function h.fail(message)
    h.failed = h.failed + 1
    print(("FAILED [%s] %s"):format(label, message))
  end

  function h.eq(got, want, what)
    if got ~= want then
      error(("%s: got %s, want %s"):format(what or "value", tostring(got), tostring(want)), 2)
    end
  end

  function h.has(text, part, what)
    if type(text) ~= "string" or not text:find(part, 1, true) then
      error(("%s: %q does not contain %q"):format(what or "text", tostring(text), part), 2)
    end
  end

  function h.raises(fn, ...)
    local ok, err = pcall(fn, ...)
    if ok then error("expected an error", 2) end
    return err
  end

  function h.finish()
    print(("%s: %d passed, %d failed"):format(label, h.passed, h.failed))
    -- The sandbox has no os.exit: an error ends an embedded run non-zero.
    if h.failed > 0 then
      if os.exit then os.exit(1) end
      error(h.failed .. " failed", 0)
    end
  end

  return h
end

return M
