# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What joining writes (karmadactl's names and shapes), and the checks made before any write."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.multicluster.canary.plugins.module_utils import karmada_join as kj

NAME = "k8s-master-hangzhou"


def by_kind(objects):
    return dict(((o["kind"], o["metadata"]["name"]), o) for o in objects)


@pytest.mark.parametrize("name", ["a", "k8s-master-beijing", "x" * 48, "0-9"])
def test_good_cluster_names(name):
    assert kj.check_name(name) == name


@pytest.mark.parametrize("name,words", [
    ("", "required"), ("x" * 49, "longer than 48"), ("K8s-Master", "DNS-1123"), ("-a", "DNS-1123"),
    ("a_b", "DNS-1123"), ("a.b", "DNS-1123"), (None, "required"),
])
def test_bad_cluster_names_name_the_field(name, words):
    with pytest.raises(kj.JoinError) as e:
        kj.check_name(name)
    assert e.value.field == "name"
    assert words in str(e.value)


def test_labels_are_strings_and_checked():
    assert kj.check_labels({"wave": 2, "region": "east", "topology.example.com/zone": "a-1"}) == {
        "wave": "2", "region": "east", "topology.example.com/zone": "a-1"}
    assert kj.check_labels(None) == {}


@pytest.mark.parametrize("labels,words", [
    ({"wave": True}, "string or a number"), ({"wave": None}, "string or a number"),
    ({"bad key": "x"}, "not a valid label name"), ({"Example.com/x": "1"}, "DNS subdomain"),
    ({"wave": "two words"}, "not a valid label value"), ({"wave": "x" * 64}, "not a valid label value"),
])
def test_bad_labels_fail_naming_the_field(labels, words):
    with pytest.raises(kj.JoinError) as e:
        kj.check_labels(labels)
    assert e.value.field == "labels" and words in str(e.value)


def test_api_endpoint():
    assert kj.check_api_endpoint("https://10.0.0.1:6443/") == "https://10.0.0.1:6443"
    for bad in ("10.0.0.1:6443", "ftp://x", "https://", "https://a b"):
        with pytest.raises(kj.JoinError) as e:
            kj.check_api_endpoint(bad)
        assert e.value.field == "api_endpoint"


def test_member_objects_are_karmadactl_s():
    objects = kj.member_objects(NAME)
    found = by_kind(objects)
    sa = "karmada-" + NAME
    role = "karmada-controller-manager:" + sa
    assert set(found) == {("ServiceAccount", "karmada-impersonator"), ("Secret", "karmada-impersonator"),
                          ("ServiceAccount", sa), ("ClusterRole", role), ("ClusterRoleBinding", role), ("Secret", sa)}
    for obj in objects:
        assert obj["metadata"]["labels"] == {"karmada.io/system": "true"}
        if obj["kind"] not in ("ClusterRole", "ClusterRoleBinding"):
            assert obj["metadata"]["namespace"] == "karmada-cluster"
    # each token Secret comes after its service account, and is filled in by the member's token controller
    names = [(o["kind"], o["metadata"]["name"]) for o in objects]
    assert names.index(("ServiceAccount", sa)) < names.index(("Secret", sa))
    assert found[("Secret", sa)]["type"] == "kubernetes.io/service-account-token"
    assert found[("Secret", sa)]["metadata"]["annotations"] == {"kubernetes.io/service-account.name": sa}
    assert found[("ClusterRole", role)]["rules"] == [
        {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}, {"nonResourceURLs": ["*"], "verbs": ["get"]}]
    assert found[("ClusterRoleBinding", role)]["subjects"] == [
        {"kind": "ServiceAccount", "name": sa, "namespace": "karmada-cluster"}]
    assert kj.token_secret_names(NAME) == ("karmada-impersonator", sa)


def test_karmada_secrets_carry_the_member_s_values_as_they_are():
    plain = kj.karmada_secrets(NAME, "Q0E=", "VE9L", "SU1Q")
    found = by_kind(plain)
    assert found[("Secret", NAME)]["data"] == {"caBundle": "Q0E=", "token": "VE9L"}
    assert found[("Secret", NAME + "-impersonator")]["data"] == {"token": "SU1Q"}
    assert all("ownerReferences" not in s["metadata"] for s in plain)
    owner = kj.owner_reference({"metadata": {"name": NAME, "uid": "u-1"}})
    assert owner == {"apiVersion": "cluster.karmada.io/v1alpha1", "kind": "Cluster", "name": NAME, "uid": "u-1",
                     "controller": True}
    owned = kj.karmada_secrets(NAME, "Q0E=", "VE9L", "SU1Q", owner=owner)
    assert all(s["metadata"]["ownerReferences"] == [owner] for s in owned)


def test_cluster_object():
    c = kj.cluster_object(NAME, "https://10.0.0.1:6443", "uid-1", labels={"wave": "2"})
    assert c["metadata"] == {"name": NAME, "labels": {"wave": "2"}}
    assert c["spec"] == {"syncMode": "Push", "apiEndpoint": "https://10.0.0.1:6443", "id": "uid-1",
                         "secretRef": {"namespace": "karmada-cluster", "name": NAME},
                         "impersonatorSecretRef": {"namespace": "karmada-cluster", "name": NAME + "-impersonator"}}
    more = kj.cluster_object(NAME, "https://x", "uid-1", insecure=True, proxy_url="http://proxy:3128",
                             region="east", zones=["a", "b"], provider="onprem")["spec"]
    assert more["insecureSkipTLSVerification"] is True and more["proxyURL"] == "http://proxy:3128"
    assert (more["region"], more["zones"], more["provider"]) == ("east", ["a", "b"], "onprem")


def cluster(name, uid, mode="Push"):
    return {"metadata": {"name": name}, "spec": {"id": uid, "syncMode": mode, "apiEndpoint": "https://" + name}}


def test_conflicts():
    karmada = [cluster("beijing", "u-b"), cluster("agent", "u-a", mode="Pull")]
    assert kj.conflict(karmada, "hangzhou", "u-h") is None
    assert kj.conflict(karmada, "beijing", "u-b") is None  # a re-run of the same join
    same_member = kj.conflict(karmada, "hangzhou", "u-b")
    assert same_member.field == "name" and "already joined to Karmada as beijing" in str(same_member)
    other_member = kj.conflict(karmada, "beijing", "u-h")
    assert "another cluster (id u-b" in str(other_member) and "u-h" in str(other_member)
    assert "Pull mode" in str(kj.conflict(karmada, "agent", "u-a"))


def test_member_objects_option_is_checked_and_flattened():
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "r"}}
    binding = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "b"}}
    kinds = ("ClusterRole", "ClusterRoleBinding")
    assert kj.check_member_objects([{"apiVersion": "v1", "kind": "List", "items": [role]}, binding], kinds) == [
        role, binding]
    for bad in ([{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}}],
                [{"kind": "ClusterRole", "metadata": {"name": "r"}}], [{"apiVersion": "v1", "kind": "ClusterRole"}],
                ["text"]):
        with pytest.raises(kj.JoinError) as e:
            kj.check_member_objects(bad, kinds)
        assert e.value.field == "member_objects"


def test_secrets_are_hidden_in_diffs():
    secret = kj.karmada_secrets(NAME, "Q0E=", "VE9L", "SU1Q")[1]
    hidden = kj.hide_secret(secret)
    assert hidden["data"] == {"caBundle": kj.HIDDEN, "token": kj.HIDDEN}
    assert secret["data"]["token"] == "VE9L"  # a copy
    assert kj.hide_secret(None) is None
    sa = {"kind": "ServiceAccount", "metadata": {"name": "x"}}
    assert kj.hide_secret(sa) is sa


def ready_cluster(status):
    return {"metadata": {"name": NAME, "labels": {"wave": "2"}},
            "spec": {"syncMode": "Push", "resourceModels": [{"grade": 0}]},
            "status": {"conditions": [{"type": "Ready", "status": status, "reason": "R", "message": "m"}],
                       "kubernetesVersion": "v1.32.3",
                       "apiEnablements": [{"groupVersion": "v1"}, {"groupVersion": "argoproj.io/v1alpha1"}]}}


def test_readiness_and_summary():
    assert kj.is_ready(ready_cluster("True")) and not kj.is_ready(ready_cluster("False"))
    assert not kj.is_ready(None) and not kj.is_ready({"metadata": {"name": NAME}})
    assert kj.readiness(ready_cluster("False")) == "Ready=False (R: m)"
    assert "no Ready condition" in kj.readiness({})
    s = kj.summary(ready_cluster("True"))
    assert s["ready"] and s["kubernetes_version"] == "v1.32.3" and "resourceModels" not in s["spec"]
    assert s["api_versions"] == ["argoproj.io/v1alpha1", "v1"] and s["labels"] == {"wave": "2"}
    assert kj.summary(None) is None


def test_the_rollouts_probe():
    probe = kj.probe_rollout("p", "karmada-cluster")
    assert probe["spec"]["replicas"] == 0 and probe["metadata"]["namespace"] == "karmada-cluster"
    seen = dict(probe, metadata=dict(probe["metadata"], generation=2))
    assert not kj.rollout_reconciled(seen)
    assert not kj.rollout_reconciled(dict(seen, status={"phase": "Healthy", "observedGeneration": "1"}))
    assert kj.rollout_reconciled(dict(seen, status={"phase": "Healthy", "observedGeneration": "2"}))
