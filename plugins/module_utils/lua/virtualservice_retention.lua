-- Karmada: retention of networking.istio.io VirtualService (what of the member's object Karmada keeps).
--
-- Argo Rollouts writes, in each member: the weights of the canary and stable destinations of the
-- routes it manages, and whole routes for setHeaderRoute and setMirrorRoute (named after
-- trafficRouting.managedRoutes, placed at the top of spec.http). The template keeps authority over
-- everything else: a blanket keep of spec.http would block our own route, host and match changes.

-- Karmada v1.14 turns a returned object back into JSON by field paths joined with "." (unescaped), so
-- managedFields keys such as "f:app.kubernetes.io/name" next to "f:app" break the conversion.
local function withoutManagedFields(obj)
  if obj.metadata ~= nil then obj.metadata.managedFields = nil end
  return obj
end

-- The http routes multicluster.canary (istio_canary_route) puts in the VirtualService, comma-separated;
-- on the member's copy, those it had put there at the member's last sync.
local OWNED_ROUTES = "multicluster.canary/owned-routes"
-- Written by this script: the template weights it last applied to the member.
local WEIGHTS = "multicluster.canary/template-weights"
-- Karmada's record of the template generation a member object was last synced from.
local GENERATION = "resourcetemplate.karmada.io/generation"

local function shortHost(host)
  if host == nil then
    return ""
  end
  local dot = string.find(host, ".", 1, true)
  if dot ~= nil then
    return string.sub(host, 1, dot - 1)
  end
  return host
end

local function findDestination(destinations, wanted)
  if destinations == nil or wanted == nil or wanted.destination == nil then
    return nil
  end
  local host = wanted.destination.host
  local subset = wanted.destination.subset or ""
  for _, candidate in ipairs(destinations) do
    local dest = candidate.destination
    if dest ~= nil and dest.host == host and (dest.subset or "") == subset then
      return candidate
    end
  end
  -- Argo matches hosts by their short name (before the first dot).
  for _, candidate in ipairs(destinations) do
    local dest = candidate.destination
    if dest ~= nil and shortHost(dest.host) == shortHost(host) and (dest.subset or "") == subset then
      return candidate
    end
  end
  return nil
end

-- The template's own weights as last applied to the member are remembered in the WEIGHTS annotation
-- (section/route/host/subset=weight;...). Where the template's weight is what it was at the last
-- apply, the member's weight is Argo's and is kept; where the template changed it, ours wins.
local function destKey(section, routeKey, dest)
  local d = dest.destination or {}
  return section .. "/" .. routeKey .. "/" .. (d.host or "") .. "/" .. (d.subset or "")
end

local function weightText(dest)
  if dest.weight == nil then
    return ""
  end
  return tostring(dest.weight)
end

local function parseWeights(text)
  local out = {}
  if text == nil then
    return nil
  end
  for key, value in string.gmatch(text, "([^;=]+)=([^;]*)") do
    out[key] = value
  end
  return out
end

-- Keep the member's weight for every destination both routes have, unless the template moved it.
-- Without the WEIGHTS record (objects synced before it existed), Karmada's generation annotation
-- tells whether the template changed at all since the member's last sync: if it did, the template wins.
local templateChanged = false

local function keepWeights(desiredRoute, observedRoute, section, routeKey, lastApplied, pristine)
  if desiredRoute.route == nil or observedRoute.route == nil then
    return
  end
  for _, dest in ipairs(desiredRoute.route) do
    local key = destKey(section, routeKey, dest)
    local moved = templateChanged
    if lastApplied ~= nil then
      moved = lastApplied[key] ~= nil and lastApplied[key] ~= pristine[key]
    end
    local seen = findDestination(observedRoute.route, dest)
    if not moved and seen ~= nil and seen.weight ~= nil then
      dest.weight = seen.weight
    end
  end
end

local function isNamed(route)
  return route.name ~= nil and route.name ~= ""
end

local function ownedRoutes(obj)
  local names = {}
  local annotations = obj.metadata and obj.metadata.annotations
  if annotations ~= nil and annotations[OWNED_ROUTES] ~= nil then
    for name in string.gmatch(annotations[OWNED_ROUTES], "[^,%s]+") do
      names[name] = true
    end
  end
  return names
end

local function mergeHttp(d, o, ownedBefore, lastApplied, pristine)
  if d.http == nil or o.http == nil then
    return
  end
  local observedByName = {}
  local observedUnnamed = {}
  for _, route in ipairs(o.http) do
    if isNamed(route) then
      observedByName[route.name] = route
    else
      table.insert(observedUnnamed, route)
    end
  end
  local desiredNames = {}
  local unnamed = 0
  for i, route in ipairs(d.http) do
    local seen = nil
    local routeKey = tostring(i)
    if isNamed(route) then
      desiredNames[route.name] = true
      seen = observedByName[route.name]
      routeKey = route.name
    else
      unnamed = unnamed + 1
      seen = observedUnnamed[unnamed]
    end
    if seen ~= nil then
      keepWeights(route, seen, "http", routeKey, lastApplied, pristine)
    end
  end
  -- Routes only the member has, at the top of spec.http, are Argo's managed routes; except those we
  -- had put there ourselves (they were removed from the template). A member-only route below the
  -- first template route is not Argo's either: our removal lands.
  local kept = {}
  for _, route in ipairs(o.http) do
    if not isNamed(route) or desiredNames[route.name] then
      break
    end
    if not ownedBefore[route.name] then
      table.insert(kept, route)
    end
  end
  if #kept > 0 then
    for _, route in ipairs(d.http) do
      table.insert(kept, route)
    end
    d.http = kept
  end
end

-- TLS and TCP routes have no names: match them by position.
local function mergeByPosition(section, desiredRoutes, observedRoutes, lastApplied, pristine)
  if desiredRoutes == nil or observedRoutes == nil then
    return
  end
  for i, route in ipairs(desiredRoutes) do
    if observedRoutes[i] ~= nil then
      keepWeights(route, observedRoutes[i], section, tostring(i), lastApplied, pristine)
    end
  end
end

-- The template's weights before any merge: {key = weight} and the annotation text.
local function templateWeights(spec)
  local byKey = {}
  local parts = {}
  local function add(section, routes, named)
    if routes == nil then
      return
    end
    for i, route in ipairs(routes) do
      local routeKey = tostring(i)
      if named and isNamed(route) then
        routeKey = route.name
      end
      for _, dest in ipairs(route.route or {}) do
        local key = destKey(section, routeKey, dest)
        byKey[key] = weightText(dest)
        table.insert(parts, key .. "=" .. byKey[key])
      end
    end
  end
  add("http", spec.http, true)
  add("tls", spec.tls, false)
  add("tcp", spec.tcp, false)
  return byKey, table.concat(parts, ";")
end

function Retain(desiredObj, observedObj)
  local d = desiredObj.spec
  local o = observedObj.spec
  if d == nil or o == nil then
    return withoutManagedFields(desiredObj)
  end
  local pristine, text = templateWeights(d)
  local observedAnnotations = observedObj.metadata and observedObj.metadata.annotations
  local lastApplied = nil
  local desiredAnnotations = desiredObj.metadata and desiredObj.metadata.annotations or {}
  templateChanged = false
  if observedAnnotations ~= nil then
    lastApplied = parseWeights(observedAnnotations[WEIGHTS])
    templateChanged = desiredAnnotations[GENERATION] ~= nil and
      desiredAnnotations[GENERATION] ~= observedAnnotations[GENERATION]
  end
  mergeHttp(d, o, ownedRoutes(observedObj), lastApplied, pristine)
  mergeByPosition("tls", d.tls, o.tls, lastApplied, pristine)
  mergeByPosition("tcp", d.tcp, o.tcp, lastApplied, pristine)
  if desiredObj.metadata.annotations == nil then
    desiredObj.metadata.annotations = {}
  end
  desiredObj.metadata.annotations[WEIGHTS] = text
  return withoutManagedFields(desiredObj)
end
