-- The Lua API, run twice by tests/lua/run.sh: by a stock lua5.4 through a real
-- `require "opdeck"` (package.cpath at the built module), and embedded by
-- `opdeck run tests/lua/api.lua --allow-env OPDECK_ECHO_URL`.
--
-- Exact requests go to tests/lua/echo_server.py (OPDECK_ECHO_URL), which
-- answers with the request it got; everything else runs on the simulator.
local opdeck = require("opdeck")
local where = opdeck.embedded and "embedded" or "module"
local h = require("harness").new("lua-" .. where)
local test, eq, has, raises = h.test, h.eq, h.has, h.raises

local deck = opdeck.new({ mock = true })

test("null, array and object markers", function()
  eq(type(opdeck.null), "userdata", "null")
  eq(opdeck.null, opdeck.null, "null is itself")
  eq(type(opdeck.array({})), "table", "array")
  eq(#opdeck.array({ 1, 2 }), 2, "array keeps items")
  eq(next(opdeck.object()), nil, "object() is empty")
end)

test("call returns tables", function()
  local users = deck:call("wildduck.users.getUsers", { query = "ann" })
  eq(type(users), "table")
  eq(type(users.success), "boolean", "success")
  eq(type(users.results), "table", "results")
end)

test("service proxies call by id", function()
  local users = deck.wildduck.users.getUsers({ query = "ann" })
  eq(type(users.results), "table", "results")
  eq(deck.wildduck.users.getUsers, deck.wildduck.users.getUsers, "proxies are cached")
end)

test("call_full has status, headers and body", function()
  local out = deck:call_full("wildduck.users.getUsers", { query = "ann" })
  eq(out.status, 200, "status")
  eq(type(out.headers), "table", "headers")
  eq(type(out.body.results), "table", "body")
end)

test("a validation error is a table with violations", function()
  local err = raises(deck.call, deck, "wildduck.users.getUser", { user = "x" })
  eq(err.kind, "validation", "kind")
  eq(err.operation, "wildduck.users.getUser", "operation")
  eq(#err.violations >= 2, true, "violations listed")
  eq(type(err.violations[1].message), "string", "violation message")
  has(tostring(err), "invalid input for `wildduck.users.getUser`", "__tostring")
  eq(opdeck.is_error(err), true, "is_error")
end)

test("an unknown id is not_found with suggestions", function()
  local err = raises(deck.call, deck, "wildduck.users.getUserz", {})
  eq(err.kind, "not_found", "kind")
  eq(err.suggestions[1], "wildduck.users.getUser", "suggestion")
end)

test("a bad argument is a usage error", function()
  local err = raises(deck.call, deck, "wildduck.users.getUsers", { query = print })
  eq(err.kind, "usage", "kind")
  has(err.message, "/query", "path of the bad value")
end)

test("ops, services and describe", function()
  local ops = deck:ops("create user", { service = "wildduck" })
  eq(#ops > 0, true, "found")
  eq(ops[1].service, "wildduck", "service")
  local services = deck:services()
  eq(#services >= 5, true, "services")
  local d = deck:describe("wildduck.users.getUsers")
  eq(d.method, "GET", "method")
  eq(type(d.input_schema), "table", "input schema")
end)

test("prepare is a dry run with secrets redacted", function()
  local d = opdeck.new({ base_urls = { wildduck = "http://127.0.0.1:9" }, tokens = { wildduck = "s3cret-token" } })
  local req = d:prepare("wildduck.users.getUsers", { query = "ann" })
  eq(req.method, "GET", "method")
  has(req.url, "query=ann", "url")
  has(req.curl, "curl", "curl")
  eq(req.curl:find("s3cret-token", 1, true), nil, "token in curl")
  for _, h in ipairs(req.headers) do eq(h[2]:find("s3cret", 1, true), nil, "token in " .. h[1]) end
end)

test("prepare redacts secret body fields and invents no credential", function()
  local d = opdeck.new({ base_urls = { wildduck = "http://127.0.0.1:9" } })
  local req = d:prepare("wildduck.users.createUser", { body = { username = "ann", password = "pw-SECRET-2" } })
  eq(req.curl:find("pw-SECRET-2", 1, true), nil, "password in curl")
  eq(req.body:find("pw-SECRET-2", 1, true), nil, "password in body")
  has(req.body, '"password":"<redacted>"', "body")
  for _, h in ipairs(req.headers) do eq(h[1] == "X-Access-Token", false, "no token is configured") end
end)

test("paginate iterates items", function()
  local n = 0
  for item in deck:paginate("wildduck.users.getUsers", {}, { max_items = 3 }) do
    eq(type(item), "table", "item")
    n = n + 1
  end
  eq(n >= 1 and n <= 3, true, "item count " .. n)
end)

test("parallel: 1,000 calls in order, failures as values", function()
  local calls = {}
  for i = 1, 1000 do
    if i == 500 then
      calls[i] = { "wildduck.users.getUser", { nope = true } }
    else
      calls[i] = { "wildduck.users.getUsers", { query = "u" .. i } }
    end
  end
  local results = deck:parallel(calls, 64)
  eq(#results, 1000, "results")
  eq(type(results[1].results), "table", "first")
  eq(opdeck.is_error(results[500]), true, "500th is an error")
  eq(results[500].kind, "validation", "its kind")
  eq(type(results[1000].results), "table", "last")
end)

test("parallel: a bad call is a usage error that names it", function()
  local ok_call = { "wildduck.users.getUsers", {} }
  local err = raises(deck.parallel, deck, { ok_call, { "wildduck.users.getUsers", { query = print } } }, 2)
  eq(err.kind, "usage", "kind")
  has(err.message, "/query in call 2 of deck:parallel", "the call and the path")
  err = raises(deck.parallel, deck, { ok_call, ok_call, { 42, {} } }, 2)
  has(err.message, "call 3 has no operation id", "a missing id")
end)

test("operation: a Lua function as an operation", function()
  local d = opdeck.new({ mock = true })
  d:operation("myapp.users.sync", {
    type = "object",
    properties = { n = { type = "integer" } },
    required = { "n" },
  }, function(input)
    return { double = input.n * 2, seen = opdeck.array({}) }
  end)
  local out = d:call("myapp.users.sync", { n = 21 })
  eq(out.double, 42, "answer")
  eq(getmetatable(out.seen), getmetatable(opdeck.array({})), "array survives")
  eq(raises(d.call, d, "myapp.users.sync", {}).kind, "validation", "validated")
  d:operation("myapp.users.fail", function() error("no such user") end)
  local err = raises(d.call, d, "myapp.users.fail", {})
  has(err.message, "no such user", "the Lua error")
  -- A Lua operation reached through parallel, next to a simulated call.
  local both = d:parallel({ { "myapp.users.sync", { n = 1 } }, { "wildduck.users.getUsers", {} } }, 2)
  eq(both[1].double, 2, "plugin in parallel")
  eq(type(both[2].results), "table", "simulated in parallel")
end)

if opdeck.embedded then
  test("parallel runs functions as coroutines", function()
    local fns = {}
    for i = 1, 20 do
      fns[i] = function()
        local a = deck:call("wildduck.users.getUsers", { query = "a" .. i })
        local b = deck.wildduck.users.getUsers({ query = "b" .. i })
        return { i = i, ok = type(a.results) == "table" and type(b.results) == "table" }
      end
    end
    fns[21] = function() error("boom") end
    local results = deck:parallel(fns, 8)
    eq(#results, 21, "results")
    eq(results[7].i, 7, "in order")
    eq(results[20].ok, true, "calls inside")
    eq(results[21].kind, "script", "a raised error is a value")
  end)

  test("calls inside a coroutine of the script's own block", function()
    local gen = coroutine.wrap(function()
      for i = 1, 3 do coroutine.yield(type(deck:call("wildduck.users.getUsers", { query = "c" .. i }).results) == "table") end
    end)
    eq(gen(), true, "first")
    eq(gen(), true, "second")
  end)
end

-- ---- exact requests on the loopback echo server ----------------------------
local echo_url = os.getenv("OPDECK_ECHO_URL")
local ECHO_SPEC = [[
{"openapi": "3.0.3", "info": {"title": "echo", "version": "1"},
 "paths": {
  "/users/{id}": {"get": {"operationId": "getUser", "tags": ["users"], "parameters": [
      {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}},
      {"name": "limit", "in": "query", "schema": {"type": "integer"}},
      {"name": "tag", "in": "query", "schema": {"type": "array", "items": {"type": "string"}}},
      {"name": "X-Trace", "in": "header", "schema": {"type": "string"}}],
    "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"type": "object"}}}}}}},
  "/mirror": {"post": {"operationId": "mirror", "tags": ["users"],
    "requestBody": {"required": true, "content": {"application/json": {"schema": {}}}},
    "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {}}}}}}},
  "/status/{code}": {"get": {"operationId": "failWith", "tags": ["users"], "parameters": [
      {"name": "code", "in": "path", "required": true, "schema": {"type": "integer"}}],
    "responses": {"200": {"description": "ok"}}}},
  "/empty": {"delete": {"operationId": "empty", "tags": ["users"], "responses": {"204": {"description": "none"}}}},
  "/broken": {"get": {"operationId": "broken", "tags": ["users"],
    "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {}}}}}}}
 }}
]]

if not echo_url then
  if os.getenv("CI") then
    h.fail("OPDECK_ECHO_URL is not set (tests/lua/run.sh starts the echo server)")
  else
    print("lua: skipping the echo tests: OPDECK_ECHO_URL is not set")
  end
else
  local echo = opdeck.new({})
  local ids = {}
  test("add_source from document text", function()
    local added = echo:add_source("echo", ECHO_SPEC, { base_url = echo_url })
    eq(#added, 5, "operations added")
    for _, op in ipairs(echo:ops("", { service = "echo" })) do ids[op.method .. " " .. op.path] = op.id end
    eq(type(ids["GET /users/{id}"]), "string", "getUser id")
  end)

  test("exact request: path, query, header", function()
    local got = echo:call(ids["GET /users/{id}"], { id = "a b", limit = 5, tag = { "x", "y" }, ["X-Trace"] = "t-1" })
    eq(got.method, "GET", "method")
    eq(got.path, "/users/a%20b", "path")
    eq(got.query, "limit=5&tag=x&tag=y", "query")
    eq(got.headers["x-trace"], "t-1", "header")
    local function order(walk)
      local keys = {}
      for k in walk(got) do keys[#keys + 1] = k end
      return table.concat(keys, ",")
    end
    eq(order(opdeck.pairs), "method,path,query,headers,body", "the server's key order, by opdeck.pairs")
    -- Lua 5.1 and LuaJIT ignore `__pairs`: there only opdeck.pairs keeps it.
    if _VERSION ~= "Lua 5.1" then eq(order(pairs), "method,path,query,headers,body", "the server's key order") end
    local plain = {}
    for k, v in opdeck.pairs({ a = 1 }) do plain[#plain + 1] = k .. "=" .. v end
    eq(table.concat(plain, ","), "a=1", "opdeck.pairs walks any table")
  end)

  test("null, empty array and empty object round-trip over the wire", function()
    local sent = { none = opdeck.null, list = opdeck.array({}), obj = opdeck.object({}), nested = { 1, opdeck.null, 3 } }
    local back = echo:call(ids["POST /mirror"], { body = sent })
    eq(back.none, opdeck.null, "null")
    eq(#back.list, 0, "empty array")
    eq(next(back.obj), nil, "empty object")
    eq(back.nested[2], opdeck.null, "null inside an array")
    eq(#back.nested, 3, "array length")
    -- Sent again, the decoded value is the same JSON: markers survive.
    local again = echo:call_full(ids["POST /mirror"], { body = back })
    eq(getmetatable(again.body.list), getmetatable(opdeck.array({})), "array marker")
    eq(getmetatable(again.body.obj) ~= getmetatable(opdeck.array({})), true, "object marker")
    local raw = echo:call(ids["GET /users/{id}"], { id = "x" })
    eq(raw.body, "", "GET sends no body")
  end)

  test("the body goes out as JSON", function()
    local d = opdeck.new({})
    d:add_source("echo2", (ECHO_SPEC:gsub('"/mirror"', '"/echo-body"')), { base_url = echo_url })
    local id
    for _, op in ipairs(d:ops("", { service = "echo2" })) do if op.method == "POST" then id = op.id end end
    local got = d:call(id, { body = { list = opdeck.array({}), obj = opdeck.object({}), none = opdeck.null } })
    eq(got.method, "POST", "method")
    eq(got.headers["content-type"], "application/json", "content type")
    has(got.body, '"list":[]', "empty array on the wire")
    has(got.body, '"obj":{}', "empty object on the wire")
    has(got.body, '"none":null', "null on the wire")
  end)

  test("a status error carries status, body and operation", function()
    local err = raises(echo.call, echo, ids["GET /status/{code}"], { code = 404 })
    eq(err.kind, "status", "kind")
    eq(err.status, 404, "status")
    eq(err.operation, ids["GET /status/{code}"], "operation")
    eq(err.body.path, "/status/404", "decoded body")
  end)

  test("a JSON answer that does not parse is a decode error, escapes are read back", function()
    local id = ids["GET /broken"]
    for _, call in ipairs({ echo.call, echo.call_full }) do
      local err = raises(call, echo, id, {})
      eq(err.kind, "decode", "kind")
      eq(err.operation, id, "operation")
      has(err.message, "invalid json", "message")
    end
    local mirror = ids["POST /mirror"]
    local results = echo:parallel({
      { id, {} }, { ids["DELETE /empty"], {} }, { mirror, { body = { a = 1 } } }, { id, {} }, { mirror, { body = { b = 2 } } },
    }, 5)
    eq(#results, 5, "every slot")
    eq(results[1].kind, "decode", "a failed slot of parallel")
    eq(results[1].operation, id, "its operation")
    eq(results[2], opdeck.null, "an empty slot of parallel")
    eq(results[3].a, 1, "a JSON slot")
    eq(results[4].kind, "decode", "another failed slot")
    eq(results[5].b, 2, "the JSON slot after it")
    local text = 'q"uote \\ tab\t é ☃'
    local back = echo:call(ids["POST /mirror"], { body = { s = text, [text] = 1 } })
    eq(back.s, text, "escaped string")
    eq(back[text], 1, "escaped key")
  end)

  test("an empty answer is nil", function()
    eq(echo:call(ids["DELETE /empty"], {}), nil, "body")
    eq(echo:call_full(ids["DELETE /empty"], {}).status, 204, "status")
  end)

  test("a transport error", function()
    local d = opdeck.new({})
    d:add_source("gone", ECHO_SPEC, { base_url = "http://127.0.0.1:9" })
    local id
    for _, op in ipairs(d:ops("", { service = "gone" })) do if op.method == "DELETE" then id = op.id end end
    local err = raises(d.call, d, id, {})
    eq(err.kind, "transport", "kind")
  end)
end

h.finish()
