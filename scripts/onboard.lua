-- Onboarding of one new hire across the services we run (the Lua twin of
-- onboard.rhai):
--   - WildDuck: a mail user, then its main address;
--   - DRACOON: a user (DRACOON mails the initial password), added to a group;
--   - Kitsu: a person with a role.
--
--   opdeck run scripts/onboard.lua name="Ann Lee" email=ann.lee@example.com \
--       [dracoon_group=Staff|42] [kitsu_role=user] [password=...] [skip=kitsu,dracoon] \
--       [--dry-run] [--allow-env ONBOARD_PASSWORD]
--
-- The WildDuck password comes from `password=` or $ONBOARD_PASSWORD (keep it
-- out of shell history; the sandbox reads it only with --allow-env). Under
-- --dry-run every write is printed as a plan line with secrets redacted (by opdeck) and
-- nothing is created; reads (the group lookup) still run.
-- Returns { wildduck, dracoon, kitsu }: what was created, per service.
local opdeck = require("opdeck")
local deck = opdeck.new()
local args = args or {}

local function required(key)
  local value = args[key]
  if value == nil or value == "" or value == true then
    error("onboard: missing argument " .. key .. "=...", 0)
  end
  return (value:gsub("^%s+", ""):gsub("%s+$", ""))
end

-- WildDuck usernames are lowercase letters, digits and dots.
local function username_of(email)
  return (email:match("^([^@]*)"):lower():gsub("[^a-z0-9.]", ""))
end

-- A write: sent, or under --dry-run printed as a plan line.
local function write(id, input)
  if dry_run then
    -- opdeck redacts credentials and secret fields (the password) in what it prepares.
    local req = deck:prepare(id, input)
    print(("dry-run: %s %s %s"):format(req.method, id, req.body or ""))
    return {}
  end
  return deck:call(id, input)
end

-- The id of a DRACOON group: given as a number, or looked up by exact name.
local function dracoon_group_id(group)
  if group:match("^%d+$") then return tonumber(group) end
  local found = deck.dracoon.groups.requestGroups({ filter = "name:cn:" .. group })
  for _, g in ipairs(found.items or {}) do
    if g.name == group then return g.id end
  end
  error(('onboard: no DRACOON group is named "%s"'):format(group), 0)
end

local name = required("name")
local email = required("email")
if not email:find("^[^@]+@") then error(('onboard: "%s" is not an email address'):format(email), 0) end
local first, last = name:match("^(%S+)%s+(.+)$")
first, last = first or name, last or name
local skip = {}
for s in tostring(args.skip or ""):gmatch("[^,]+") do skip[s] = true end
local done = {}
if dry_run then print(("Plan for %s <%s> (dry run: nothing is created)"):format(name, email)) end

if not skip.wildduck then
  -- A dry run creates nothing and needs no password; opdeck shows the field redacted.
  local password = args.password or os.getenv("ONBOARD_PASSWORD") or (dry_run and "(not needed in a dry run)" or nil)
  if password == nil then
    error("onboard: WildDuck needs password=... or $ONBOARD_PASSWORD (or skip=wildduck)", 0)
  end
  local user = write("wildduck.users.createUser", { body = {
    username = username_of(email), name = name, password = password,
    -- The address is added next, as the main one, with the user's name.
    emptyAddress = true, requirePasswordChange = true,
  } })
  local uid = user.id or "<new wildduck user>"
  local address = write("wildduck.addresses.createUserAddress", { user = uid, body = { address = email, name = name, main = true } })
  done.wildduck = { id = uid, address = email, address_id = address.id }
  print(("wildduck: user %s (%s) with main address %s"):format(uid, username_of(email), email))
end

if not skip.dracoon then
  local user = write("dracoon.users.createUser", { body = {
    firstName = first, lastName = last, userName = email, email = email, notifyUser = true,
    authData = { method = "basic", mustChangePassword = true },
  } })
  local uid = user.id or "<new dracoon user>"
  done.dracoon = { id = uid }
  print(("dracoon: user %s (%s)"):format(uid, email))
  if args.dracoon_group then
    local gid = dracoon_group_id(args.dracoon_group)
    write("dracoon.groups.addGroupMembers", { group_id = gid, body = { ids = { uid } } })
    done.dracoon.group = gid
    print(("dracoon: user %s added to group %s"):format(uid, gid))
  end
end

if not skip.kitsu then
  local role = args.kitsu_role or "user"
  local person = write("kitsu.persons.create", { body = { first_name = first, last_name = last, email = email, role = role } })
  local pid = person.id or "<new kitsu person>"
  done.kitsu = { id = pid, role = role }
  print(("kitsu: person %s (%s)"):format(pid, role))
end

print(dry_run and "Plan done: nothing was sent." or ("Onboarded %s <%s>."):format(name, email))
return done
