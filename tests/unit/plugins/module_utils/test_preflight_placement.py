# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preflight placement: what keeps Karmada from placing the templates as the policies say (passing and failing)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible_collections.multicluster.canary.plugins.module_utils import preflight_placement as placement

from tests.unit.plugins.module_utils.preflight_fake import (
    MEMBERS,
    Federation,
    cluster,
    docs,
    errors,
    found,
    policy,
    selecting,
    service,
    tls_secret,
)
from tests.unit.plugins.module_utils.test_preflight_references import NS, federation, fixed, seed000

VS_POLICY = "PropagationPolicy/helloworld-rollout/helloworld-stable-propagation-vs"


def test_the_seeds_v1alpha3_selectors_never_match():
    findings = federation().check(seed000())
    bad = found(findings, "error", "placement", cluster="karmada")
    assert [(f["object"], f["field"]) for f in bad if f["object"] == VS_POLICY] == [
        (VS_POLICY, "spec.resourceSelectors[0].apiVersion"), (VS_POLICY, "spec.resourceSelectors[1].apiVersion")]
    assert "Karmada reads VirtualService templates at networking.istio.io/v1 (the group's preferred version)" in \
        bad[0]["message"]
    assert bad[0]["fix"].startswith("select apiVersion: networking.istio.io/v1")
    # at the preferred version, nothing to say
    assert found(federation().check(fixed(seed000())), check="placement") == []


def test_a_policy_already_in_karmada_at_the_wrong_version():
    items = seed000()
    vs_policy = [o for _s, o in items if o["metadata"]["name"] == "helloworld-stable-propagation-vs"][0]
    rest = [(s, o) for s, o in items if o is not vs_policy]
    findings = federation().in_karmada(vs_policy).check(rest)
    bad = found(findings, "error", "placement", field="apiVersion")
    assert sorted(f["object"] for f in bad) == [
        "Gateway/helloworld-rollout/helloworld-gateway", "VirtualService/helloworld-rollout/helloworld-vsvc"]
    assert "helloworld-stable-propagation-vs selects it at networking.istio.io/v1alpha3" in bad[0]["message"]


def test_a_selector_that_matches_no_template():
    def typo(p):
        p["spec"]["resourceSelectors"][2]["name"] = "helloworld-svc-cnary"
    findings = federation().check(fixed(seed000(), **{"helloworld-stable-propagation": typo}))
    warned = found(findings, "warning", "placement", field="spec.resourceSelectors[2]")
    assert len(warned) == 1 and "selects Service helloworld-svc-cnary in helloworld-rollout, and there is none" in \
        warned[0]["message"]
    # and the Service it meant now reaches no member
    assert found(findings, "warning", "placement", contains="no PropagationPolicy selects it")
    # a template already in Karmada satisfies the selector
    fed = federation().in_karmada(service("helloworld-svc-cnary", NS))
    assert found(fed.check(fixed(seed000(), **{"helloworld-stable-propagation": typo})),
                 field="spec.resourceSelectors[2]") == []


def test_a_label_selector():
    items = fixed(seed000())
    sel = {"apiVersion": "v1", "kind": "Service", "labelSelector": {"matchLabels": {"app": "helloworld"}}}
    for _s, o in items:
        if o["metadata"]["name"] == "helloworld-stable-propagation":
            o["spec"]["resourceSelectors"][1:] = [sel]
    assert found(federation().check(items), check="placement") == []
    sel["labelSelector"]["matchLabels"]["app"] = "hello"
    assert found(federation().check(items), "warning", "placement", field="spec.resourceSelectors[1]")


def test_clusters_not_joined_or_not_ready():
    def hangzhou(p):
        p["spec"]["placement"]["clusterAffinity"]["clusterNames"].append("k8s-master-hangzhou")
    findings = federation().check(fixed(seed000(), **{"helloworld-stable-propagation": hangzhou}))
    bad = found(findings, "error", "placement", contains="k8s-master-hangzhou is not joined")
    assert [f["field"] for f in bad] == ["spec.placement.clusterAffinity.clusterNames[4]"]
    fed = federation()
    fed.karmada.objects = [o for o in fed.karmada.objects if o["kind"] != "Cluster"] + \
        [cluster(m, ready=(m != "k8s-master-shenzhen")) for m in MEMBERS]
    findings = fed.check(fixed(seed000()))
    bad = found(findings, "error", "placement", contains="k8s-master-shenzhen is not Ready")
    assert sorted(f["object"] for f in bad) == [
        "PropagationPolicy/helloworld-rollout/helloworld-stable-propagation", VS_POLICY]
    assert "k8s-master-shenzhen" not in fed.members_checked  # not read: Karmada says it is not Ready


def test_a_divided_rollout_without_a_replica_interpreter():
    fed = federation()
    fed.karmada.objects = [o for o in fed.karmada.objects if o["kind"] != "ResourceInterpreterCustomization"]
    bad = found(fed.check(fixed(seed000())), "error", "placement", field="spec.replicas")
    assert len(bad) == 1 and bad[0]["object"] == "Rollout/helloworld-rollout/helloworld-stable"
    assert "every member gets the full spec.replicas (4) instead of its share" in bad[0]["message"]

    # Duplicated: every member runs the full count on purpose
    def duplicated(p):
        p["spec"]["placement"]["replicaScheduling"] = {"replicaSchedulingType": "Duplicated"}
    assert found(fed.check(fixed(seed000(), **{"helloworld-stable-propagation": duplicated})),
                 field="spec.replicas") == []
    # with the interpreter (the default federation has bootstrap's customizations), nothing
    assert found(federation().check(fixed(seed000())), field="spec.replicas") == []


def test_a_replica_interpreter_by_webhook_counts():
    fed = federation()
    fed.karmada.objects = [o for o in fed.karmada.objects if o["kind"] != "ResourceInterpreterCustomization"]
    fed.in_karmada({"apiVersion": "config.karmada.io/v1alpha1", "kind": "ResourceInterpreterWebhookConfiguration",
                    "metadata": {"name": "rollouts"},
                    "webhooks": [{"name": "rollouts.example.com", "rules": [{
                        "apiGroups": ["argoproj.io"], "apiVersions": ["v1alpha1"], "kinds": ["Rollout"],
                        "operations": ["InterpretReplica", "ReviseReplica"]}]}]})
    assert found(fed.check(fixed(seed000())), field="spec.replicas") == []


def test_a_binding_made_before_the_interpreter():
    items = fixed(seed000())
    rollout = [o for _s, o in items if o["kind"] == "Rollout"][0]
    binding = {"apiVersion": "work.karmada.io/v1alpha2", "kind": "ResourceBinding",
               "metadata": {"name": "helloworld-stable-rollout", "namespace": NS},
               "spec": {"clusters": [{"name": m} for m in MEMBERS]}}  # no replicas: not interpreted
    fed = federation().in_karmada(rollout, binding)
    warned = found(fed.check(items), "warning", "placement", field="spec.replicas")
    assert len(warned) == 1 and "made before Karmada could divide Rollouts" in warned[0]["message"]
    # a write that changes the template gets it interpreted again
    changed = copy.deepcopy(items)
    [o for _s, o in changed if o["kind"] == "Rollout"][0]["spec"]["template"]["spec"]["containers"][0]["image"] = "v2"
    assert found(federation().in_karmada(rollout, binding).check(changed), field="spec.replicas") == []
    # an interpreted binding has replicas
    binding["spec"]["replicas"] = 4
    assert found(federation().in_karmada(rollout, binding).check(items), field="spec.replicas") == []


OVERRIDE = """
apiVersion: policy.karmada.io/v1alpha1
kind: OverridePolicy
metadata: {name: helloworld-image, namespace: helloworld-rollout}
spec:
  resourceSelectors:
    - {apiVersion: argoproj.io/v1alpha1, kind: Rollout, name: helloworld-stable}
  overrideRules:
    - targetCluster: {clusterNames: [k8s-master-beijing]}
      overriders:
        imageOverrider:
          - component: Tag
            operator: replace
            value: stable
"""


def test_an_image_overrider_on_a_rollout_needs_a_path_that_exists():
    override = docs(OVERRIDE)[0]
    bad = found(federation().check(fixed(seed000()) + [override]), "error", "placement")
    assert [f["field"] for f in bad] == ["spec.overrideRules[0].overriders.imageOverrider[0].predicate"]
    assert "changes nothing" in bad[0]["message"]
    override["spec"]["overrideRules"][0]["overriders"]["imageOverrider"][0]["predicate"] = {
        "path": "/spec/template/spec/containers/1/image"}
    bad = found(federation().check(fixed(seed000()) + [override]), "error", "placement")
    assert [f["field"] for f in bad] == ["spec.overrideRules[0].overriders.imageOverrider[0].predicate.path"]
    assert "it has 1 container(s): helloworld" in bad[0]["message"]
    override["spec"]["overrideRules"][0]["overriders"]["imageOverrider"][0]["predicate"]["path"] = \
        "/spec/template/spec/containers/0/image"
    assert found(federation().check(fixed(seed000()) + [override]), check="placement") == []


def test_an_override_policy_in_karmada_checks_a_rollout_of_the_manifests():
    override = docs(OVERRIDE)[0]
    bad = found(federation().in_karmada(override).check(fixed(seed000())), "error", "placement")
    assert [f["object"] for f in bad] == ["OverridePolicy/helloworld-rollout/helloworld-image"]


def test_policy_choice_follows_karmada():
    t = placement.Template("", "Service", "ns", "web", {"metadata": {"labels": {"app": "web"}}})
    by_kind = placement.Policy(policy("a-kind", "ns", [("v1", "Service", "")]))
    by_kind.spec["resourceSelectors"][0].pop("name")
    by_name = placement.Policy(policy("z-name", "ns", [("v1", "Service", "web")]))
    labelled = placement.Policy(policy("m-label", "ns", [("v1", "Service", "")]))
    labelled.spec["resourceSelectors"][0] = {"apiVersion": "v1", "kind": "Service",
                                             "labelSelector": {"matchLabels": {"app": "web"}}}
    assert placement.choose_policy(t, [by_kind, labelled, by_name], "v1") is by_name
    assert placement.choose_policy(t, [by_kind, labelled], "v1") is labelled
    by_kind.spec["priority"] = 5
    assert placement.choose_policy(t, [by_kind, labelled, by_name], "v1") is by_kind
    other_ns = placement.Policy(policy("b", "other", [("v1", "Service", "web")]))
    assert placement.choose_policy(t, [other_ns], "v1") is None
    wrong_version = placement.Policy(policy("c", "ns", [("v2", "Service", "web")]))
    assert placement.choose_policy(t, [wrong_version], "v1") is None
    assert placement.near_misses(t, [wrong_version], "v1")[0][2] == "v2"


def test_cluster_affinity_by_labels_and_exclusion():
    clusters = [cluster("a", labels={"env": "prod"}), cluster("b", labels={"env": "test"}), cluster("c")]
    spec = {"placement": {"clusterAffinity": {"labelSelector": {"matchLabels": {"env": "prod"}}}}}
    assert placement.policy_clusters(spec, clusters)[0] == ["a"]
    spec = {"placement": {"clusterAffinity": {"exclude": ["b"]}}}
    assert placement.policy_clusters(spec, clusters)[0] == ["a", "c"]
    spec = {"placement": {"clusterAffinities": [{"affinityName": "main", "clusterNames": ["c", "zz"]}]}}
    assert placement.policy_clusters(spec, clusters) == (["c", "zz"], "spec.placement.clusterAffinities[0]")


def test_tls_secrets_placed_by_bootstrap_are_not_templates_of_the_app():
    # a Secret in the manifests is a template like any other: placed by its own policy, it raises nothing
    secret = tls_secret("prd-vue-tls-secret")
    fed = Federation(namespaces=(NS,))
    findings = fed.check(fixed(seed000()) + [secret, selecting("tls", [secret])])
    assert errors(findings) == []
