-- Kitsu projects with their task counts, per task status (the Lua twin of
-- kitsu_report.rhai).
--
--   opdeck run scripts/kitsu_report.lua [open=true]
--
-- With open=true (the default) only projects whose status is "Open"; with
-- open=false every project. The task lists are fetched in parallel, one call
-- per project. Returns { {id, name, status, tasks, by_status}, ... } by name.
local opdeck = require("opdeck")
local deck = opdeck.new()
local args = args or {}
local only_open = tostring(args.open or "true") ~= "false"

local statuses = {}
for _, s in ipairs(deck.kitsu.projectStatus.list()) do
  if s.id then statuses[s.id] = s.name end
end
local task_statuses = {}
for _, s in ipairs(deck.kitsu.taskStatus.list()) do
  if s.id then task_statuses[s.id] = s.short_name or s.name end
end

-- List routes filter on any column given in the query: the open status id.
local filter = {}
if only_open then
  for id, name in pairs(statuses) do
    if name == "Open" then filter.project_status_id = id end
  end
  if filter.project_status_id == nil then error("kitsu_report: this Kitsu has no project status named Open", 0) end
end
local projects = deck.kitsu.projects.list(filter)
table.sort(projects, function(a, b) return (a.name or "") < (b.name or "") end)

local calls = {}
for i, p in ipairs(projects) do calls[i] = { "kitsu.tasks.list", { project_id = p.id } } end
local task_lists = deck:parallel(calls, 4)

local rows = {}
print(("%d %sprojects"):format(#projects, only_open and "open " or ""))
for i, p in ipairs(projects) do
  local tasks = task_lists[i]
  if opdeck.is_error(tasks) then error(tasks, 0) end
  local by_status, names = {}, {}
  for _, t in ipairs(tasks) do
    local name = task_statuses[t.task_status_id] or "unknown"
    if not by_status[name] then names[#names + 1] = name end
    by_status[name] = (by_status[name] or 0) + 1
  end
  table.sort(names)
  local detail = {}
  for _, k in ipairs(names) do detail[#detail + 1] = k .. " " .. by_status[k] end
  local status = statuses[p.project_status_id] or "unknown"
  local shown = #detail > 0 and (" (" .. table.concat(detail, ", ") .. ")") or ""
  print(("  %s [%s]: %d tasks%s"):format(p.name, status, #tasks, shown))
  rows[#rows + 1] = { id = p.id, name = p.name, status = status, tasks = #tasks, by_status = by_status }
end
return rows
