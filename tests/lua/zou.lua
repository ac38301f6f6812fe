-- The live-Zou scenario from Lua: login, a project's create/read/update/
-- delete, paging, error cases. Run by tests/lua/run.sh through `require`
-- and embedded (`--allow-env` for the variables below).
--
-- Needs OPDECK_KITSU_URL/_USERNAME/_PASSWORD (`eval "$(tests/peers/zou.sh start)"`);
-- without them it fails under CI and skips elsewhere.
local opdeck = require("opdeck")
local where = opdeck.embedded and "embedded" or "module"
local url, username, password =
  os.getenv("OPDECK_KITSU_URL"), os.getenv("OPDECK_KITSU_USERNAME"), os.getenv("OPDECK_KITSU_PASSWORD")
local h = require("harness").new("lua-zou-" .. where)
local test, eq = h.test, h.eq

if not (url and username and password) then
  if os.getenv("CI") then
    h.fail("Zou is not available: OPDECK_KITSU_URL/_USERNAME/_PASSWORD are not set")
  else
    print("lua-zou: skipped: OPDECK_KITSU_URL/_USERNAME/_PASSWORD are not set")
  end
  return h.finish()
end

local deck = opdeck.new({
  base_urls = { kitsu = url },
  logins = { kitsu = { username = username, password = password } },
})
-- The former ids of the renamed Crud routes (kitsu.crud.getDataProjects is now
-- kitsu.projects.list) still resolve; errors name the current id.
local kitsu = deck.kitsu.crud
local prefix = ("opdeck-lua-%s-%d"):format(where, os.time() % 1000000)
local made = {}

local function closed_status()
  for _, s in ipairs(kitsu.getDataProjectStatus()) do
    if s.name == "Closed" then return s.id end
  end
end

local function cleanup()
  local closed = closed_status()
  for _, id in ipairs(made) do
    pcall(kitsu.putDataProjectsByInstanceId, { instance_id = id, body = { project_status_id = closed } })
    pcall(kitsu.deleteDataProjectsByInstanceId, { instance_id = id, force = true })
  end
end

test("login: the session is the configured user", function()
  local me = deck:call("kitsu.authentication.getAuthAuthenticated")
  eq(me.user.email, username, "email")
end)

local project
test("create and read a project", function()
  project = kitsu.postDataProjects({ body = { name = prefix .. "-a" } })
  made[#made + 1] = project.id
  eq(type(project.id), "string", "id")
  local read = kitsu.getDataProjectsByInstanceId({ instance_id = project.id })
  eq(read.name, prefix .. "-a", "name")
end)

test("an open project cannot be deleted: a status error", function()
  local ok, err = pcall(kitsu.deleteDataProjectsByInstanceId, { instance_id = project.id, force = true })
  eq(ok, false, "raised")
  eq(err.kind, "status", "kind")
  eq(err.status, 400, "status")
  eq(err.body.message, "Only closed projects can be deleted", "message")
  eq(err.operation, "kitsu.projects.delete", "operation")
end)

test("update: close the project", function()
  local closed = closed_status()
  local updated = kitsu.putDataProjectsByInstanceId({ instance_id = project.id, body = { project_status_id = closed } })
  eq(updated.project_status_id, closed, "status")
end)

test("paging: pages of two return every project once", function()
  for _, s in ipairs({ "b", "c" }) do
    made[#made + 1] = kitsu.postDataProjects({ body = { name = prefix .. "-" .. s } }).id
  end
  local seen, mine, total = {}, 0, 0
  for p in deck:paginate("kitsu.projects.list", { limit = 2 }) do
    if seen[p.id] then error("seen twice: " .. p.id) end
    seen[p.id] = true
    total = total + 1
    if p.name:sub(1, #prefix) == prefix then mine = mine + 1 end
  end
  eq(mine, 3, "ours")
  eq(total >= 3, true, "all")
end)

test("delete, then reading is a 404", function()
  kitsu.deleteDataProjectsByInstanceId({ instance_id = project.id, force = true })
  local ok, err = pcall(kitsu.getDataProjectsByInstanceId, { instance_id = project.id })
  eq(ok, false, "raised")
  eq(err.status, 404, "status")
end)

test("a wrong password is an auth error", function()
  local bad = opdeck.new({ base_urls = { kitsu = url }, logins = { kitsu = { username = username, password = "wrong-" .. prefix } } })
  local ok, err = pcall(bad.call, bad, "kitsu.authentication.getAuthAuthenticated")
  eq(ok, false, "raised")
  eq(err.kind == "auth" or err.kind == "status", true, "kind " .. tostring(err.kind))
  eq(tostring(err):find("wrong-" .. prefix, 1, true), nil, "the password in the message")
end)

cleanup()
h.finish()
