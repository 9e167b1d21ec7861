-- Karmada: statusAggregation of argoproj.io/v1alpha1 Rollout (the template's status in Karmada).
-- Replica counts are summed; the phase is pessimistic: the fleet is only as far as its least
-- advanced member.

-- Karmada v1.14 turns a returned object back into JSON by field paths joined with "." (unescaped), so
-- managedFields keys such as "f:app.kubernetes.io/name" next to "f:app" break the conversion.
local function withoutManagedFields(obj)
  if obj.metadata ~= nil then obj.metadata.managedFields = nil end
  return obj
end

local RANK = {Healthy = 1, Paused = 2, Progressing = 3, Degraded = 4}

function AggregateStatus(desiredObj, statusItems)
  if statusItems == nil or #statusItems == 0 then
    return withoutManagedFields(desiredObj)
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
  return withoutManagedFields(desiredObj)
end
