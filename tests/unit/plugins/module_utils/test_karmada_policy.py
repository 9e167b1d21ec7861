"""PropagationPolicy and wave OverridePolicy synthesis, checked as data."""

from pathlib import Path

import pytest
import yaml

from ansible_collections.multicluster.canary.plugins.module_utils import karmada_policy as kp

FIXTURES = Path(__file__).resolve().parents[3] / "unit" / "fixtures" / "karmada"
KNOWN = ["k8s-master-beijing", "k8s-master-shanghai", "k8s-master-guangzhou", "k8s-master-shenzhen"]
SHORT = ["beijing", "shanghai", "guangzhou", "shenzhen"]


def fixture(name):
    return yaml.safe_load((FIXTURES / name).read_text())


def seed_policy(**placement_args):
    sels = kp.selectors([
        {"api_version": "argoproj.io/v1alpha1", "kind": "Rollout", "name": "helloworld-stable"},
        {"api_version": "v1", "kind": "Service", "name": "helloworld"},
    ])
    return kp.propagation_policy("helloworld-stable-propagation", "helloworld-rollout", sels,
                                 kp.placement(**placement_args))


# --- seed 000 ----------------------------------------------------------------


def test_weights_one_each_give_seed_000_policy():
    clusters = kp.resolve_clusters(SHORT, KNOWN, "clusters")
    weights = kp.check_weights(dict((c, 1) for c in clusters))
    assert seed_policy(clusters=clusters, weights=weights) == fixture("helloworld-stable-policy.yml")


def test_divided_without_weights_weighs_every_cluster_one():
    clusters = kp.resolve_clusters(SHORT, KNOWN, "clusters")
    assert seed_policy(clusters=clusters, scheduling="divided") == fixture("helloworld-stable-policy.yml")


def test_weights_alone_name_the_clusters_in_order():
    weights = dict((kp.resolve_cluster(c, KNOWN, "weights"), 1) for c in SHORT)
    assert seed_policy(weights=weights) == fixture("helloworld-stable-policy.yml")


# --- placement ----------------------------------------------------------------


def test_zero_weight_keeps_cluster_in_affinity_but_out_of_weights():
    p = kp.placement(clusters=KNOWN, weights={"k8s-master-beijing": 3, "k8s-master-shanghai": 0})
    assert p["clusterAffinity"]["clusterNames"] == KNOWN
    assert p["replicaScheduling"]["weightPreference"]["staticWeightList"] == [
        {"targetCluster": {"clusterNames": ["k8s-master-beijing"]}, "weight": 3},
    ]


def test_dynamic_weight():
    p = kp.placement(clusters=KNOWN[:2], dynamic_weight="AvailableReplicas")
    assert p["replicaScheduling"] == {"replicaSchedulingType": "Divided", "replicaDivisionPreference": "Weighted",
                                      "weightPreference": {"dynamicWeight": "AvailableReplicas"}}


def test_duplicated_is_the_default_without_weights():
    p = kp.placement(clusters=KNOWN)
    assert p["replicaScheduling"] == {"replicaSchedulingType": "Duplicated"}


def test_no_clusters_means_no_affinity():
    assert "clusterAffinity" not in kp.placement()


def test_duplicated_with_weights_is_refused():
    with pytest.raises(kp.PolicyError) as e:
        kp.placement(clusters=KNOWN, weights={"k8s-master-beijing": 1}, scheduling="duplicated")
    assert e.value.field == "replica_scheduling"


def test_dynamic_and_static_weights_are_exclusive():
    with pytest.raises(kp.PolicyError) as e:
        kp.placement(weights={"k8s-master-beijing": 1}, dynamic_weight="AvailableReplicas")
    assert e.value.field == "dynamic_weight"


def test_pass_through_fields():
    sels = kp.selectors([{"api_version": "apps/v1", "kind": "Deployment", "name": "web"}])
    spread = [{"spreadByField": "cluster", "maxGroups": 2, "minGroups": 1}]
    failover = {"application": {"decisionConditions": {"tolerationSeconds": 120}, "purgeMode": "Graciously"}}
    policy = kp.propagation_policy("web", "ns", sels, kp.placement(clusters=KNOWN, spread_constraints=spread),
                                   priority=5, preemption="Always", conflict_resolution="Overwrite",
                                   propagate_deps=True, failover=failover)
    spec = policy["spec"]
    assert spec["priority"] == 5
    assert spec["preemption"] == "Always"
    assert spec["conflictResolution"] == "Overwrite"
    assert spec["propagateDeps"] is True
    assert spec["failover"] == failover
    assert spec["placement"]["spreadConstraints"] == spread


def test_cluster_propagation_policy_has_no_namespace():
    sels = kp.selectors([{"api_version": "v1", "kind": "Namespace", "name": "web"}])
    policy = kp.propagation_policy("web", None, sels, kp.placement(), kind="ClusterPropagationPolicy")
    assert policy["kind"] == "ClusterPropagationPolicy"
    assert "namespace" not in policy["metadata"]


def test_namespaced_policy_needs_namespace():
    with pytest.raises(kp.PolicyError) as e:
        kp.propagation_policy("web", None, [], kp.placement())
    assert e.value.field == "namespace"


# --- validation -------------------------------------------------------------------


def test_unknown_cluster_lists_the_known_ones():
    with pytest.raises(kp.PolicyError) as e:
        kp.resolve_clusters(["beijing", "chengdu", "xian"], KNOWN, "weights")
    assert e.value.field == "weights"
    msg = str(e.value)
    assert "chengdu, xian" in msg and "k8s-master-shanghai" in msg


def test_ambiguous_short_name():
    with pytest.raises(kp.PolicyError) as e:
        kp.resolve_cluster("beijing", ["a-beijing", "b-beijing"], "clusters")
    assert "ambiguous" in str(e.value)


@pytest.mark.parametrize("weights, fragment", [
    ({"a": 0, "b": 0}, "at least one weight must be above zero"),
    ({"a": -1, "b": 2}, "must not be negative"),
    ({"a": 1.5}, "must be an integer"),
    ({"a": "x"}, "must be an integer"),
    ({"a": True}, "must be an integer"),
])
def test_bad_weights(weights, fragment):
    with pytest.raises(kp.PolicyError) as e:
        kp.check_weights(weights)
    assert e.value.field == "weights"
    assert fragment in str(e.value)


def test_weights_accept_digit_strings():
    assert kp.check_weights({"a": "2", "b": 0}) == {"a": 2, "b": 0}


def test_empty_selectors_are_refused():
    with pytest.raises(kp.PolicyError) as e:
        kp.selectors([])
    assert e.value.field == "resource_selectors"


def test_selector_needs_kind():
    with pytest.raises(kp.PolicyError):
        kp.selectors([{"api_version": "v1", "name": "x"}])


def test_selector_label_selector_and_namespace():
    s = kp.selector({"api_version": "v1", "kind": "Service", "namespace": "a",
                     "label_selector": {"matchLabels": {"app": "x"}}})
    assert s == {"apiVersion": "v1", "kind": "Service", "namespace": "a", "labelSelector": {"matchLabels": {"app": "x"}}}


@pytest.mark.parametrize("waves, current, field, fragment", [
    ([["a"], ["b"]], None, "current_wave", "is required"),
    ([["a"], ["b"]], 3, "current_wave", "between 1 and 2"),
    ([["a"], ["b"]], 0, "current_wave", "between 1 and 2"),
    ([["a"], []], 1, "waves", "non-empty"),
    ([["a"], ["a", "b"]], 1, "waves", "wave 1 and wave 2"),
    (None, 2, "current_wave", "one wave only"),
])
def test_bad_waves(waves, current, field, fragment):
    with pytest.raises(kp.PolicyError) as e:
        kp.check_waves(waves, current)
    assert e.value.field == field
    assert fragment in str(e.value)


def test_wave_plan():
    waves = [["beijing"], ["shanghai", "guangzhou", "shenzhen"]]
    assert kp.wave_plan(waves, 1) == (["beijing"], ["shanghai", "guangzhou", "shenzhen"])
    assert kp.wave_plan(waves, 2) == (["beijing", "shanghai", "guangzhou", "shenzhen"], [])


# --- images and the wave hold -------------------------------------------------------


@pytest.mark.parametrize("image, parts", [
    ("ccr.ccs.tencentyun.com/huanghuanhui/helloworld:stable", ("ccr.ccs.tencentyun.com", "huanghuanhui/helloworld", "stable")),
    ("nginx:1.25", ("", "nginx", "1.25")),
    ("nginx", ("", "nginx", "")),
    ("team/app:1", ("", "team/app", "1")),
    ("ruoyi/ruoyi-auth:1.0.0", ("", "ruoyi/ruoyi-auth", "1.0.0")),
    ("localhost/app:1", ("localhost", "app", "1")),
    ("localhost:5000/app:v2", ("localhost:5000", "app", "v2")),
    ("localhost:5000/app", ("localhost:5000", "app", "")),
    ("r.io/app@sha256:abc", ("r.io", "app", "sha256:abc")),
])
def test_split_image_like_karmada(image, parts):
    assert kp.split_image(image) == parts


def test_image_overriders_rebuild_the_old_image():
    path = "/spec/template/spec/containers/0/image"
    assert kp.image_overriders("ccr.ccs.tencentyun.com/huanghuanhui/helloworld:stable", path) == [
        {"predicate": {"path": path}, "component": "Registry", "operator": "replace", "value": "ccr.ccs.tencentyun.com"},
        {"predicate": {"path": path}, "component": "Repository", "operator": "replace", "value": "huanghuanhui/helloworld"},
        {"predicate": {"path": path}, "component": "Tag", "operator": "replace", "value": "stable"},
    ]
    registry = kp.image_overriders("nginx", path)[0]
    assert registry == {"predicate": {"path": path}, "component": "Registry", "operator": "remove"}


def test_container_index():
    ro = fixture("helloworld-rollout.yml")
    assert kp.container_index(ro, "helloworld") == 0
    assert kp.container_index(ro, 0) == 0
    assert kp.container_index(ro, "0") == 0
    assert kp.container_index(ro, None) == 0
    with pytest.raises(kp.PolicyError) as e:
        kp.container_index(ro, "sidecar")
    assert e.value.field == "hold_image.container" and "helloworld" in str(e.value)
    with pytest.raises(kp.PolicyError):
        kp.container_index(ro, 3)


def test_hold_override_for_a_rollout_in_wave_one():
    sels = kp.selectors([
        {"api_version": "argoproj.io/v1alpha1", "kind": "Rollout", "name": "helloworld-stable"},
        {"api_version": "v1", "kind": "Service", "name": "helloworld"},
    ])
    workloads = kp.workload_selectors(sels)
    assert [w["kind"] for w in workloads] == ["Rollout"]
    released, held = kp.wave_plan([["k8s-master-beijing"], KNOWN[1:]], 1)
    holds = [{"selector": workloads[0], "index": 0, "image": "ccr.ccs.tencentyun.com/huanghuanhui/helloworld:stable"}]
    op = kp.hold_override("helloworld-stable-propagation-hold", "helloworld-rollout", held, holds,
                          policy_name="helloworld-stable-propagation", wave=1)
    assert op["kind"] == "OverridePolicy"
    assert op["metadata"]["namespace"] == "helloworld-rollout"
    assert op["metadata"]["labels"][kp.WAVE_LABEL] == "1"
    assert op["spec"]["resourceSelectors"] == [
        {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "name": "helloworld-stable"}]
    rule, = op["spec"]["overrideRules"]
    assert rule["targetCluster"] == {"clusterNames": KNOWN[1:]}
    paths = set(o["predicate"]["path"] for o in rule["overriders"]["imageOverrider"])
    assert paths == {"/spec/template/spec/containers/0/image"}


def test_hold_override_refuses_mixed_images_at_one_index():
    w = {"apiVersion": "apps/v1", "kind": "Deployment"}
    holds = [{"selector": dict(w, name="a"), "index": 0, "image": "a:1"},
             {"selector": dict(w, name="b"), "index": 0, "image": "b:1"}]
    with pytest.raises(kp.PolicyError) as e:
        kp.hold_override("x", "ns", ["c"], holds)
    assert e.value.field == "hold_image.image"


def test_hold_override_needs_a_workload():
    with pytest.raises(kp.PolicyError) as e:
        kp.hold_override("x", "ns", ["c"], [])
    assert e.value.field == "resource_selectors"


def test_cluster_override_policy_keeps_selector_namespace():
    holds = [{"selector": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "a", "namespace": "web"},
              "index": 0, "image": "a:1"}]
    op = kp.hold_override("x", None, ["c"], holds, kind="ClusterOverridePolicy")
    assert "namespace" not in op["metadata"]
    assert op["spec"]["resourceSelectors"][0]["namespace"] == "web"


def test_preferred_selectors_move_istio_selectors_to_the_preferred_version():
    sels = [{"apiVersion": "networking.istio.io/v1beta1", "kind": "VirtualService", "name": "vs"},
            {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "name": "r"},
            {"apiVersion": "v1", "kind": "Service", "name": "s"}]
    out, notes = kp.preferred_selectors(sels, {"networking.istio.io": "v1", "argoproj.io": "v1alpha1", "": "v1"})
    assert [s["apiVersion"] for s in out] == ["networking.istio.io/v1", "argoproj.io/v1alpha1", "v1"]
    assert len(notes) == 1 and notes[0].startswith("resource_selectors[0]:")
    assert sels[0]["apiVersion"] == "networking.istio.io/v1beta1"  # input untouched


def test_preferred_selectors_leave_unknown_groups_alone():
    sels = [{"apiVersion": "example.com/v2", "kind": "Thing", "name": "t"}]
    assert kp.preferred_selectors(sels, {}) == (sels, [])


def test_waves_from_the_members_wave_numbers():
    assert kp.waves_from({"bj": 1, "sh": 2, "gz": "2", "sz": 1}) == [["bj", "sz"], ["gz", "sh"]]
    assert kp.waves_from({"bj": 1, "sh": 1}) == []
    assert kp.waves_from([["bj"], ["sh"]]) == [["bj"], ["sh"]]
    assert kp.waves_from(None) == []
    with pytest.raises(kp.PolicyError) as e:
        kp.waves_from({"bj": "first"})
    assert e.value.field == "waves"
