-- Karmada: dependencyInterpretation of argoproj.io/v1alpha1 Rollout.
-- Pod dependencies plus the Services and Istio objects the canary strategy names, so that
-- propagateDeps carries a whole canary setup along with its Rollout.
local kube = require("kube")

-- Karmada finds a dependency only at the apiVersion its detector reads templates at (the group's
-- preferred version). karmada_interpreter puts a line `local ISTIO_API_VERSION = "..."` before this
-- script for an Istio whose preferred version is not v1 (its option istio_api_versions).
local istioApiVersion = ISTIO_API_VERSION or "networking.istio.io/v1"

function GetDependencies(desiredObj)
  local refs = {}
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
      table.insert(refs, {apiVersion = apiVersion, kind = kind, namespace = namespace, name = name})
    end
  end
  add("v1", "Service", canary.canaryService)
  add("v1", "Service", canary.stableService)
  local istio = canary.trafficRouting and canary.trafficRouting.istio
  if istio ~= nil then
    if istio.virtualService ~= nil then
      add(istioApiVersion, "VirtualService", istio.virtualService.name)
    end
    if istio.virtualServices ~= nil then
      for _, vs in ipairs(istio.virtualServices) do
        add(istioApiVersion, "VirtualService", vs.name)
      end
    end
    if istio.destinationRule ~= nil then
      add(istioApiVersion, "DestinationRule", istio.destinationRule.name)
    end
  end
  return refs
end
