-- Karmada: statusReflection of argoproj.io/v1alpha1 Rollout (what each member reports).
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
