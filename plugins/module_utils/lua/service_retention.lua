-- Karmada: retention of v1 Service (what of the member's Service Karmada keeps).
-- Only one customization per kind and operation may exist, and it replaces Karmada's built-in
-- retention for Services: this one also keeps what that one keeps.

-- Argo Rollouts' pod-template-hash label (v1alpha1.DefaultRolloutUniqueLabelKey).
local HASH = "rollouts-pod-template-hash"

-- Karmada v1.14 turns a returned object back into JSON by field paths joined with "." (unescaped), so
-- managedFields keys such as "f:app.kubernetes.io/name" next to "f:app" break the conversion.
local function withoutManagedFields(obj)
  if obj.metadata ~= nil then obj.metadata.managedFields = nil end
  return obj
end

-- Node ports the member allocated for the ports the template leaves without one.
local function keepNodePorts(d, o)
  if d.ports == nil or o.ports == nil or (d.type ~= "NodePort" and d.type ~= "LoadBalancer") then
    return
  end
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

-- Allocated by the member's API server (what Karmada's built-in Service retention keeps).
local function keepAllocations(d, o)
  if o.clusterIP ~= nil and o.clusterIP ~= "" then
    d.clusterIP = o.clusterIP
    if o.clusterIPs ~= nil then
      d.clusterIPs = o.clusterIPs
    end
  end
  if o.healthCheckNodePort ~= nil and o.healthCheckNodePort > 0 then
    d.healthCheckNodePort = o.healthCheckNodePort
  end
end

-- Argo Rollouts pins the canary and stable Services to a ReplicaSet.
local function keepReplicaSetPin(d, o)
  if o.selector ~= nil and o.selector[HASH] ~= nil then
    if d.selector == nil then
      d.selector = {}
    end
    d.selector[HASH] = o.selector[HASH]
  end
end

function Retain(desiredObj, observedObj)
  local d, o = desiredObj.spec, observedObj.spec
  if d ~= nil and o ~= nil then
    keepAllocations(d, o)
    keepNodePorts(d, o)
    keepReplicaSetPin(d, o)
  end
  return withoutManagedFields(desiredObj)
end
