# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""karmada_interpreter's run: the customizations installed or removed, and the bindings they fix refreshed.

Karmada reads a template's replicas (the replicaResource customization) only when its detector
builds the template's ResourceBinding, that is when the template or its policy changes. A Rollout
propagated before its customization existed keeps a binding without replicas, and so every member
keeps the whole ``spec.replicas``, until something touches the template. So when a replica
customization is created or changed, every binding of that kind is refreshed; otherwise only the
bindings that still disagree with their template (a run that failed halfway, a Karmada that was
down). A refresh is a metadata-only change of the template (the annotation ``REFRESH_ANNOTATION``):
the detector takes any change a user makes as a reason to build the binding again, and the binding
is then watched until it carries the template's replicas.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time
from datetime import datetime, timezone

from ansible_collections.multicluster.canary.plugins.module_utils import karmada_interpreter as ki
from ansible_collections.multicluster.canary.plugins.module_utils.fleet import FleetError, kind
from ansible_collections.multicluster.canary.plugins.module_utils.service import apply_if_needed, delete_if_present
from ansible_collections.multicluster.canary.plugins.module_utils.waiter import FleetWaiter

REFRESH_ANNOTATION = "multicluster.canary/interpreter-refreshed-at"
# A binding not rebuilt after this long is touched once more: the controller may have read the
# template before it loaded the new customization.
RETOUCH_AFTER = 10
NOT_FOUND = 404


def replica_scripts(customization):
    """{operation: script} of the operations that decide how replicas are divided."""
    rules = ((customization or {}).get("spec") or {}).get("customizations") or {}
    return dict((op, (rules.get(op) or {}).get("luaScript")) for op in ki.REPLICA_OPERATIONS if op in rules)


def replicas_changed(before, want):
    """Whether ``want`` sets replica operations that ``before`` (the live customization, or None) lacks or differs in."""
    wanted = replica_scripts(want)
    return bool(wanted) and replica_scripts(before) != wanted


def expected_replicas(template):
    """The replicas Karmada reads from a Rollout template with our customization (Argo's default is 1)."""
    replicas = ((template or {}).get("spec") or {}).get("replicas")
    return 1 if replicas is None else replicas


def binding_replicas(binding):
    return ((binding or {}).get("spec") or {}).get("replicas") or 0


def stale(binding, template):
    """A binding built without the replica customization (or before its template's replicas changed)."""
    return binding_replicas(binding) != expected_replicas(template)


def _stamp():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Interpreter(object):
    """One karmada_interpreter run against the Karmada control plane."""

    def __init__(self, run):
        self.run = run
        p = run.params
        self.desired = ki.build_customizations(p.get("lua_scripts"), p["kinds"], p["istio_api_versions"])
        self.names = [c["metadata"]["name"] for c in self.desired]
        self.control = run.fleet.control
        self.ric = kind("ResourceInterpreterCustomization")
        self.changed_names = []
        run.update(customizations=self.names, changed_customizations=self.changed_names)

    def record(self, name, outcome):
        if outcome.changed:
            self.changed_names.append(name)
            self.run.changed()
        self.run.diff(outcome.diff)

    def install(self):
        """Apply each customization that needs it; returns the targets whose replica operations changed."""
        existing = self.control.list(self.ric)
        found = ki.conflicts(self.desired, existing)
        if found:
            self.run.fail("Karmada allows one customization per kind and operation: " + "; ".join(found))
        live = dict((c["metadata"]["name"], c) for c in existing)
        changed_targets = []
        for want in self.desired:
            name = want["metadata"]["name"]
            outcome = apply_if_needed(self.control, self.ric, want, check_mode=self.run.check_mode,
                                      want_diff=self.run.want_diff, before=live.get(name))
            self.record(name, outcome)
            if outcome.changed and replicas_changed(live.get(name), want):
                changed_targets.append(want["spec"]["target"])
        return changed_targets

    def remove(self):
        for want in self.desired:
            name = want["metadata"]["name"]
            self.record(name, delete_if_present(self.control, self.ric, None, name, check_mode=self.run.check_mode,
                                                want_diff=self.run.want_diff))

    def bindings(self, target):
        """[(binding, template)] of every ResourceBinding of ``target``'s kind whose template exists."""
        template_kind = kind(target["kind"])
        out = []
        for binding in self.control.list(kind("ResourceBinding")):
            ref = (binding.get("spec") or {}).get("resource") or {}
            if ref.get("apiVersion") != target["apiVersion"] or ref.get("kind") != target["kind"]:
                continue
            template = self.control.get(template_kind, ref.get("namespace"), ref.get("name"))
            if template is not None:
                out.append((binding, template))
        return out

    def touch(self, template):
        """Annotate the template (Karmada builds its binding again); False when it was deleted meanwhile."""
        meta = template["metadata"]
        patch = {"metadata": {"annotations": {REFRESH_ANNOTATION: _stamp()}}}
        if not self.run.check_mode:
            try:
                self.control.patch(kind(template["kind"]), meta.get("namespace"), meta["name"], patch)
            except FleetError as e:
                if e.status == NOT_FOUND:
                    return False  # deleted since it was listed: nothing left to rebuild
                raise
        self.run.changed()
        label = "{0} {1}/{2} (refresh)".format(template["kind"], meta.get("namespace"), meta["name"])
        self.run.diff({"before": {}, "after": patch, "before_header": label, "after_header": label})
        return True

    def rebuild(self, binding, template, timeout):
        """Watch the binding until Karmada rebuilt it with the template's replicas (touching the template again
        if that takes long); returns the binding as last seen."""
        meta = binding["metadata"]
        waiter = FleetWaiter(self.run.fleet, kind("ResourceBinding"), meta.get("namespace"), meta["name"])
        touched = [time.monotonic()]

        def tick(_name, _obj, now):
            if now - touched[0] >= RETOUCH_AFTER:
                self.touch(template)
                touched[0] = now

        return waiter.wait_one(self.control, lambda _n, b: not stale(b, template), timeout, tick=tick)

    def refresh(self, changed_targets):
        """Touch the templates whose bindings need rebuilding; wait until Karmada rebuilt them."""
        targets = [c["spec"]["target"] for c in self.desired if replica_scripts(c)]
        refreshed, pending = [], []
        deadline = time.monotonic() + self.run.params["refresh_timeout"]
        for target in targets:
            everything = target in changed_targets
            for binding, template in self.bindings(target):
                if not everything and not stale(binding, template):
                    continue
                entry = {"kind": template["kind"], "namespace": template["metadata"].get("namespace"),
                         "name": template["metadata"]["name"], "binding": binding["metadata"]["name"],
                         "replicas_before": binding_replicas(binding), "replicas": expected_replicas(template)}
                if not self.touch(template):
                    continue
                refreshed.append(entry)
                if not self.run.check_mode:
                    last = self.rebuild(binding, template, max(1, deadline - time.monotonic()))
                    # a binding gone meanwhile went with its template: nothing to wait for
                    if last is not None and stale(last, template):
                        pending.append(dict(entry, replicas_now=binding_replicas(last)))
        self.run.update(refreshed=refreshed)
        if pending:
            self.run.fail("Karmada did not rebuild {0} within {1}s of the template's refresh (the next run touches "
                          "them again): {2}".format(
                              "the binding" if len(pending) == 1 else "{0} bindings".format(len(pending)),
                              self.run.params["refresh_timeout"],
                              "; ".join("{0} {1}/{2}: binding {3} has {4} replica(s), the template {5}".format(
                                  e["kind"], e["namespace"], e["name"], e["binding"], e["replicas_now"],
                                  e["replicas"]) for e in pending)))


def interpret(run):
    """karmada_interpreter: the customizations present (and stale bindings refreshed), or absent."""
    interpreter = Interpreter(run)
    if run.params["state"] == "absent":
        return interpreter.remove()
    changed_targets = interpreter.install()
    if run.params["refresh_bindings"]:
        interpreter.refresh(changed_targets)
