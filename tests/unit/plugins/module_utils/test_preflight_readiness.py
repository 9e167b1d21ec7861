# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preflight readiness: Karmada and each member can take what is written (passing and failing cases)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from tests.unit.plugins.module_utils.preflight_fake import (
    COMMON,
    MEMBERS,
    Federation,
    argo_deployment,
    cluster,
    errors,
    found,
    namespace,
    tls_secret,
)
from tests.unit.plugins.module_utils.test_preflight_references import NS, federation, fixed, seed000

ROLLOUT = "Rollout/helloworld-rollout/helloworld-stable"


def test_a_healthy_federation_is_ready():
    assert found(federation().check(fixed(seed000())), check="readiness") == []


def test_a_member_without_istio_crds():
    fed = federation()
    fed.member["k8s-master-guangzhou"].group_versions = dict(
        (gv, kinds) for gv, kinds in COMMON.items() if not gv.startswith("networking.istio.io"))
    bad = found(fed.check(fixed(seed000())), "error", "readiness", cluster="k8s-master-guangzhou")
    assert sorted((f["object"], f["field"]) for f in bad) == [
        ("Gateway/helloworld-rollout/helloworld-gateway", "apiVersion"),
        (ROLLOUT, "spec.strategy.canary.trafficRouting.istio"),
        ("VirtualService/helloworld-rollout/helloworld-vsvc", "apiVersion")]
    assert "does not serve networking.istio.io/v1 VirtualService: Karmada cannot apply it there" in \
        found(bad, field="apiVersion")[1]["message"]


def test_a_member_with_older_istio_crds():
    fed = federation()
    fed.member["k8s-master-shenzhen"].group_versions = dict(
        (gv, kinds) for gv, kinds in COMMON.items() if gv != "networking.istio.io/v1")
    bad = found(fed.check(fixed(seed000())), "error", "readiness", cluster="k8s-master-shenzhen")
    assert len(bad) == 2
    assert "serves networking.istio.io only at v1alpha3, v1beta1, and Karmada writes Gateway there at v1" in \
        bad[0]["message"]


def test_a_member_without_argo_rollouts():
    fed = federation()
    fed.member["k8s-master-beijing"].group_versions = dict(
        (gv, kinds) for gv, kinds in COMMON.items() if not gv.startswith("argoproj.io"))
    bad = found(fed.check(fixed(seed000())), "error", "readiness", cluster="k8s-master-beijing")
    assert [(f["object"], f["message"]) for f in bad] == [
        (ROLLOUT, "k8s-master-beijing does not serve argoproj.io/v1alpha1 Rollout: Karmada cannot apply it there")]
    assert "install Argo Rollouts' CRDs" in bad[0]["fix"]


def test_karmada_must_serve_what_is_written():
    fed = federation()
    fed.karmada.group_versions = dict((gv, k) for gv, k in fed.karmada.group_versions.items()
                                      if gv != "networking.istio.io/v1alpha3")
    bad = found(fed.check(seed000()), "error", "readiness", cluster="karmada")
    assert sorted(f["object"] for f in bad) == [
        "Gateway/helloworld-rollout/helloworld-gateway", "VirtualService/helloworld-rollout/helloworld-vsvc"]
    assert "Karmada does not serve networking.istio.io/v1alpha3 Gateway (it serves networking.istio.io at v1, " \
           "v1beta1)" in bad[0]["message"]
    assert bad[0]["fix"] == "write it at networking.istio.io/v1"


def test_the_namespace_must_exist_in_karmada():
    fed = Federation(namespaces=()).in_members(tls_secret("prd-vue-tls-secret"))
    bad = found(fed.check(fixed(seed000())), "error", "readiness", cluster="karmada")
    assert [f["object"] for f in bad] == ["Namespace/helloworld-rollout"]
    assert "does not exist in Karmada, and the manifests do not create it" in bad[0]["message"]
    # written with the manifests, labelled: fine
    assert found(fed.check(fixed(seed000()) + [namespace(NS)]), check="readiness") == []


def test_no_argo_controller_is_a_warning_and_any_sign_of_one_is_enough():
    fed = federation()
    for m in MEMBERS:
        fed.member[m].objects = [o for o in fed.member[m].objects if o["kind"] != "Deployment"]
    warned = found(fed.check(fixed(seed000())), "warning", "readiness",
                   contains="no sign of a running Argo Rollouts controller")
    assert sorted(f["cluster"] for f in warned) == sorted(MEMBERS)
    assert "no available Deployment argo-rollouts and no renewed Lease argo-rollouts-controller-lock in " \
        "argo-rollouts, no Rollout here reconciled by one" in warned[0]["message"]
    # a Deployment with no available replica
    fed.in_members(argo_deployment(available=0), only=MEMBERS[:1])
    warned = found(fed.check(fixed(seed000())), "warning", "readiness", cluster=MEMBERS[0])
    assert "Deployment argo-rollouts/argo-rollouts has no available replica" in warned[0]["message"]
    # the Rollout as the member runs it, reconciled at its generation (how the lab's controller shows)
    items = fixed(seed000())
    live = copy.deepcopy([o for _s, o in items if o["kind"] == "Rollout"][0])
    live["metadata"]["generation"] = 3
    live["status"] = {"observedGeneration": "3", "phase": "Healthy"}
    fed.in_members(live, only=MEMBERS[1:2])
    assert found(fed.check(items), "warning", "readiness", cluster=MEMBERS[1]) == []
    # a leader Lease renewed now
    fed.in_members({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                    "metadata": {"name": "argo-rollouts-controller-lock", "namespace": "argo-rollouts"},
                    "spec": {"holderIdentity": "argo-rollouts-7c9d", "leaseDurationSeconds": 15,
                             "renewTime": __import__("datetime").datetime.now(
                                 __import__("datetime").timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")}},
                   only=MEMBERS[2:3])
    assert found(fed.check(items), "warning", "readiness", cluster=MEMBERS[2]) == []
    assert found(fed.check(items), "warning", "readiness", cluster=MEMBERS[3])


def test_sidecar_injection_label():
    fed = Federation(namespaces=()).in_members(tls_secret("prd-vue-tls-secret"))
    fed.in_karmada(namespace(NS, injection=False))
    warned = found(fed.check(fixed(seed000())), "warning", "readiness", contains="not labelled for Istio's sidecar")
    assert sorted(f["cluster"] for f in warned) == sorted(MEMBERS)
    assert warned[0]["object"] == "Namespace/helloworld-rollout"
    # labelled in the member (by hand) is enough
    fed.in_members(namespace(NS))
    assert found(fed.check(fixed(seed000())), "warning", "readiness") == []


def test_an_unreachable_member_is_an_error_and_the_others_are_checked():
    fed = federation()
    fed.member["k8s-master-shanghai"].down = True
    findings = fed.check(fixed(seed000()))
    bad = errors(findings)
    assert [(f["cluster"], f["check"]) for f in bad] == [("k8s-master-shanghai", "readiness")]
    assert "connection refused" in bad[0]["message"]


def test_a_refused_read_is_a_warning_naming_the_permission():
    fed = federation()
    for m in MEMBERS:
        fed.member[m].forbidden = ["/namespaces/istio-system/secrets"]
    findings = fed.check(fixed(seed000()))
    assert errors(findings) == []
    warned = found(findings, "warning", "references", field="spec.servers[0].tls.credentialName")
    assert len(warned) == 4
    assert "could not check the TLS Secrets in istio-system: list secrets in istio-system failed" in \
        warned[0]["message"]
    assert warned[0]["fix"].startswith("grant the identity list secrets in istio-system there")
    assert any("list secrets in istio-system" in u for u in __import__(
        "ansible_collections.multicluster.canary.plugins.module_utils.preflight",
        fromlist=["unknown_reads"]).unknown_reads(fed.observed))


def test_karmada_unreachable_is_one_error():
    fed = federation()
    fed.karmada.down = True
    findings = fed.check(fixed(seed000()))
    assert [(f["severity"], f["cluster"]) for f in findings] == [("error", "karmada")]
    assert "cannot read Karmada" in findings[0]["message"]


def test_clusters_asked_for_must_be_joined_and_ready():
    fed = federation()
    fed.karmada.objects = [o for o in fed.karmada.objects if o["kind"] != "Cluster"] + \
        [cluster(m, ready=(m != "k8s-master-shenzhen")) for m in MEMBERS]
    findings = fed.check(fixed(seed000()), clusters=["k8s-master-beijing", "k8s-master-shenzhen", "k8s-master-xian"])
    asked = [f for f in findings if f["field"] == "clusters"]
    assert [f["message"].split(":")[0] for f in asked] == [
        "cluster k8s-master-shenzhen is not Ready in Karmada", "cluster k8s-master-xian is not joined to Karmada (it knows"]
    assert fed.members_checked == ["k8s-master-beijing"]
