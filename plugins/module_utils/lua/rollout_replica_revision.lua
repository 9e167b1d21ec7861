-- Karmada: replicaRevision of argoproj.io/v1alpha1 Rollout (each member's share of spec.replicas).

-- Karmada v1.14 turns a returned object back into JSON by field paths joined with "." (unescaped), so
-- managedFields keys such as "f:app.kubernetes.io/name" next to "f:app" break the conversion.
local function withoutManagedFields(obj)
  if obj.metadata ~= nil then obj.metadata.managedFields = nil end
  return obj
end

function ReviseReplica(obj, desiredReplica)
  obj.spec.replicas = desiredReplica
  return withoutManagedFields(obj)
end
