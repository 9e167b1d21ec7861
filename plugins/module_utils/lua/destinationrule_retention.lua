-- Karmada: retention of networking.istio.io DestinationRule (what of the member's object Karmada keeps).
-- Argo Rollouts pins the canary and stable subsets to a ReplicaSet; everything else (new subsets,
-- traffic policies, other labels) comes from the template.

-- Argo Rollouts' pod-template-hash label (v1alpha1.DefaultRolloutUniqueLabelKey).
local HASH = "rollouts-pod-template-hash"

-- Karmada v1.14 turns a returned object back into JSON by field paths joined with "." (unescaped), so
-- managedFields keys such as "f:app.kubernetes.io/name" next to "f:app" break the conversion.
local function withoutManagedFields(obj)
  if obj.metadata ~= nil then obj.metadata.managedFields = nil end
  return obj
end

local function subsetHashes(subsets)
  local hashes = {}
  for _, subset in ipairs(subsets) do
    if subset.name ~= nil and subset.labels ~= nil and subset.labels[HASH] ~= nil then
      hashes[subset.name] = subset.labels[HASH]
    end
  end
  return hashes
end

function Retain(desiredObj, observedObj)
  local d, o = desiredObj.spec, observedObj.spec
  if d ~= nil and o ~= nil and d.subsets ~= nil and o.subsets ~= nil then
    local hashes = subsetHashes(o.subsets)
    for _, subset in ipairs(d.subsets) do
      local hash = subset.name ~= nil and hashes[subset.name] or nil
      if hash ~= nil then
        subset.labels = subset.labels or {}
        subset.labels[HASH] = hash
      end
    end
  end
  return withoutManagedFields(desiredObj)
end
