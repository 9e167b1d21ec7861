# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""karmada_interpreter's run: which bindings it refreshes, and when it says Karmada did not rebuild them.

The control plane is in memory. Its "detector" does what Karmada's does with a template change:
it builds the template's binding again, reading the replicas only when a replicaResource
customization exists (optionally only from the n-th change on, as a controller that has not loaded
the new customization yet).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

import pytest

from ansible_collections.multicluster.canary.plugins.module_utils import interpreter_runner as ir
from ansible_collections.multicluster.canary.plugins.module_utils import karmada_interpreter as ki
from ansible_collections.multicluster.canary.plugins.module_utils.fleet import FleetError
from ansible_collections.multicluster.canary.plugins.module_utils.runner import Run, RunError

SCRIPTS = ki.read_scripts()


class ControlPlane(object):
    name = "karmada"
    dry_run_supported = True

    def __init__(self, rebuild_after=1):
        self.objects = {}  # (plural, namespace, name) -> object
        self.rv = 0
        self.patches = []
        self.applies = []
        self.rebuild_after = rebuild_after  # the detector rebuilds from this many touches on

    def put(self, plural, obj):
        self.rv += 1
        obj = copy.deepcopy(obj)
        obj["metadata"]["resourceVersion"] = str(self.rv)
        self.objects[(plural, obj["metadata"].get("namespace"), obj["metadata"]["name"])] = obj

    def get(self, k, namespace, name, subresource=None):
        return copy.deepcopy(self.objects.get((k.plural, namespace, name)))

    def list(self, k, namespace=None, label_selector=None):
        return [copy.deepcopy(o) for (plural, _ns, _n), o in sorted(self.objects.items()) if plural == k.plural]

    def apply(self, k, obj, dry_run=False, **kw):
        current = self.get(k, obj["metadata"].get("namespace"), obj["metadata"]["name"])
        merged = copy.deepcopy(obj)
        merged["metadata"]["resourceVersion"] = (current or {}).get("metadata", {}).get("resourceVersion", "0")
        if dry_run:
            return merged
        self.applies.append(obj["metadata"]["name"])
        if current is None or current["spec"] != obj["spec"] or current["metadata"].get("labels") != \
                obj["metadata"].get("labels"):
            self.put(k.plural, obj)
        return self.get(k, obj["metadata"].get("namespace"), obj["metadata"]["name"])

    def delete(self, k, namespace, name, dry_run=False):
        if not dry_run:
            self.objects.pop((k.plural, namespace, name), None)

    def patch(self, k, namespace, name, patch, subresource=None, dry_run=False):
        self.patches.append((k.plural, namespace, name))
        template = self.objects[(k.plural, namespace, name)]
        template["metadata"].setdefault("annotations", {}).update(patch["metadata"]["annotations"])
        touches = sum(1 for p in self.patches if p == (k.plural, namespace, name))
        if touches >= self.rebuild_after and self.objects.get(("resourceinterpretercustomizations", None,
                                                               "multicluster-canary-rollout")):
            binding = self.objects[("resourcebindings", namespace, name + "-rollout")]
            binding["spec"]["replicas"] = template["spec"].get("replicas", 1)
        return template

    def watch(self, *args, **kwargs):
        raise FleetError("karmada: WATCH: not in this fake")  # the waiter reads again instead


class Fleet(object):
    def __init__(self, control):
        self.control = control


def rollout(namespace, name, replicas=4):
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
            "metadata": {"name": name, "namespace": namespace}, "spec": {"replicas": replicas}}


def binding(namespace, name, replicas=None):
    spec = {"resource": {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "namespace": namespace,
                         "name": name}}
    if replicas is not None:
        spec["replicas"] = replicas
    return {"metadata": {"name": name + "-rollout", "namespace": namespace}, "spec": spec}


def karmada(*apps, **kw):
    """A control plane holding Rollouts propagated before any customization: bindings without replicas."""
    control = ControlPlane(**kw)
    for namespace, name in apps:
        control.put("rollouts", rollout(namespace, name))
        control.put("resourcebindings", binding(namespace, name))
    return control


def run(control, check_mode=False, timeout=2, **params):
    options = dict(state="present", kinds=None, istio_api_versions=list(ki.ISTIO_VERSIONS), refresh_bindings=True,
                   refresh_timeout=timeout, lua_scripts=SCRIPTS)
    options.update(params)
    r = Run(options, check_mode=check_mode, fleet=Fleet(control), customizations=[], changed_customizations=[])
    ir.interpret(r)
    return r.result


def test_a_rollout_propagated_before_the_interpreter_is_refreshed_and_watched_until_rebuilt():
    control = karmada(("shop", "web"), ("shop", "api"))
    result = run(control)
    assert result["changed"] is True
    assert "multicluster-canary-rollout" in result["changed_customizations"]
    assert sorted(p[2] for p in control.patches) == ["api", "web"]
    assert result["refreshed"] == [
        {"kind": "Rollout", "namespace": "shop", "name": "api", "binding": "api-rollout", "replicas_before": 0,
         "replicas": 4},
        {"kind": "Rollout", "namespace": "shop", "name": "web", "binding": "web-rollout", "replicas_before": 0,
         "replicas": 4}]
    template = control.objects[("rollouts", "shop", "web")]
    assert ir.REFRESH_ANNOTATION in template["metadata"]["annotations"]
    assert control.objects[("resourcebindings", "shop", "web-rollout")]["spec"]["replicas"] == 4


def test_a_second_run_refreshes_nothing():
    control = karmada(("shop", "web"))
    run(control)
    control.patches = []
    again = run(control)
    assert again["changed"] is False and again["refreshed"] == [] and control.patches == []


def test_a_changed_replica_script_refreshes_every_rollout_binding():
    control = karmada(("shop", "web"))
    run(control)
    control.patches = []
    changed = dict(SCRIPTS)
    changed["rollout_replica_resource.lua"] = SCRIPTS["rollout_replica_resource.lua"] + "\n-- changed\n"
    result = run(control, lua_scripts=changed)
    assert result["changed_customizations"] == ["multicluster-canary-rollout"]
    assert [p[2] for p in control.patches] == ["web"]  # fresh, yet built with the old script


def test_a_changed_retention_script_refreshes_no_binding():
    control = karmada(("shop", "web"))
    run(control)
    control.patches = []
    changed = dict(SCRIPTS)
    changed["rollout_retention.lua"] = SCRIPTS["rollout_retention.lua"] + "\n-- changed\n"
    result = run(control, lua_scripts=changed)
    assert result["changed"] is True and control.patches == [] and result["refreshed"] == []


def test_check_mode_says_what_it_would_refresh_and_writes_nothing():
    control = karmada(("shop", "web"))
    before = copy.deepcopy(control.objects)
    result = run(control, check_mode=True)
    assert result["changed"] is True and [r["name"] for r in result["refreshed"]] == ["web"]
    assert control.objects == before and control.patches == [] and control.applies == []


def test_a_template_touched_before_the_customization_was_loaded_is_touched_again(monkeypatch):
    monkeypatch.setattr(ir, "RETOUCH_AFTER", 0.1)
    control = karmada(("shop", "web"), rebuild_after=2)
    result = run(control, timeout=5)
    assert [p[2] for p in control.patches] == ["web", "web"]
    assert result["refreshed"][0]["name"] == "web"


def test_a_binding_karmada_does_not_rebuild_fails_the_task_naming_it():
    control = karmada(("shop", "web"), rebuild_after=99)
    with pytest.raises(RunError) as e:
        run(control, timeout=1)
    assert "binding web-rollout has 0 replica(s), the template 4" in str(e.value)
    assert "the next run touches them again" in str(e.value)


def test_refresh_bindings_false_installs_only():
    control = karmada(("shop", "web"))
    result = run(control, refresh_bindings=False)
    assert result["changed"] is True and control.patches == [] and "refreshed" not in result


def test_another_customization_of_the_same_operation_stops_before_any_write():
    control = karmada(("shop", "web"))
    control.put("resourceinterpretercustomizations", {
        "metadata": {"name": "someone-elses-rollout"},
        "spec": {"target": {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout"},
                 "customizations": {"replicaResource": {"luaScript": "x"}}}})
    with pytest.raises(RunError) as e:
        run(control)
    assert "someone-elses-rollout already customizes argoproj.io/v1alpha1 Rollout (replicaResource)" in str(e.value)
    assert control.applies == [] and control.patches == []


def test_absent_removes_ours_and_touches_nothing():
    control = karmada(("shop", "web"))
    run(control)
    control.patches = []
    result = run(control, state="absent")
    assert result["changed"] is True and len(result["changed_customizations"]) == 8
    assert not [k for k in control.objects if k[0] == "resourceinterpretercustomizations"]
    assert control.patches == []


def test_a_template_deleted_while_the_run_looks_at_it_is_left_alone():
    class Deleting(ControlPlane):
        def patch(self, k, namespace, name, patch, **kw):
            if name == "gone":
                raise FleetError("karmada: PATCH: rollouts.argoproj.io \"gone\" not found", status=404)
            return super(Deleting, self).patch(k, namespace, name, patch, **kw)

    control = Deleting()
    for name in ("web", "gone"):
        control.put("rollouts", rollout("shop", name))
        control.put("resourcebindings", binding("shop", name))
    result = run(control)
    assert [r["name"] for r in result["refreshed"]] == ["web"]
