-- Argo CD health of a chargeops.io Site, from its kstatus-style status (docs/argocd-health.md).
-- Argo CD runs this file alone in gopher-lua: Lua 5.1, no shared code, the object in `obj`.

-- Ready=False reasons that are not "wait and see" (chargeops/api/v1alpha1/conditions.py).
local waitingForPerson = {
  AwaitingApproval = true, ApprovalStale = true, AwaitingAcceptance = true, DeliveryUnknown = true,
}
local specErrors = {
  SiteNotFound = true, PlanNotEligible = true, TariffNotFound = true,
  CurrencyMismatch = true, InvalidTimeZone = true, IdTagConflict = true,
  DuplicateChargePointId = true, SecretNotFound = true, SigningKeyMissing = true,
}
local failures = { ChargerOffline = true, GatewayUnreachable = true, ConvergenceFailed = true, StripeFailed = true }

local function health(status, message)
  local hs = {}
  hs.status = status
  hs.message = message
  return hs
end

local function condition(conditionType)
  for _, c in ipairs(obj.status.conditions or {}) do
    if c.type == conditionType then
      return c
    end
  end
  return nil
end

local function messageOf(c, otherwise)
  if c ~= nil and c.message ~= nil and c.message ~= "" then
    return c.message
  end
  return otherwise
end

-- The API server sets metadata.generation on every custom resource, starting at 1.
local generation = obj.metadata.generation or 1
if obj.status == nil or obj.status.observedGeneration == nil or obj.status.observedGeneration < generation then
  return health("Progressing", "Waiting for the operator to observe generation " .. generation .. ".")
end

-- Stalled carries Ready's reason: waiting for a person (an approval) is Suspended, anything else Degraded.
local stalled = condition("Stalled")
if stalled ~= nil and stalled.status == "True" then
  local said = messageOf(stalled, "The operator cannot progress without a change by a person.")
  if waitingForPerson[stalled.reason or ""] then
    return health("Suspended", said)
  end
  return health("Degraded", said)
end

local ready = condition("Ready")
if ready ~= nil and ready.status == "True" then
  return health("Healthy", messageOf(ready, "The site is ready."))
end
if ready ~= nil and ready.status == "False" then
  local reason = ready.reason or ""
  local said = messageOf(ready, "Ready is False: " .. reason .. ".")
  if waitingForPerson[reason] then
    return health("Suspended", said)
  end
  if specErrors[reason] or failures[reason] then
    return health("Degraded", said)
  end
  return health("Progressing", said)
end

local reconciling = condition("Reconciling")
if reconciling ~= nil and reconciling.status == "True" then
  return health("Progressing", messageOf(reconciling, "The operator is reconciling the site."))
end
return health("Progressing", messageOf(ready, "Waiting for the operator to report Ready."))
