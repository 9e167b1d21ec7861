"""The Karmada interpreter customizations: structure in Python, behaviour in a real Lua 5.1.

The scripts are the files in plugins/module_utils/lua, read with ki.read_scripts() as the
action plugin reads them on the controller. Karmada runs them in gopher-lua (Lua 5.1). The Lua tests run each script in
the ``lua5.1`` binary (``apt-get install lua5.1``) the way Karmada does: objects become
Lua tables, the named function is called, the result is encoded back to JSON with
Karmada's rules (an empty table is ``[]``; ``[]`` where the inputs had ``{}`` turns
back into ``{}``, other empty results are dropped), with Karmada's sandbox (no
``loadstring``, ``setmetatable``, ``string.gsub``...; ``io`` and ``debug`` absent) and a stand-in for its
``kube`` library. They are skipped only when no Lua 5.1 interpreter is installed.
"""

import copy
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from ansible_collections.multicluster.canary.plugins.module_utils import karmada_interpreter as ki
from ansible_collections.multicluster.canary.plugins.module_utils.errors import InputError
from ansible_collections.multicluster.canary.plugins.module_utils.route_options import normalize
from ansible_collections.multicluster.canary.plugins.module_utils.route_plan import (
    OWNED_ROUTES_ANNOTATION,
    virtual_service,
)

SCRIPTS = ki.read_scripts()


def build(kinds=None, istio_versions=ki.ISTIO_VERSIONS):
    return ki.build_customizations(SCRIPTS, kinds, istio_versions)


FIXTURES = Path(__file__).resolve().parents[3] / "unit" / "fixtures" / "karmada"
LUA = os.environ.get("LUA51") or shutil.which("lua5.1") or shutil.which("lua51")

# CI installs lua5.1 (.ci/run) and sets MCC_REQUIRE_LUA=1, so there these tests fail instead of skipping.
if not LUA and os.environ.get("MCC_REQUIRE_LUA") == "1":
    raise RuntimeError("MCC_REQUIRE_LUA=1 but no lua5.1 found: the Lua scripts would go unchecked")
needs_lua = pytest.mark.skipif(not LUA, reason="no Lua 5.1 interpreter (apt-get install lua5.1)")


def fixture(name):
    return yaml.safe_load((FIXTURES / name).read_text())


# --- a Lua 5.1 runner shaped like Karmada's luavm ------------------------------------

PRELUDE = r"""
local gsub = string.gsub
local function quote(s)
  return '"' .. gsub(s, '[%c"\\]', function(c)
    return string.format("\\u%04x", string.byte(c))
  end) .. '"'
end

local function encode(v)
  local t = type(v)
  if t == "nil" then return "null" end
  if t == "boolean" then return tostring(v) end
  if t == "number" then
    if v == math.floor(v) and math.abs(v) < 1e15 then return string.format("%d", v) end
    return string.format("%.17g", v)
  end
  if t == "string" then return quote(v) end
  if t ~= "table" then error("cannot encode " .. t) end
  if next(v) == nil then return "[]" end
  local n, count = #v, 0
  for _ in pairs(v) do count = count + 1 end
  local parts = {}
  if n > 0 and n == count then
    for i = 1, n do parts[i] = encode(v[i]) end
    return "[" .. table.concat(parts, ",") .. "]"
  end
  for k, item in pairs(v) do
    if type(k) ~= "string" then error("mixed or sparse table (key " .. tostring(k) .. ")") end
    table.insert(parts, quote(k) .. ":" .. encode(item))
  end
  return "{" .. table.concat(parts, ",") .. "}"
end
__encode = encode

-- Stand-in for Karmada's kube library (pkg/resourceinterpreter/customized/declarative/luavm/kube.go).
package.preload["kube"] = function()
  local kube = {}
  function kube.accuratePodRequirements(template)
    local req = {}
    local spec = template.spec or {}
    for _, c in ipairs(spec.containers or {}) do
      if c.resources ~= nil and c.resources.requests ~= nil then
        for k, v in pairs(c.resources.requests) do req[k] = v end
      end
    end
    local out = {}
    if next(req) ~= nil then out.resourceRequest = req end
    if spec.nodeSelector ~= nil then out.nodeClaim = {nodeSelector = spec.nodeSelector} end
    return out
  end
  function kube.getPodDependencies(template, namespace)
    local refs = {}
    for _, vol in ipairs((template.spec or {}).volumes or {}) do
      if vol.configMap ~= nil then
        table.insert(refs, {apiVersion = "v1", kind = "ConfigMap", namespace = namespace, name = vol.configMap.name})
      end
      if vol.secret ~= nil then
        table.insert(refs, {apiVersion = "v1", kind = "Secret", namespace = namespace, name = vol.secret.secretName})
      end
    end
    return refs
  end
  function kube.resourceAdd() error("not in the stand-in") end
  return kube
end

-- Karmada's sandbox (luavm.setLib).
for _, name in ipairs({"collectgarbage", "dofile", "getfenv", "getmetatable", "load", "loadfile",
    "loadstring", "rawequal", "rawget", "rawset", "setfenv", "setmetatable", "module", "newproxy"}) do
  _G[name] = function() error("call function " .. name .. " is not supported in karmada") end
end
io = nil
debug = nil
-- Karmada's safe string library (lifted/lua OpenSafeString) has no gsub or rep.
string.gsub = function() error("string.gsub is not supported in karmada") end
string.rep = function() error("string.rep is not supported in karmada") end
"""


def lua_literal(value):
    """A Python JSON value as a Lua expression (like Karmada's decodeValue)."""
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        out = []
        for byte in value.encode("utf-8"):
            ch = chr(byte)
            out.append(ch if 32 <= byte < 127 and ch not in '"\\' else "\\{0:03d}".format(byte))
        return '"' + "".join(out) + '"'
    if isinstance(value, list):
        return "{" + ", ".join(lua_literal(v) for v in value) + "}"
    if isinstance(value, dict):
        return "{" + ", ".join("[{0}] = {1}".format(lua_literal(k), lua_literal(v))
                               for k, v in value.items() if v is not None) + "}"
    raise TypeError(value)


def _empty_paths(value, path, slices, structs):
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, item in items:
        here = path + ([key] if isinstance(value, dict) else [])
        if isinstance(item, list) and not item:
            slices.add(".".join(here))
        elif isinstance(item, dict) and not item:
            structs.add(".".join(here))
        elif isinstance(item, (list, dict)):
            _empty_paths(item, here, slices, structs)


def _fix_empty(value, path, slices, structs):
    """Karmada's convertEmptySliceToEmptyStructPartly on a decoded value."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            here = ".".join(path + [key])
            if item == []:
                if here in structs:
                    out[key] = {}
                elif here in slices:
                    out[key] = []
                continue
            out[key] = _fix_empty(item, path + [key], slices, structs)
        return out
    if isinstance(value, list):
        return [_fix_empty(item, path, slices, structs) for item in value]
    return value


# Which arguments Karmada hands to ConvertLuaResultInto as references (luavm/lua.go).
REFERENCES = {"Retain": (0, 1), "ReviseReplica": (0,)}


def run_lua(script, function, *args, nrets=1):
    """Call ``function(*args)`` defined by ``script``; returns the decoded results."""
    call = "\n".join([
        PRELUDE,
        script,
        "local __results = {{{0}({1})}}".format(function, ", ".join(lua_literal(a) for a in args)),
        "local __out = {}",
        "for i = 1, {0} do __out[i] = __encode(__results[i]) end".format(nrets),
        'print("[" .. table.concat(__out, ",") .. "]")',
    ])
    proc = subprocess.run([LUA, "-"], input=call, capture_output=True, text=True, timeout=30, check=False)
    if proc.returncode != 0:
        raise AssertionError("lua failed: " + proc.stderr)
    results = json.loads(proc.stdout)
    slices, structs = set(), set()
    for i in REFERENCES.get(function, ()):
        _empty_paths(args[i], [], slices, structs)
    fixed = []
    for r in results:
        if r == []:
            fixed.append([])
        else:
            fixed.append(_fix_empty(r, [], slices, structs))
    return fixed


def scripts(name_suffix):
    for c in build():
        if c["metadata"]["name"] == ki.NAME_PREFIX + name_suffix:
            return dict((k, v["luaScript"]) for k, v in c["spec"]["customizations"].items())
    raise KeyError(name_suffix)


# --- structure -----------------------------------------------------------------------


def test_default_builds_every_kind_for_every_istio_version():
    names = [c["metadata"]["name"] for c in build()]
    assert names == [
        "multicluster-canary-rollout", "multicluster-canary-service",
        "multicluster-canary-virtualservice-v1", "multicluster-canary-destinationrule-v1",
        "multicluster-canary-virtualservice-v1beta1", "multicluster-canary-destinationrule-v1beta1",
        "multicluster-canary-virtualservice-v1alpha3", "multicluster-canary-destinationrule-v1alpha3",
    ]


def test_every_script_is_its_file_as_karmada_runs_it():
    """Loaded as data: no template formatting, no rewriting; only the dependency script of an Istio without v1
    gets one line before it, binding the version."""
    files = dict((name, (Path(ki.LUA_DIR) / name).read_text()) for name in ki.script_names())
    assert sorted(files) == sorted(os.listdir(ki.LUA_DIR))
    for ric in build():
        kind = ric["metadata"]["name"][len(ki.NAME_PREFIX):].split("-")[0]
        for operation, name in ki.SCRIPT_FILES[kind]:
            assert ric["spec"]["customizations"][operation]["luaScript"] == files[name], (kind, operation)
    old_istio, = build(["rollout"], istio_versions=["v1beta1", "v1alpha3"])
    script = old_istio["spec"]["customizations"]["dependencyInterpretation"]["luaScript"]
    assert script == 'local ISTIO_API_VERSION = "networking.istio.io/v1beta1"\n' + files["rollout_dependencies.lua"]


def test_istio_versions_are_checked_before_they_reach_a_script():
    with pytest.raises(InputError) as e:
        build(["rollout"], istio_versions=['v1" os.exit() "'])
    assert e.value.field == "istio_api_versions"


def test_a_missing_script_names_the_action_plugin():
    with pytest.raises(InputError) as e:
        ki.build_customizations(None, ["service"])
    assert e.value.field == "lua_scripts" and "action plugin" in str(e.value)


def test_rollout_customization_shape():
    ric, = build(["rollout"])
    assert ric["apiVersion"] == "config.karmada.io/v1alpha1"
    assert ric["kind"] == "ResourceInterpreterCustomization"
    assert ric["spec"]["target"] == {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout"}
    assert sorted(ric["spec"]["customizations"]) == sorted([
        "replicaResource", "replicaRevision", "statusReflection", "statusAggregation",
        "healthInterpretation", "dependencyInterpretation", "retention"])
    for rule, fn in [("replicaResource", "GetReplicas"), ("replicaRevision", "ReviseReplica"),
                     ("statusReflection", "ReflectStatus"), ("statusAggregation", "AggregateStatus"),
                     ("healthInterpretation", "InterpretHealth"), ("dependencyInterpretation", "GetDependencies"),
                     ("retention", "Retain")]:
        assert "function {0}(".format(fn) in ric["spec"]["customizations"][rule]["luaScript"]


def test_istio_targets_follow_versions():
    rics = build(["virtualservice"], istio_versions=["v1beta1"])
    assert [r["spec"]["target"] for r in rics] == [{"apiVersion": "networking.istio.io/v1beta1", "kind": "VirtualService"}]


def test_unknown_kind():
    with pytest.raises(InputError) as e:
        build(["gateway"])
    assert "gateway" in str(e.value) and e.value.field == "kinds"


def test_conflicts_name_the_other_customization():
    desired = build(["rollout"])
    other = {"metadata": {"name": "declarative-configuration-rollout"},
             "spec": {"target": {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout"},
                      "customizations": {"healthInterpretation": {"luaScript": "x"}}}}
    ours_again = copy.deepcopy(desired[0])
    unrelated = {"metadata": {"name": "x"},
                 "spec": {"target": {"apiVersion": "apps/v1", "kind": "Deployment"}, "customizations": {"retention": {}}}}
    found = ki.conflicts(desired, [other, ours_again, unrelated])
    assert found == ["declarative-configuration-rollout already customizes argoproj.io/v1alpha1 Rollout "
                     "(healthInterpretation)"]


# --- Rollout scripts in Lua ---------------------------------------------------------


@needs_lua
def test_every_script_compiles_and_defines_its_function():
    for ric in build():
        for rule, body in ric["spec"]["customizations"].items():
            fn = {"replicaResource": "GetReplicas", "replicaRevision": "ReviseReplica",
                  "statusReflection": "ReflectStatus", "statusAggregation": "AggregateStatus",
                  "healthInterpretation": "InterpretHealth", "dependencyInterpretation": "GetDependencies",
                  "retention": "Retain"}[rule]
            code = PRELUDE + body["luaScript"] + "\nassert(type({0}) == 'function')\n".format(fn)
            proc = subprocess.run([LUA, "-"], input=code, capture_output=True, text=True, timeout=30, check=False)
            assert proc.returncode == 0, "{0} {1}: {2}".format(ric["metadata"]["name"], rule, proc.stderr)


@needs_lua
def test_get_replicas_returns_replicas_and_requirements():
    replicas, req = run_lua(scripts("rollout")["replicaResource"], "GetReplicas",
                            fixture("helloworld-rollout.yml"), nrets=2)
    assert replicas == 4
    assert req == {"resourceRequest": {"cpu": "100m", "memory": "64Mi"}}


@needs_lua
def test_get_replicas_defaults_to_one_like_argo():
    ro = fixture("helloworld-rollout.yml")
    del ro["spec"]["replicas"]
    assert run_lua(scripts("rollout")["replicaResource"], "GetReplicas", ro, nrets=2)[0] == 1


@needs_lua
def test_revise_replica_sets_spec_replicas_and_keeps_empty_steps():
    ro = fixture("helloworld-rollout.yml")
    revised, = run_lua(scripts("rollout")["replicaRevision"], "ReviseReplica", ro, 1)
    assert revised["spec"]["replicas"] == 1
    expected = copy.deepcopy(ro)
    expected["spec"]["replicas"] = 1
    assert revised == expected  # `pause: {}` survives the round trip
    assert revised["spec"]["strategy"]["canary"]["steps"][3] == {"pause": {}}


@needs_lua
def test_reflect_status_picks_the_rollout_fields():
    status, = run_lua(scripts("rollout")["statusReflection"], "ReflectStatus", fixture("helloworld-rollout-member.yml"))
    assert status["generation"] == 7
    assert status["phase"] == "Paused"
    assert status["readyReplicas"] == 2
    assert status["observedGeneration"] == "7"
    assert status["pauseConditions"][0]["reason"] == "CanaryPauseStep"


@needs_lua
def test_aggregate_status_sums_and_keeps_the_worst_phase():
    ro = fixture("helloworld-rollout.yml")
    items = [
        {"clusterName": "k8s-master-beijing", "applied": True,
         "status": {"replicas": 2, "readyReplicas": 2, "availableReplicas": 2, "updatedReplicas": 1,
                    "phase": "Paused", "message": "CanaryPauseStep"}},
        {"clusterName": "k8s-master-shanghai", "applied": True,
         "status": {"replicas": 1, "readyReplicas": 0, "availableReplicas": 0, "updatedReplicas": 1,
                    "phase": "Degraded", "message": "ProgressDeadlineExceeded", "abort": True}},
        {"clusterName": "k8s-master-guangzhou", "applied": True,
         "status": {"replicas": 1, "readyReplicas": 1, "availableReplicas": 1, "updatedReplicas": 1,
                    "phase": "Healthy"}},
    ]
    out, = run_lua(scripts("rollout")["statusAggregation"], "AggregateStatus", ro, items)
    assert out["status"]["replicas"] == 4
    assert out["status"]["readyReplicas"] == 3
    assert out["status"]["availableReplicas"] == 3
    assert out["status"]["updatedReplicas"] == 3
    assert out["status"]["phase"] == "Degraded"
    assert out["status"]["message"] == "k8s-master-shanghai: ProgressDeadlineExceeded"
    assert out["status"]["abort"] is True
    # Karmada converts this result without references, so `pause: {}` loses its empty
    # body here; harmless, as Karmada writes only the status of the aggregated object.
    assert out["spec"]["strategy"]["canary"]["steps"][3] == {}


@needs_lua
def test_aggregate_status_member_without_status_is_progressing():
    ro = fixture("helloworld-rollout.yml")
    items = [{"clusterName": "a", "status": {"replicas": 1, "readyReplicas": 1, "phase": "Healthy"}},
             {"clusterName": "b"}]
    out, = run_lua(scripts("rollout")["statusAggregation"], "AggregateStatus", ro, items)
    assert out["status"]["phase"] == "Progressing"
    assert out["status"]["message"] == "b: waiting for status"
    all_healthy = [{"clusterName": "a", "status": {"replicas": 1, "phase": "Healthy"}},
                   {"clusterName": "b", "status": {"replicas": 3, "phase": "Healthy"}}]
    out, = run_lua(scripts("rollout")["statusAggregation"], "AggregateStatus", ro, all_healthy)
    assert out["status"]["phase"] == "Healthy" and out["status"]["replicas"] == 4
    assert "message" not in out["status"]


@needs_lua
@pytest.mark.parametrize("status, healthy", [
    (None, True),
    ({"phase": "Healthy"}, True),
    ({"phase": "Paused"}, True),
    ({"phase": "Progressing"}, True),
    ({"phase": "Degraded"}, False),
    ({"phase": "Progressing", "abort": True}, False),
])
def test_interpret_health(status, healthy):
    ro = fixture("helloworld-rollout-member.yml")
    if status is None:
        del ro["status"]
    else:
        ro["status"] = status
    assert run_lua(scripts("rollout")["healthInterpretation"], "InterpretHealth", ro) == [healthy]


@needs_lua
def test_dependencies_name_services_and_istio_objects():
    ro = fixture("helloworld-rollout.yml")
    ro["spec"]["template"]["spec"]["volumes"] = [{"name": "cfg", "configMap": {"name": "helloworld-config"}}]
    ro["spec"]["strategy"]["canary"]["trafficRouting"]["istio"]["destinationRule"] = {
        "name": "helloworld-dr", "canarySubsetName": "canary", "stableSubsetName": "stable"}
    refs, = run_lua(scripts("rollout")["dependencyInterpretation"], "GetDependencies", ro)
    ns = "helloworld-rollout"
    assert refs == [
        {"apiVersion": "v1", "kind": "ConfigMap", "namespace": ns, "name": "helloworld-config"},
        {"apiVersion": "v1", "kind": "Service", "namespace": ns, "name": "helloworld-svc-canary"},
        {"apiVersion": "v1", "kind": "Service", "namespace": ns, "name": "helloworld-svc-stable"},
        {"apiVersion": "networking.istio.io/v1", "kind": "VirtualService", "namespace": ns, "name": "helloworld-vsvc"},
        {"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule", "namespace": ns, "name": "helloworld-dr"},
    ]


@needs_lua
def test_dependencies_follow_the_first_istio_version():
    ro = fixture("helloworld-rollout.yml")
    ric, = build(["rollout"], istio_versions=["v1alpha3"])
    refs, = run_lua(ric["spec"]["customizations"]["dependencyInterpretation"]["luaScript"], "GetDependencies", ro)
    assert [r["apiVersion"] for r in refs if r["kind"] == "VirtualService"] == ["networking.istio.io/v1alpha3"]


@needs_lua
def test_rollout_retention_keeps_member_pause_and_restart():
    desired = fixture("helloworld-rollout.yml")
    desired["spec"]["replicas"] = 1
    observed = fixture("helloworld-rollout-member.yml")
    out, = run_lua(scripts("rollout")["retention"], "Retain", desired, observed)
    assert out["spec"]["paused"] is True
    assert out["spec"]["restartAt"] == "2024-01-30T10:00:00Z"
    # the template keeps authority over everything else
    assert out["spec"]["template"] == desired["spec"]["template"]
    assert out["spec"]["strategy"] == desired["spec"]["strategy"]
    assert out["spec"]["replicas"] == 1


@needs_lua
def test_rollout_retention_later_template_restart_wins():
    desired = fixture("helloworld-rollout.yml")
    desired["spec"]["restartAt"] = "2024-02-01T00:00:00Z"
    out, = run_lua(scripts("rollout")["retention"], "Retain", desired, fixture("helloworld-rollout-member.yml"))
    assert out["spec"]["restartAt"] == "2024-02-01T00:00:00Z"


@needs_lua
def test_rollout_retention_copies_no_status():
    """The member's status in what Karmada applies makes every resync a write (status is pruned from its copy)."""
    desired = fixture("helloworld-rollout.yml")
    out, = run_lua(scripts("rollout")["retention"], "Retain", desired, fixture("helloworld-rollout-member.yml"))
    assert "status" not in out
    assert set(out) == set(desired)
    assert set(out["metadata"]) == set(desired["metadata"])


def _typed_rewrite(rollout):
    """What Argo's controller makes of a Rollout when it writes it back through its Go types."""
    out = copy.deepcopy(rollout)
    for container in out["spec"]["template"]["spec"]["containers"]:
        container.setdefault("resources", {})
    return out


@needs_lua
def test_rollout_retention_keeps_argo_empty_resources_so_karmada_sees_no_difference():
    desired = fixture("helloworld-rollout.yml")
    del desired["spec"]["template"]["spec"]["containers"][0]["resources"]
    desired["spec"]["template"]["spec"]["containers"].append({"name": "sidecar", "image": "sidecar:1"})
    member = _typed_rewrite(desired)
    out, = run_lua(scripts("rollout")["retention"], "Retain", copy.deepcopy(desired), member)
    # Karmada compares this with the member (status and server fields pruned): equal means no write.
    assert out["spec"] == member["spec"]
    assert [c["resources"] for c in out["spec"]["template"]["spec"]["containers"]] == [{}, {}]


@needs_lua
def test_rollout_retention_new_image_keeps_empty_resources_and_lands():
    template = fixture("helloworld-rollout.yml")
    del template["spec"]["template"]["spec"]["containers"][0]["resources"]
    member = _typed_rewrite(template)
    template["spec"]["template"]["spec"]["containers"][0]["image"] = "helloworld:v2"
    out, = run_lua(scripts("rollout")["retention"], "Retain", template, member)
    container = out["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "helloworld:v2"
    assert container["resources"] == {}


@needs_lua
def test_rollout_retention_template_resources_win():
    # Resources set on the template land; resources removed from the template are removed.
    template = fixture("helloworld-rollout.yml")
    member = copy.deepcopy(template)
    member["spec"]["template"]["spec"]["containers"][0]["resources"] = {"requests": {"cpu": "1"}}
    out, = run_lua(scripts("rollout")["retention"], "Retain", copy.deepcopy(template), member)
    assert out["spec"]["template"]["spec"]["containers"][0]["resources"] == {
        "requests": {"cpu": "100m", "memory": "64Mi"}}
    del template["spec"]["template"]["spec"]["containers"][0]["resources"]
    out, = run_lua(scripts("rollout")["retention"], "Retain", template, member)
    assert "resources" not in out["spec"]["template"]["spec"]["containers"][0]


@needs_lua
def test_rollout_retention_matches_containers_by_name():
    template = fixture("helloworld-rollout.yml")
    del template["spec"]["template"]["spec"]["containers"][0]["resources"]
    template["spec"]["template"]["spec"]["initContainers"] = [{"name": "init", "image": "init:1"}]
    member = _typed_rewrite(template)
    member["spec"]["template"]["spec"]["containers"][0]["name"] = "renamed"
    member["spec"]["template"]["spec"]["initContainers"][0]["resources"] = {}
    out, = run_lua(scripts("rollout")["retention"], "Retain", template, member)
    pod = out["spec"]["template"]["spec"]
    assert "resources" not in pod["containers"][0]
    assert pod["initContainers"][0]["resources"] == {}


@needs_lua
def test_aggregate_status_abort_follows_the_members():
    """After an abort, retry or a new image clears status.abort in the members: the aggregate follows."""
    ro = fixture("helloworld-rollout.yml")
    ro["status"] = {"replicas": 4, "abort": True, "phase": "Degraded"}  # the previous aggregation
    items = [{"clusterName": "a", "status": {"replicas": 2, "phase": "Paused", "abort": False}},
             {"clusterName": "b", "status": {"replicas": 2, "phase": "Paused"}}]
    out, = run_lua(scripts("rollout")["statusAggregation"], "AggregateStatus", ro, items)
    assert out["status"]["abort"] is False
    assert out["status"]["phase"] == "Paused"
    items[1]["status"]["abort"] = True
    out, = run_lua(scripts("rollout")["statusAggregation"], "AggregateStatus", ro, items)
    assert out["status"]["abort"] is True


# --- retention of what Argo Rollouts writes in members ---------------------------------


@needs_lua
def test_service_retention_keeps_hash_and_cluster_ip():
    desired = fixture("helloworld-svc-canary.yml")
    observed = fixture("helloworld-svc-canary-member.yml")
    out, = run_lua(scripts("service")["retention"], "Retain", desired, observed)
    assert out["spec"]["selector"] == {"app": "helloworld", "rollouts-pod-template-hash": "6b9f7c8d5"}
    assert out["spec"]["clusterIP"] == "10.96.12.34"
    assert out["spec"]["clusterIPs"] == ["10.96.12.34"]


@needs_lua
def test_service_retention_lets_template_selector_changes_through():
    desired = fixture("helloworld-svc-canary.yml")
    desired["spec"]["selector"] = {"app": "helloworld", "tier": "web"}
    desired["spec"]["ports"].append({"port": 8080, "name": "admin", "protocol": "TCP"})
    out, = run_lua(scripts("service")["retention"], "Retain", desired, fixture("helloworld-svc-canary-member.yml"))
    assert out["spec"]["selector"] == {"app": "helloworld", "tier": "web", "rollouts-pod-template-hash": "6b9f7c8d5"}
    assert len(out["spec"]["ports"]) == 2


@needs_lua
def test_service_retention_without_argo_changes_nothing_but_allocations():
    desired = fixture("helloworld-svc-canary.yml")
    observed = fixture("helloworld-svc-canary-member.yml")
    del observed["spec"]["selector"]["rollouts-pod-template-hash"]
    out, = run_lua(scripts("service")["retention"], "Retain", desired, observed)
    expected = copy.deepcopy(desired)
    expected["spec"].update(clusterIP="10.96.12.34", clusterIPs=["10.96.12.34"])
    assert out == expected


@needs_lua
def test_service_retention_keeps_node_ports():
    desired = fixture("helloworld-svc-canary.yml")
    desired["spec"]["type"] = "NodePort"
    observed = fixture("helloworld-svc-canary-member.yml")
    observed["spec"]["type"] = "NodePort"
    observed["spec"]["ports"][0]["nodePort"] = 31080
    out, = run_lua(scripts("service")["retention"], "Retain", desired, observed)
    assert out["spec"]["ports"][0]["nodePort"] == 31080


@needs_lua
def test_destination_rule_retention_keeps_subset_hashes_only():
    desired = fixture("reviews-destinationrule.yml")
    desired["spec"]["subsets"][1]["labels"]["version"] = "v2"
    desired["spec"]["subsets"].append({"name": "preview", "labels": {"app": "reviews", "lane": "test-v2"}})
    desired["spec"]["trafficPolicy"] = {"tls": {"mode": "DISABLE"}}
    out, = run_lua(scripts("destinationrule-v1beta1")["retention"], "Retain", desired,
                   fixture("reviews-destinationrule-member.yml"))
    subsets = out["spec"]["subsets"]
    assert subsets[0]["labels"] == {"app": "reviews", "rollouts-pod-template-hash": "5d4c8b7f9"}
    assert subsets[1]["labels"] == {"app": "reviews", "version": "v2", "rollouts-pod-template-hash": "6b9f7c8d5"}
    assert subsets[2] == {"name": "preview", "labels": {"app": "reviews", "lane": "test-v2"}}
    assert out["spec"]["trafficPolicy"] == {"tls": {"mode": "DISABLE"}}


@needs_lua
def test_virtual_service_retention_keeps_argo_weights_and_header_route():
    desired = fixture("helloworld-vsvc.yml")
    observed = fixture("helloworld-vsvc-member.yml")
    out, = run_lua(scripts("virtualservice-v1alpha3")["retention"], "Retain", desired, observed)
    assert out["spec"] == observed["spec"]


@needs_lua
def test_virtual_service_retention_lets_our_changes_through():
    desired = fixture("helloworld-vsvc.yml")
    desired["spec"]["hosts"].append("www.huanghuanhui.cloud")
    primary = desired["spec"]["http"][0]
    primary["match"] = [{"uri": {"prefix": "/"}}]
    primary["timeout"] = "5s"
    desired["spec"]["http"].append({"name": "api", "match": [{"uri": {"prefix": "/prod-api"}}],
                                    "route": [{"destination": {"host": "ruoyi-gateway"}, "weight": 100}]})
    out, = run_lua(scripts("virtualservice-v1alpha3")["retention"], "Retain", desired,
                   fixture("helloworld-vsvc-member.yml"))
    http = out["spec"]["http"]
    assert [r["name"] for r in http] == ["header-route-1", "primary", "api"]
    assert out["spec"]["hosts"] == ["helloworld.huanghuanhui.cloud", "www.huanghuanhui.cloud"]
    assert http[1]["match"] == [{"uri": {"prefix": "/"}}] and http[1]["timeout"] == "5s"
    assert [d["weight"] for d in http[1]["route"]] == [80, 20]
    assert http[2]["route"][0]["weight"] == 100


@needs_lua
def test_virtual_service_retention_new_destination_keeps_template_weight():
    desired = fixture("helloworld-vsvc.yml")
    desired["spec"]["http"][0]["route"][1]["destination"]["host"] = "helloworld-svc-preview"
    out, = run_lua(scripts("virtualservice-v1alpha3")["retention"], "Retain", desired,
                   fixture("helloworld-vsvc-member.yml"))
    primary = out["spec"]["http"][1]
    assert [(d["destination"]["host"], d["weight"]) for d in primary["route"]] == [
        ("helloworld-svc-stable", 80), ("helloworld-svc-preview", 0)]


@needs_lua
def test_virtual_service_retention_matches_subsets_and_short_hosts():
    desired = {"metadata": {"name": "r"}, "spec": {"hosts": ["reviews"], "http": [{"name": "primary", "route": [
        {"destination": {"host": "reviews.bookinfo.svc.cluster.local", "subset": "stable"}, "weight": 100},
        {"destination": {"host": "reviews.bookinfo.svc.cluster.local", "subset": "canary"}, "weight": 0}]}]}}
    observed = copy.deepcopy(desired)
    observed["spec"]["http"][0]["route"][0] = {"destination": {"host": "reviews", "subset": "stable"}, "weight": 95}
    observed["spec"]["http"][0]["route"][1]["weight"] = 5
    out, = run_lua(scripts("virtualservice-v1")["retention"], "Retain", desired, observed)
    route = out["spec"]["http"][0]["route"]
    assert [d["weight"] for d in route] == [95, 5]
    assert route[0]["destination"]["host"] == "reviews.bookinfo.svc.cluster.local"


@needs_lua
def test_virtual_service_retention_drops_routes_we_removed_below_ours():
    # A member-only route that is not at the top is not Argo's: our removal lands.
    desired = fixture("helloworld-vsvc.yml")
    observed = fixture("helloworld-vsvc-member.yml")
    observed["spec"]["http"].append({"name": "old", "route": [{"destination": {"host": "old"}}]})
    out, = run_lua(scripts("virtualservice-v1alpha3")["retention"], "Retain", desired, observed)
    assert [r["name"] for r in out["spec"]["http"]] == ["header-route-1", "primary"]


def test_one_ownership_annotation_for_the_planner_and_the_retention():
    """istio_canary_route writes OWNED_ROUTES_ANNOTATION; the VirtualService retention reads that same one."""
    assert OWNED_ROUTES_ANNOTATION == "multicluster.canary/owned-routes"
    script = SCRIPTS["virtualservice_retention.lua"]
    assert 'local OWNED_ROUTES = "{0}"'.format(OWNED_ROUTES_ANNOTATION) in script
    assert "managed-routes" not in script


@needs_lua
def test_virtual_service_retention_drops_a_route_we_owned_even_at_the_top():
    """A lane removed from istio_canary_route's options leaves the member; Argo's header route stays."""
    spec = dict(name="helloworld-vsvc", namespace="helloworld-rollout", hosts=["helloworld.huanghuanhui.cloud"],
                gateways=["helloworld-gateway"], stable={"host": "helloworld-svc-stable"},
                canary={"host": "helloworld-svc-canary"}, managed_routes=["header-route-1"])
    lane = {"name": "lane", "headers": {"x-lane": "canary"}}
    before = virtual_service(normalize(dict(spec, lanes=[lane])))  # the template the member was synced from
    member = copy.deepcopy(before)  # ... where Argo then put its header route at the top
    member["spec"]["http"].insert(0, fixture("helloworld-vsvc-member.yml")["spec"]["http"][0])
    assert [r["name"] for r in member["spec"]["http"]] == ["header-route-1", "lane", "primary"]
    after = virtual_service(normalize(spec), before)  # the lane dropped from the options
    assert after["metadata"]["annotations"][OWNED_ROUTES_ANNOTATION] == "primary"
    out, = run_lua(SCRIPTS["virtualservice_retention.lua"], "Retain", after, member)
    assert [r["name"] for r in out["spec"]["http"]] == ["header-route-1", "primary"]


@needs_lua
def test_virtual_service_retention_keeps_argo_routes_we_never_owned():
    desired = fixture("helloworld-vsvc.yml")
    desired["metadata"]["annotations"] = {OWNED_ROUTES_ANNOTATION: "primary"}
    observed = fixture("helloworld-vsvc-member.yml")
    observed["metadata"]["annotations"] = {OWNED_ROUTES_ANNOTATION: "primary"}
    observed["spec"]["http"].insert(0, {"name": "mirror-route", "mirror": {"host": "helloworld-svc-canary"},
                                        "route": [{"destination": {"host": "helloworld-svc-stable"}}]})
    out, = run_lua(SCRIPTS["virtualservice_retention.lua"], "Retain", desired, observed)
    assert [r["name"] for r in out["spec"]["http"]] == ["mirror-route", "header-route-1", "primary"]


@needs_lua
def test_virtual_service_retention_unnamed_route_and_tcp_by_position():
    desired = {"metadata": {"name": "r"}, "spec": {
        "http": [{"route": [{"destination": {"host": "stable"}, "weight": 100},
                            {"destination": {"host": "canary"}, "weight": 0}]}],
        "tcp": [{"route": [{"destination": {"host": "stable"}, "weight": 100},
                           {"destination": {"host": "canary"}, "weight": 0}]}]}}
    observed = copy.deepcopy(desired)
    for kind in ("http", "tcp"):
        observed["spec"][kind][0]["route"][0]["weight"] = 60
        observed["spec"][kind][0]["route"][1]["weight"] = 40
    out, = run_lua(scripts("virtualservice-v1")["retention"], "Retain", desired, observed)
    assert out["spec"] == observed["spec"]


@needs_lua
def test_virtual_service_retention_without_member_http_is_the_template():
    desired = fixture("helloworld-vsvc.yml")
    observed = copy.deepcopy(desired)
    del observed["spec"]["http"]
    out, = run_lua(scripts("virtualservice-v1alpha3")["retention"], "Retain", desired, observed)
    assert out["spec"] == desired["spec"]
    assert out["metadata"]["annotations"][WEIGHTS] == (
        "http/primary/helloworld-svc-stable/=100;http/primary/helloworld-svc-canary/=0")


WEIGHTS = "multicluster.canary/template-weights"


def _primary(stable, canary, extra_routes=()):
    return {"metadata": {"name": "vs", "namespace": "ns"}, "spec": {"http": [
        *extra_routes,
        {"name": "primary", "route": [{"destination": {"host": "stable"}, "weight": stable},
                                      {"destination": {"host": "canary"}, "weight": canary}]}]}}


def _weights(obj):
    return [d["weight"] for r in obj["spec"]["http"] if r.get("name") == "primary" for d in r["route"]]


@needs_lua
def test_virtual_service_retention_keeps_argo_weights_while_the_template_is_unchanged():
    desired = _primary(100, 0)
    observed = _primary(80, 20)  # Argo's setWeight 20 in the member
    observed["metadata"]["annotations"] = {WEIGHTS: "http/primary/stable/=100;http/primary/canary/=0"}
    out, = run_lua(scripts("virtualservice-v1")["retention"], "Retain", desired, observed)
    assert _weights(out) == [80, 20]


@needs_lua
def test_virtual_service_retention_lets_a_template_weight_change_through():
    desired = _primary(70, 30)  # our own change on the template
    observed = _primary(80, 20)
    observed["metadata"]["annotations"] = {WEIGHTS: "http/primary/stable/=100;http/primary/canary/=0"}
    out, = run_lua(scripts("virtualservice-v1")["retention"], "Retain", desired, observed)
    assert _weights(out) == [70, 30]
    assert out["metadata"]["annotations"][WEIGHTS] == "http/primary/stable/=70;http/primary/canary/=30"


@needs_lua
def test_virtual_service_retention_without_a_record_follows_karmada_generation():
    gen = "resourcetemplate.karmada.io/generation"
    observed = _primary(80, 20)
    observed["metadata"]["annotations"] = {gen: "1"}
    same = _primary(100, 0)
    same["metadata"]["annotations"] = {gen: "1"}  # template unchanged: the 80/20 is Argo's
    out, = run_lua(scripts("virtualservice-v1")["retention"], "Retain", same, observed)
    assert _weights(out) == [80, 20]
    changed = _primary(70, 30)
    changed["metadata"]["annotations"] = {gen: "2"}  # template edited since the member's last sync
    out, = run_lua(scripts("virtualservice-v1")["retention"], "Retain", changed, observed)
    assert _weights(out) == [70, 30]


@needs_lua
def test_virtual_service_retention_new_template_route_keeps_argo_weights():
    lane = {"name": "lane", "match": [{"headers": {"x-lane": {"exact": "canary"}}}],
            "route": [{"destination": {"host": "canary"}}]}
    desired = _primary(100, 0, extra_routes=[lane])
    observed = _primary(80, 20)
    observed["metadata"]["annotations"] = {WEIGHTS: "http/primary/stable/=100;http/primary/canary/=0"}
    out, = run_lua(scripts("virtualservice-v1")["retention"], "Retain", desired, observed)
    assert [r["name"] for r in out["spec"]["http"]] == ["lane", "primary"]
    assert _weights(out) == [80, 20]


@needs_lua
def test_returned_objects_carry_no_managed_fields():
    """Karmada v1.14's result conversion breaks on managedFields keys like f:app.kubernetes.io/managed-by."""
    managed = [{"manager": "kubectl", "fieldsV1": {"f:metadata": {"f:labels": {
        "f:app": {}, "f:app.kubernetes.io/managed-by": {}}}}}]
    rollout = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
               "metadata": {"name": "r", "labels": {"app": "r", "app.kubernetes.io/managed-by": "Helm"},
                            "managedFields": managed},
               "spec": {"replicas": 4, "strategy": {"canary": {"steps": [{"pause": {}}]}}}}
    out, = run_lua(scripts("rollout")["replicaRevision"], "ReviseReplica", rollout, 1)
    assert out["spec"]["replicas"] == 1
    assert "managedFields" not in out["metadata"]
    assert out["metadata"]["labels"] == rollout["metadata"]["labels"]
    vs = _primary(100, 0)
    vs["metadata"]["managedFields"] = managed
    out, = run_lua(scripts("virtualservice-v1")["retention"], "Retain", vs, _primary(80, 20))
    assert "managedFields" not in out["metadata"]
