# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ResourceInterpreterCustomizations that let Karmada carry Argo Rollouts and Istio objects.

Karmada (v1.14) has no interpreter for ``argoproj.io/v1alpha1`` ``Rollout``: without one
it cannot divide replicas (every member gets the full ``spec.replicas``). And Karmada
re-applies its template over member objects, keeping only what a Retain interpreter
keeps, so what the Argo Rollouts controller writes in each member (VirtualService
weights and managed routes, DestinationRule and Service pod-template hashes) would be
reverted. The Lua scripts below fix both. They run in Karmada's gopher-lua (Lua 5.1),
with the functions Karmada calls:

- replicaResource ``GetReplicas(obj)``, replicaRevision ``ReviseReplica(obj, replicas)``,
- statusReflection ``ReflectStatus(observedObj)``, statusAggregation
  ``AggregateStatus(desiredObj, statusItems)``, healthInterpretation
  ``InterpretHealth(observedObj)``, dependencyInterpretation ``GetDependencies(desiredObj)``,
- retention ``Retain(desiredObj, observedObj)``.

Rules the scripts keep, because of how Karmada converts Lua tables back to JSON: an
empty table becomes ``[]`` and is dropped unless the same path was empty in the input
objects, so the scripts never return a new empty table; arrays are 1-based.

Only one customization per target kind and operation may exist in Karmada (its
webhook refuses a second), and a customization replaces the built-in interpreter for
that operation: the Service retention therefore also keeps what Karmada's built-in one
keeps (clusterIP, clusterIPs, healthCheckNodePort).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

import copy

RIC_API_VERSION = "config.karmada.io/v1alpha1"
RIC_KIND = "ResourceInterpreterCustomization"
NAME_PREFIX = "multicluster-canary-"
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY = "multicluster.canary"
ISTIO_GROUP = "networking.istio.io"
# Every version Istio 1.2x serves; Karmada matches a customization on apiVersion and
# kind exactly, and a template is interpreted at the version Karmada's detector reads
# (the group's preferred one), so the customization is installed for each.
ISTIO_VERSIONS = ("v1", "v1beta1", "v1alpha3")
# Argo Rollouts' pod-template-hash label (v1alpha1.DefaultRolloutUniqueLabelKey).
HASH_LABEL = "rollouts-pod-template-hash"
# Optional VirtualService annotation naming the routes Argo Rollouts manages in members
# (the Rollout's trafficRouting.managedRoutes), comma-separated. Without it, the
# member-only named routes at the top of spec.http are taken as Argo's.
MANAGED_ROUTES_ANNOTATION = "multicluster.canary/managed-routes"
# Written by the VirtualService retention itself: the template weights it last applied to the member.
TEMPLATE_WEIGHTS_ANNOTATION = "multicluster.canary/template-weights"

KINDS = ("rollout", "service", "virtualservice", "destinationrule")

# --- Rollout ----------------------------------------------------------------

ROLLOUT_REPLICA_RESOURCE = """\
local kube = require("kube")

-- Argo defaults spec.replicas to 1; a Rollout with workloadRef has no template.
function GetReplicas(obj)
  local replicas = 1
  local requirement = nil
  if obj.spec ~= nil then
    if obj.spec.replicas ~= nil then
      replicas = obj.spec.replicas
    end
    if obj.spec.template ~= nil then
      requirement = kube.accuratePodRequirements(obj.spec.template)
    end
  end
  return replicas, requirement
end
"""

ROLLOUT_REPLICA_REVISION = """\
function ReviseReplica(obj, desiredReplica)
  obj.spec.replicas = desiredReplica
  return obj
end
"""

ROLLOUT_STATUS_REFLECTION = """\
local FIELDS = {"replicas", "readyReplicas", "availableReplicas", "updatedReplicas",
  "phase", "message", "currentPodHash", "stableRS", "currentStepIndex", "abort",
  "observedGeneration", "pauseConditions"}

function ReflectStatus(observedObj)
  local status = {}
  if observedObj.metadata ~= nil then
    status.generation = observedObj.metadata.generation
  end
  if observedObj.status == nil then
    return status
  end
  for _, field in ipairs(FIELDS) do
    if observedObj.status[field] ~= nil then
      status[field] = observedObj.status[field]
    end
  end
  return status
end
"""

# Pessimistic phase: the fleet is only as far as its least advanced member.
ROLLOUT_STATUS_AGGREGATION = """\
local RANK = {Healthy = 1, Paused = 2, Progressing = 3, Degraded = 4}

function AggregateStatus(desiredObj, statusItems)
  if statusItems == nil or #statusItems == 0 then
    return desiredObj
  end
  local replicas, ready, available, updated = 0, 0, 0, 0
  local phase, message, rank = nil, nil, 0
  local aborted = false
  for _, item in ipairs(statusItems) do
    local s = item.status
    local itemPhase, itemMessage = "Progressing", "waiting for status"
    if s ~= nil then
      replicas = replicas + (s.replicas or 0)
      ready = ready + (s.readyReplicas or 0)
      available = available + (s.availableReplicas or 0)
      updated = updated + (s.updatedReplicas or 0)
      if s.abort == true then
        aborted = true
      end
      if s.phase ~= nil and s.phase ~= "" then
        itemPhase = s.phase
      end
      itemMessage = s.message
    end
    local itemRank = RANK[itemPhase] or 3
    if itemRank > rank then
      rank = itemRank
      phase = itemPhase
      if itemMessage ~= nil and itemMessage ~= "" then
        message = item.clusterName .. ": " .. itemMessage
      else
        message = nil
      end
    end
  end
  if desiredObj.status == nil then
    desiredObj.status = {replicas = replicas}
  end
  desiredObj.status.replicas = replicas
  desiredObj.status.readyReplicas = ready
  desiredObj.status.availableReplicas = available
  desiredObj.status.updatedReplicas = updated
  desiredObj.status.phase = phase
  desiredObj.status.message = message
  -- What the members say now: false once none is aborted (after retry or a new image).
  desiredObj.status.abort = aborted
  return desiredObj
end
"""

ROLLOUT_HEALTH = """\
function InterpretHealth(observedObj)
  local s = observedObj.status
  if s == nil then
    return true
  end
  if s.abort == true or s.phase == "Degraded" then
    return false
  end
  return true
end
"""

# Pod dependencies plus the Services and Istio objects the canary strategy names, so
# propagateDeps carries a whole canary setup along with its Rollout.
ROLLOUT_DEPENDENCIES = """\
local kube = require("kube")
local ISTIO_API_VERSION = "{istio_api_version}"

function GetDependencies(desiredObj)
  local refs = {{}}
  local namespace = desiredObj.metadata.namespace
  local spec = desiredObj.spec
  if spec == nil then
    return refs
  end
  if spec.template ~= nil then
    local podRefs = kube.getPodDependencies(spec.template, namespace)
    if podRefs ~= nil then
      for _, ref in ipairs(podRefs) do
        table.insert(refs, ref)
      end
    end
  end
  local canary = spec.strategy and spec.strategy.canary
  if canary == nil then
    return refs
  end
  local function add(apiVersion, kind, name)
    if name ~= nil and name ~= "" then
      table.insert(refs, {{apiVersion = apiVersion, kind = kind, namespace = namespace, name = name}})
    end
  end
  add("v1", "Service", canary.canaryService)
  add("v1", "Service", canary.stableService)
  local istio = canary.trafficRouting and canary.trafficRouting.istio
  if istio ~= nil then
    if istio.virtualService ~= nil then
      add(ISTIO_API_VERSION, "VirtualService", istio.virtualService.name)
    end
    if istio.virtualServices ~= nil then
      for _, vs in ipairs(istio.virtualServices) do
        add(ISTIO_API_VERSION, "VirtualService", vs.name)
      end
    end
    if istio.destinationRule ~= nil then
      add(ISTIO_API_VERSION, "DestinationRule", istio.destinationRule.name)
    end
  end
  return refs
end
"""

# The Argo CLI pauses and restarts a Rollout in each member (spec.paused,
# spec.restartAt); those are member-level verbs, so the member's values win. The
# later restartAt wins, so a restart through the template still lands.
#
# The Argo controller writes the whole Rollout back through its Go types when it records
# a new revision (rollout/sync.go setRolloutRevision), which adds `resources: {}` to every
# container that has none. Without keeping that empty value, Karmada sees the member
# differ from its template, writes the template back, and every release costs each
# member three generations instead of one. An empty `resources` is the same as none, so
# keeping it never hides a template change; containers are matched by name.
#
# Nothing else of the member's object is copied: its status in particular is the
# controller's (written through the status subresource) and would only make Karmada
# see a difference, and write, at every resync.
ROLLOUT_RETENTION = """\
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

function Retain(desiredObj, observedObj)
  local d = desiredObj.spec
  local o = observedObj.spec
  if d == nil or o == nil then
    return desiredObj
  end
  if o.paused ~= nil then
    d.paused = o.paused
  end
  if o.restartAt ~= nil and (d.restartAt == nil or o.restartAt > d.restartAt) then
    d.restartAt = o.restartAt
  end
  local dPod = d.template and d.template.spec
  local oPod = o.template and o.template.spec
  if dPod ~= nil and oPod ~= nil then
    keepEmptyResources(dPod.containers, oPod.containers)
    keepEmptyResources(dPod.initContainers, oPod.initContainers)
  end
  return desiredObj
end
"""

# --- Service -----------------------------------------------------------------

SERVICE_RETENTION = """\
local HASH = "{hash}"

function Retain(desiredObj, observedObj)
  local d = desiredObj.spec
  local o = observedObj.spec
  if d == nil or o == nil then
    return desiredObj
  end
  -- Allocated by the member's API server; what Karmada's built-in Service retention
  -- keeps (this customization replaces it).
  if o.clusterIP ~= nil and o.clusterIP ~= "" then
    d.clusterIP = o.clusterIP
    if o.clusterIPs ~= nil then
      d.clusterIPs = o.clusterIPs
    end
  end
  if o.healthCheckNodePort ~= nil and o.healthCheckNodePort > 0 then
    d.healthCheckNodePort = o.healthCheckNodePort
  end
  if d.ports ~= nil and o.ports ~= nil and (d.type == "NodePort" or d.type == "LoadBalancer") then
    for _, dp in ipairs(d.ports) do
      if dp.nodePort == nil then
        for _, op in ipairs(o.ports) do
          if op.port == dp.port and (op.protocol or "TCP") == (dp.protocol or "TCP") then
            dp.nodePort = op.nodePort
          end
        end
      end
    end
  end
  -- Argo Rollouts pins the canary and stable Services to a ReplicaSet.
  if o.selector ~= nil and o.selector[HASH] ~= nil then
    if d.selector == nil then
      d.selector = {{}}
    end
    d.selector[HASH] = o.selector[HASH]
  end
  return desiredObj
end
"""

# --- DestinationRule ---------------------------------------------------------------

DESTINATION_RULE_RETENTION = """\
local HASH = "{hash}"

-- Argo Rollouts pins the canary and stable subsets to a ReplicaSet; everything else
-- (new subsets, traffic policies, other labels) comes from the template.
function Retain(desiredObj, observedObj)
  local d = desiredObj.spec
  local o = observedObj.spec
  if d == nil or o == nil or d.subsets == nil or o.subsets == nil then
    return desiredObj
  end
  local hashes = {{}}
  for _, subset in ipairs(o.subsets) do
    if subset.name ~= nil and subset.labels ~= nil and subset.labels[HASH] ~= nil then
      hashes[subset.name] = subset.labels[HASH]
    end
  end
  for _, subset in ipairs(d.subsets) do
    local hash = nil
    if subset.name ~= nil then
      hash = hashes[subset.name]
    end
    if hash ~= nil then
      if subset.labels == nil then
        subset.labels = {{}}
      end
      subset.labels[HASH] = hash
    end
  end
  return desiredObj
end
"""

# --- VirtualService ------------------------------------------------------------

# Argo Rollouts writes, in each member: the weights of the canary and stable
# destinations of the routes it manages, and whole routes for setHeaderRoute and
# setMirrorRoute (named after trafficRouting.managedRoutes, placed at the top of
# spec.http). The template keeps authority over everything else: a blanket keep of
# spec.http would block our own route, host and match changes.
VIRTUAL_SERVICE_RETENTION = """\
local ANNOTATION = "{annotation}"

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

-- The template's own weights as last applied to the member are remembered in an annotation
-- (section/route/host/subset=weight;...). Where the template's weight is what it was at the last
-- apply, the member's weight is Argo's and is kept; where the template changed it, ours wins.
local WEIGHTS = "{weights_annotation}"

local function destKey(section, routeKey, dest)
  local d = dest.destination or {{}}
  return section .. "/" .. routeKey .. "/" .. (d.host or "") .. "/" .. (d.subset or "")
end

local function weightText(dest)
  if dest.weight == nil then
    return ""
  end
  return tostring(dest.weight)
end

local function parseWeights(text)
  local out = {{}}
  if text == nil then
    return nil
  end
  for key, value in string.gmatch(text, "([^;=]+)=([^;]*)") do
    out[key] = value
  end
  return out
end

-- Keep the member's weight for every destination both routes have, unless the template moved it.
-- Without that record (objects synced before it existed), Karmada's generation annotation tells
-- whether the template changed at all since the member's last sync: if it did, the template wins.
local GENERATION = "resourcetemplate.karmada.io/generation"
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

local function declaredRoutes(obj)
  local annotations = obj.metadata and obj.metadata.annotations
  if annotations == nil or annotations[ANNOTATION] == nil then
    return nil
  end
  local names = {{}}
  for name in string.gmatch(annotations[ANNOTATION], "[^,%s]+") do
    names[name] = true
  end
  return names
end

local function mergeHttp(desiredObj, d, o, lastApplied, pristine)
  if d.http == nil or o.http == nil then
    return
  end
  local observedByName = {{}}
  local observedUnnamed = {{}}
  for _, route in ipairs(o.http) do
    if isNamed(route) then
      observedByName[route.name] = route
    else
      table.insert(observedUnnamed, route)
    end
  end
  local desiredNames = {{}}
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
  -- Routes only the member has: Argo's managed routes.
  local declared = declaredRoutes(desiredObj)
  local kept = {{}}
  for _, route in ipairs(o.http) do
    if declared ~= nil then
      if isNamed(route) and declared[route.name] and not desiredNames[route.name] then
        table.insert(kept, route)
      end
    else
      if not isNamed(route) or desiredNames[route.name] then
        break
      end
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

-- The template's weights before any merge: {{key = weight}} and the annotation text.
local function templateWeights(spec)
  local byKey = {{}}
  local parts = {{}}
  local function add(section, routes, named)
    if routes == nil then
      return
    end
    for i, route in ipairs(routes) do
      local routeKey = tostring(i)
      if named and isNamed(route) then
        routeKey = route.name
      end
      for _, dest in ipairs(route.route or {{}}) do
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
    return desiredObj
  end
  local pristine, text = templateWeights(d)
  local observedAnnotations = observedObj.metadata and observedObj.metadata.annotations
  local lastApplied = nil
  local desiredAnnotations = desiredObj.metadata and desiredObj.metadata.annotations or {{}}
  templateChanged = false
  if observedAnnotations ~= nil then
    lastApplied = parseWeights(observedAnnotations[WEIGHTS])
    templateChanged = desiredAnnotations[GENERATION] ~= nil and
      desiredAnnotations[GENERATION] ~= observedAnnotations[GENERATION]
  end
  mergeHttp(desiredObj, d, o, lastApplied, pristine)
  mergeByPosition("tls", d.tls, o.tls, lastApplied, pristine)
  mergeByPosition("tcp", d.tcp, o.tcp, lastApplied, pristine)
  if desiredObj.metadata.annotations == nil then
    desiredObj.metadata.annotations = {{}}
  end
  desiredObj.metadata.annotations[WEIGHTS] = text
  return desiredObj
end
"""


# Karmada v1.14 turns a script's returned object back into JSON by field paths joined with "."
# (luavm convertEmptySliceToEmptyStructPartly, unescaped), so managedFields entries such as
# "f:app.kubernetes.io/managed-by" next to "f:app" break ReviseReplica and Retain for some members.
# Nothing we return needs managedFields: drop them from every returned object.
_WITHOUT_MANAGED_FIELDS = """\
local function withoutManagedFields(obj)
  if obj ~= nil and obj.metadata ~= nil then
    obj.metadata.managedFields = nil
  end
  return obj
end

"""


def _returns_without_managed_fields(script):
    return _WITHOUT_MANAGED_FIELDS + re.sub(r"return (obj|desiredObj)\n", r"return withoutManagedFields(\1)\n", script)


ROLLOUT_REPLICA_REVISION = _returns_without_managed_fields(ROLLOUT_REPLICA_REVISION)
ROLLOUT_STATUS_AGGREGATION = _returns_without_managed_fields(ROLLOUT_STATUS_AGGREGATION)
ROLLOUT_RETENTION = _returns_without_managed_fields(ROLLOUT_RETENTION)
SERVICE_RETENTION = _returns_without_managed_fields(SERVICE_RETENTION)
DESTINATION_RULE_RETENTION = _returns_without_managed_fields(DESTINATION_RULE_RETENTION)
VIRTUAL_SERVICE_RETENTION = _returns_without_managed_fields(VIRTUAL_SERVICE_RETENTION)


def rollout_customizations(istio_api_version=ISTIO_GROUP + "/v1"):
    return {
        "replicaResource": {"luaScript": ROLLOUT_REPLICA_RESOURCE},
        "replicaRevision": {"luaScript": ROLLOUT_REPLICA_REVISION},
        "statusReflection": {"luaScript": ROLLOUT_STATUS_REFLECTION},
        "statusAggregation": {"luaScript": ROLLOUT_STATUS_AGGREGATION},
        "healthInterpretation": {"luaScript": ROLLOUT_HEALTH},
        "dependencyInterpretation": {"luaScript": ROLLOUT_DEPENDENCIES.format(istio_api_version=istio_api_version)},
        "retention": {"luaScript": ROLLOUT_RETENTION},
    }


def service_customizations():
    return {"retention": {"luaScript": SERVICE_RETENTION.format(hash=HASH_LABEL)}}


def destination_rule_customizations():
    return {"retention": {"luaScript": DESTINATION_RULE_RETENTION.format(hash=HASH_LABEL)}}


def virtual_service_customizations():
    return {"retention": {"luaScript": VIRTUAL_SERVICE_RETENTION.format(
        annotation=MANAGED_ROUTES_ANNOTATION, weights_annotation=TEMPLATE_WEIGHTS_ANNOTATION)}}


def customization(name, api_version, kind, rules):
    return {
        "apiVersion": RIC_API_VERSION,
        "kind": RIC_KIND,
        "metadata": {"name": name, "labels": {MANAGED_BY_LABEL: MANAGED_BY}},
        "spec": {"target": {"apiVersion": api_version, "kind": kind}, "customizations": copy.deepcopy(rules)},
    }


def build_customizations(kinds=None, istio_versions=ISTIO_VERSIONS):
    """The customizations for ``kinds`` (default: all of KINDS), one per target apiVersion/kind."""
    kinds = list(kinds or KINDS)
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise ValueError("kinds: unknown {0}; choose from {1}".format(", ".join(unknown), ", ".join(KINDS)))
    istio_versions = list(istio_versions or ISTIO_VERSIONS)
    out = []
    if "rollout" in kinds:
        out.append(customization(NAME_PREFIX + "rollout", "argoproj.io/v1alpha1", "Rollout",
                                 rollout_customizations("{0}/{1}".format(ISTIO_GROUP, istio_versions[0]))))
    if "service" in kinds:
        out.append(customization(NAME_PREFIX + "service", "v1", "Service", service_customizations()))
    for version in istio_versions:
        api_version = "{0}/{1}".format(ISTIO_GROUP, version)
        if "virtualservice" in kinds:
            out.append(customization(NAME_PREFIX + "virtualservice-" + version, api_version, "VirtualService",
                                     virtual_service_customizations()))
        if "destinationrule" in kinds:
            out.append(customization(NAME_PREFIX + "destinationrule-" + version, api_version, "DestinationRule",
                                     destination_rule_customizations()))
    return out


def all_names(istio_versions=ISTIO_VERSIONS):
    """Names of every customization this collection can install (for state=absent)."""
    return [c["metadata"]["name"] for c in build_customizations(KINDS, istio_versions)]


def conflicts(desired, existing):
    """Existing customizations, not ours by name, that target the same kind with an operation we set.

    Karmada's webhook refuses a second customization for one target and operation;
    this says which one is in the way before anything is written.
    """
    ours = set(c["metadata"]["name"] for c in desired)
    found = []
    for want in desired:
        target = want["spec"]["target"]
        for have in existing:
            name = have.get("metadata", {}).get("name")
            if name in ours:
                continue
            spec = have.get("spec") or {}
            if spec.get("target") != target:
                continue
            overlap = sorted(set(want["spec"]["customizations"]) & set(spec.get("customizations") or {}))
            if overlap:
                found.append("{0} already customizes {1} {2} ({3})".format(
                    name, target["apiVersion"], target["kind"], ", ".join(overlap)))
    return found
