-- What an embedded script cannot do by default. Run by test_embedded.lua as
-- `opdeck run tests/lua/sandbox.lua --mock --allow-env OPDECK_GRANTED`.
local opdeck = require("opdeck")
local passed, failed = 0, 0
local function check(name, ok)
  if ok then passed = passed + 1 else failed = failed + 1; print("FAILED [sandbox] " .. name) end
end

check("no io", io == nil)
check("no os.execute", os.execute == nil)
check("no os.exit", os.exit == nil)
check("no os.remove", os.remove == nil and os.rename == nil and os.tmpname == nil)
check("no package", package == nil)
check("no debug", debug == nil)
check("no string.dump", string.dump == nil)
check("no loadfile/dofile", loadfile == nil and dofile == nil)
check("os.time still works", type(os.time()) == "number")
check("text load works", load("return 1 + 1")() == 2)
local bytecode = "\27Lua\84\0\25\147\13\10\26\10"
local f, err = load(bytecode)
check("bytecode is refused", f == nil and tostring(err):find("binary", 1, true) ~= nil)
local ok, e = pcall(require, "socket.core")
check("no C modules", not ok and tostring(e):find("not available", 1, true) ~= nil)
check("require opdeck is the module", require("opdeck") == opdeck)
check("a granted variable is read", os.getenv("OPDECK_GRANTED") == "yes")
check("another is not", os.getenv("HOME") == nil and os.getenv("OPDECK_NOT_GRANTED") == nil)
ok, e = pcall(opdeck.read_json, "Cargo.toml")
check("read_json is off", not ok)
local deck = opdeck.new()
ok, e = pcall(deck.add_source, deck, "x", "/etc/passwd")
check("add_source does not read a path", not ok and e.kind == "usage")
check("the host's --mock applies", deck:call_full("wildduck.users.getUsers", {}).status == 200)

print(("lua-sandbox: %d passed, %d failed"):format(passed, failed))
if failed > 0 then error(failed .. " failed", 0) end
