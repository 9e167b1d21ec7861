-- Karmada: replicaResource of argoproj.io/v1alpha1 Rollout.
-- Karmada has no interpreter of its own for a Rollout: without this one a Divided policy cannot
-- divide it, and every member gets the whole spec.replicas.
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
