# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""karmada_propagation's run: the (Cluster)PropagationPolicy and the wave hold, planned then written.

Everything is planned and checked (``karmada_policy``) before the first write. The hold
OverridePolicy goes first, so that no held cluster sees the new image in between; on the final
wave it goes last, for the same reason.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.multicluster.canary.plugins.module_utils import karmada_policy as kp
from ansible_collections.multicluster.canary.plugins.module_utils.fleet import FleetError, Kind, kind
from ansible_collections.multicluster.canary.plugins.module_utils.objects import comparable
from ansible_collections.multicluster.canary.plugins.module_utils.service import apply_if_needed, delete_if_present


def workload_kind(sel):
    """Where a selected workload lives in the API (fleet.KINDS does not list every workload kind)."""
    try:
        return kind(sel["kind"])
    except FleetError:
        group, version = sel["apiVersion"].rpartition("/")[::2]
        return Kind(group, version, sel["kind"].lower() + "s", sel["kind"])


class Propagation(object):
    """One karmada_propagation run against the Karmada control plane."""

    def __init__(self, run):
        self.run = run
        p = run.params
        self.p = p
        self.name = p["name"]
        self.policy_kind = kind(p["kind"])
        self.override_kind = kind(kp.OVERRIDE_KIND_FOR[p["kind"]])
        self.namespace = p["namespace"] if p["kind"] == "PropagationPolicy" else None
        self.hold_name = p["hold_name"] or self.name + "-hold"
        self.control = run.fleet.control

    def placement(self, known, weights, waves):
        """(clusters, weights, waves, placed) with Karmada's cluster names; every placed cluster in a wave."""
        clusters = kp.resolve_clusters(self.p["clusters"], known, "clusters")
        kp.resolve_clusters(list(weights), known, "weights")  # reports every unknown name at once
        weights = dict((kp.resolve_cluster(w, known, "weights"), v) for w, v in weights.items())
        waves = [kp.resolve_clusters(w, known, "waves") for w in waves or []]
        if waves and not clusters and not weights:
            clusters = [c for wave in waves for c in wave]
        placed = list(clusters) + [c for c in weights if c not in clusters]
        if waves:
            in_waves = set(c for wave in waves for c in wave)
            missing = [c for c in placed if c not in in_waves]
            extra = [c for c in in_waves if c not in placed]
            if missing:
                raise kp.PolicyError("waves", "every placed cluster must be in a wave; missing: " + ", ".join(missing))
            if extra:
                raise kp.PolicyError("waves", "cluster(s) not placed by this policy: " + ", ".join(sorted(extra)))
        return clusters, weights, waves, placed

    def plan(self):
        """(policy, override or None, released, held, holds); raises PolicyError/FleetError before any write."""
        p = self.p
        if p["kind"] == "PropagationPolicy" and not p["namespace"]:
            raise kp.PolicyError("namespace", "is required for a PropagationPolicy")
        sels = kp.selectors(p["resource_selectors"])
        sels, notes = kp.preferred_selectors(
            sels, self.run.fleet.preferred_versions(kp.api_group(s["apiVersion"]) for s in sels))
        for note in notes:
            self.run.warn(note)
        weights = kp.check_weights(p["weights"])
        waves = kp.waves_from(p["waves"])
        current_wave = p["current_wave"]
        if waves and current_wave is None:
            current_wave = self.recorded_wave(len(waves))
        kp.check_waves(waves, current_wave)
        clusters, weights, waves, placed = self.placement(self.run.fleet.clusters(), weights, waves)
        placement = kp.placement(
            clusters=clusters, weights=weights, scheduling=p["replica_scheduling"],
            division_preference=p["division_preference"], dynamic_weight=p["dynamic_weight"],
            spread_constraints=p["spread_constraints"])
        policy = kp.propagation_policy(
            self.name, self.namespace, sels, placement, kind=p["kind"], priority=p["priority"],
            preemption=p["preemption"], conflict_resolution=p["conflict_resolution"],
            propagate_deps=p["propagate_deps"], failover=p["failover"])
        released, held = kp.wave_plan(waves, current_wave) if waves else (placed, [])
        override, holds = None, []
        if held:
            holds = self.holds(sels, held)
            override = kp.hold_override(self.hold_name, self.namespace, held, holds, kind=self.override_kind.kind,
                                        policy_name=self.name, wave=current_wave)
        return policy, override, released, held, holds

    def recorded_wave(self, count):
        """The wave the current hold was written for, or ``count`` (all released) when nothing is held."""
        hold = self.control.get(self.override_kind, self.namespace, self.hold_name)
        try:
            return int(((hold or {}).get("metadata") or {}).get("labels", {}).get(kp.WAVE_LABEL))
        except (TypeError, ValueError):
            return count

    def previous_image(self, sel, wk, held, wanted):
        """(the workload to take the container from, its image at the hold): given, or read in a held member."""
        namespace = sel.get("namespace")
        template = self.control.get(wk, namespace, sel["name"])
        if wanted.get("image"):
            return template, wanted["image"]
        source = self.run.fleet.member(held[0]).get(wk, namespace, sel["name"])
        if source is None:
            raise kp.PolicyError("hold_image.image", "is required: {0} runs no {1} {2}/{3} to read the "
                                 "previous image from".format(held[0], sel["kind"], namespace, sel["name"]))
        return source, None

    def holds(self, sels, held):
        """Container index and previous image of each selected workload."""
        wanted = self.p["hold_image"] or {}
        out = []
        for sel in kp.workload_selectors(sels, self.namespace):
            source, image = self.previous_image(sel, workload_kind(sel), held, wanted)
            index = kp.container_index(source, wanted.get("container"))
            if not image:
                image = kp.container_image(source, index)
                if not image:
                    raise kp.PolicyError("hold_image.image", "is required: {0} {1}/{2} in {3} has no image at "
                                         "container {4}".format(sel["kind"], sel.get("namespace"), sel["name"],
                                                                held[0], index))
            kp.split_image(image)
            out.append({"selector": sel, "index": index, "image": image})
        return out

    def ensure(self, k, desired):
        """Apply ``desired`` unless the server already has it; returns the object as the server has it."""
        applied = apply_if_needed(self.control, k, desired, check_mode=self.run.check_mode,
                                  want_diff=self.run.want_diff)
        self.run.changed(applied.changed)
        self.run.diff(applied.diff)
        return applied.after

    def remove(self, k, name):
        removed = delete_if_present(self.control, k, self.namespace, name, check_mode=self.run.check_mode,
                                    want_diff=self.run.want_diff)
        self.run.changed(removed.changed)
        self.run.diff(removed.diff)

    def present(self):
        policy, override, released, held, holds = self.plan()
        override_after = self.ensure(self.override_kind, override) if override else None
        policy_after = self.ensure(self.policy_kind, policy)
        if not override:
            self.remove(self.override_kind, self.hold_name)
        self.run.update(
            policy=comparable(policy_after), override=comparable(override_after) if override_after else None,
            released_clusters=released, held_clusters=held,
            holds=[{"kind": h["selector"]["kind"], "name": h["selector"]["name"],
                    "namespace": h["selector"].get("namespace"), "container": h["index"], "image": h["image"]}
                   for h in holds])

    def absent(self):
        self.remove(self.override_kind, self.hold_name)
        self.remove(self.policy_kind, self.name)


def propagate(run):
    """karmada_propagation: the policy (and its wave hold) present, or both absent."""
    propagation = Propagation(run)
    if run.params["state"] == "present":
        return propagation.present()
    propagation.absent()
