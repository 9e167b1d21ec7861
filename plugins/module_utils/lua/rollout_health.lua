-- Karmada: healthInterpretation of argoproj.io/v1alpha1 Rollout.
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
