-- The Lua half of the binding: the module table and the deck's methods.
-- Each method forwards to one native (deck.rs) and raises the error table
-- the native hands back. Embedded, a call made from a thread the executor
-- drives awaits on it (so `deck:parallel` and coroutines overlap); any
-- other call blocks.
local native, threads = ...
local error, setmetatable, rawget, rawset, type, select = error, setmetatable, rawget, rawset, type, select
local running = coroutine.running

local function raise(ok, value)
  if ok then return value end
  error(value, 0)
end

-- The native to use: the async twin inside an executor-driven thread.
local function pick(name)
  local sync, async = native[name], native[name .. "_async"]
  if not (threads and async) then return sync end
  return function(...)
    if threads[running()] then return async(...) end
    return sync(...)
  end
end

local call, call_full, parallel = pick("call"), pick("call_full"), pick("parallel")
local HANDLE = setmetatable({}, { __name = "opdeck.handle" })

local M = {
  null = native.null,
  array = native.array,
  object = native.object,
  pairs = native.pairs,
  is_error = native.is_error,
}

local methods = {}
local Deck = { __name = "opdeck.Deck" }

local function wrap(handle)
  return setmetatable({ [HANDLE] = handle }, Deck)
end

--- opdeck.new{ profile=, base_urls={svc=url}, tokens={svc=tok}, logins={svc={username=, password=}}, mock=, read_only= }
function M.new(opts)
  return wrap(raise(native.new(opts)))
end

function methods:call(id, input) return raise(call(self[HANDLE], id, input)) end
function methods:call_full(id, input) return raise(call_full(self[HANDLE], id, input)) end
function methods:parallel(calls, limit) return raise(parallel(self[HANDLE], calls, limit)) end
function methods:ops(query, filter) return raise(native.ops(self[HANDLE], query, filter)) end
function methods:services() return raise(native.services(self[HANDLE])) end
function methods:describe(id) return raise(native.describe(self[HANDLE], id)) end
function methods:prepare(id, input) return raise(native.prepare(self[HANDLE], id, input)) end
function methods:add_source(name, spec, opts) return raise(native.add_source(self[HANDLE], name, spec, opts)) end
function methods:operation(id, schema, fn)
  if fn == nil and type(schema) == "function" then schema, fn = nil, schema end
  return raise(native.operation(self[HANDLE], id, schema, fn))
end

--- for item in deck:paginate(id, input, { max_pages=, max_items= }) do ... end
function methods:paginate(id, input, limits)
  local pager = raise(native.pager(self[HANDLE], id, input, limits))
  local next_item = native.next_item
  return function() return raise(next_item(pager)) end
end

-- deck.<service>.<group>.<name>(input); deck.<service>.<name>(input) for
-- two-part ids such as openapi.previewSpec.
local function group_proxy(deck, prefix)
  return setmetatable({}, {
    __index = function(t, name)
      local id = prefix .. "." .. name
      local f = function(input) return deck:call(id, input) end
      rawset(t, name, f)
      return f
    end,
    __call = function(_, input) return deck:call(prefix, input) end,
    __name = "opdeck.group",
  })
end

function Deck.__index(deck, key)
  local m = methods[key]
  if m then return m end
  if type(key) ~= "string" then return nil end
  local service = setmetatable({}, {
    __index = function(t, group)
      local g = group_proxy(deck, key .. "." .. group)
      rawset(t, group, g)
      return g
    end,
    __name = "opdeck.service",
  })
  rawset(deck, key, service)
  return service
end

function Deck.__tostring() return "opdeck.Deck" end

M.Deck = methods
M._wrap = wrap
return M
