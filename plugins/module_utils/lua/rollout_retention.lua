-- Karmada: retention of argoproj.io/v1alpha1 Rollout (what of the member's Rollout Karmada keeps).
--
-- The Argo CLI pauses and restarts a Rollout in each member (spec.paused, spec.restartAt); those
-- are member-level verbs, so the member's values win. The later restartAt wins, so a restart
-- through the template still lands.
--
-- The Argo controller writes the whole Rollout back through its Go types when it records a new
-- revision, which adds `resources: {}` to every container that has none. Without keeping that empty
-- value, Karmada sees the member differ from its template, writes the template back, and every
-- release costs each member three generations instead of one. An empty `resources` is the same as
-- none, so keeping it never hides a template change; containers are matched by name.
--
-- Nothing else of the member's object is copied: its status in particular is the controller's
-- (written through the status subresource) and would only make Karmada see a difference, and
-- write, at every resync.

-- Karmada v1.14 turns a returned object back into JSON by field paths joined with "." (unescaped), so
-- managedFields keys such as "f:app.kubernetes.io/name" next to "f:app" break the conversion.
local function withoutManagedFields(obj)
  if obj.metadata ~= nil then obj.metadata.managedFields = nil end
  return obj
end

local function isEmpty(value)
  return type(value) == "table" and next(value) == nil
end

local function keepEmptyResources(desiredContainers, observedContainers)
  if desiredContainers == nil or observedContainers == nil then
    return
  end
  local observedByName = {}
  for _, container in ipairs(observedContainers) do
    if container.name ~= nil then
      observedByName[container.name] = container
    end
  end
  for _, container in ipairs(desiredContainers) do
    local seen = container.name ~= nil and observedByName[container.name] or nil
    if container.resources == nil and seen ~= nil and isEmpty(seen.resources) then
      container.resources = seen.resources
    end
  end
end

-- The member-level verbs of the Argo CLI: pause and restart.
local function keepMemberVerbs(d, o)
  if o.paused ~= nil then
    d.paused = o.paused
  end
  if o.restartAt ~= nil and (d.restartAt == nil or o.restartAt > d.restartAt) then
    d.restartAt = o.restartAt
  end
end

local function podSpec(spec)
  return spec.template and spec.template.spec
end

function Retain(desiredObj, observedObj)
  local d, o = desiredObj.spec, observedObj.spec
  if d ~= nil and o ~= nil then
    keepMemberVerbs(d, o)
    local dPod, oPod = podSpec(d), podSpec(o)
    if dPod ~= nil and oPod ~= nil then
      keepEmptyResources(dPod.containers, oPod.containers)
      keepEmptyResources(dPod.initContainers, oPod.initContainers)
    end
  end
  return withoutManagedFields(desiredObj)
end
