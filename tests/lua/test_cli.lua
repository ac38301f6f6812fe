-- The opdeck CLI driven from Lua, the way a Lua automation shells out to it
-- until the mlua binding lands: exit statuses and the text it prints.
local bin = os.getenv("OPDECK_BIN") or "target/debug/opdeck"
local passed, failed = 0, 0

local function run(args)
  local env = "OPDECK_CONFIG_DIR=$(mktemp -d) "
  local pipe = assert(io.popen(env .. bin .. " " .. args .. " 2>&1; echo \"exit=$?\""))
  local out = pipe:read("a")
  pipe:close()
  local code = tonumber(out:match("exit=(%d+)%s*$"))
  return out:gsub("exit=%d+%s*$", ""), code
end

local function check(name, ok, detail)
  if ok then
    passed = passed + 1
  else
    failed = failed + 1
    io.stderr:write("FAILED: " .. name .. "\n" .. (detail or "") .. "\n")
  end
end

local out, code = run("services")
check("services exits 0", code == 0, out)
for service, count in pairs({ seald = 109, dracoon = 297, selfprivacy = 48, wildduck = 106, kitsu = 853 }) do
  local listed = out:match("\n?" .. service .. "%s+(%d+)")
  check("services lists " .. service, tonumber(listed) == count, out)
end

out, code = run("ops --service selfprivacy")
local lines = 0
for _ in out:gmatch("[^\n]+") do lines = lines + 1 end
check("ops --service selfprivacy lists a header and 48 lines", code == 0 and lines == 49, out)
check("the listing has a header", out:find("^ID%s+METHOD%s+PATH") ~= nil, out)
check("the reboot route is listed", out:find("selfprivacy%.system%.getSystemReboot%s+GET%s+/system/reboot") ~= nil, out)

out, code = run("describe selfprivacy.system.getSystemRebot")
check("an unknown operation exits 3", code == 3, out)
check("a typo suggests the right id", out:find("selfprivacy.system.getSystemReboot", 1, true) ~= nil, out)

out, code = run("call selfprivacy.system.getSystemVersion --mock")
check("a simulated call exits 0", code == 0, out)
check("a simulated call says so", out:find("simulated", 1, true) ~= nil, out)

print(string.format("lua: %d passed, %d failed", passed, failed))
os.exit(failed == 0 and 0 or 1)
