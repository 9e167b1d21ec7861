"""Acceptance tests of the local federation itself (issue: tools/lab)."""

import json
import os
import subprocess
import sys

import pytest

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAB_DIR = Path(os.environ.get("MCC_LAB_DIR", ROOT / ".lab"))

pytestmark = pytest.mark.lab

MEMBERS_WEIGHT_1 = ["k8s-master-beijing", "k8s-master-shanghai", "k8s-master-guangzhou", "k8s-master-shenzhen"]


def _ready_clusters(lab):
    items = json.loads(lab.kubectl("get", "clusters", "-o", "json"))["items"]
    return sorted(c["metadata"]["name"] for c in items
                  if any(x["type"] == "Ready" and x["status"] == "True" for x in c["status"].get("conditions", [])))


def test_four_clusters_ready(lab):
    assert _ready_clusters(lab) == sorted(MEMBERS_WEIGHT_1)


def test_lab_runs_the_versions_of_its_profile(lab):
    """What runs is what tools/lab/versions.json names for the profile (MCC_LAB_PROFILE, default latest)."""
    from tools.lab import build

    profile = lab.info["profile"]
    versions = build.load_versions(profile)
    assert lab.info["versions"] == versions
    if os.environ.get(build.PROFILE_ENV):
        assert profile == os.environ[build.PROFILE_ENV]
    # every API server reports the profile's Kubernetes version
    for context in [lab.karmada, *lab.members]:
        assert json.loads(lab.kubectl("get", "--raw", "/version", context=context))["gitVersion"] == \
            versions["kubernetes"], context
    # every lab process runs a binary built for the profile's version of its component
    expected = {step[0]: build.component_dir(step[0], versions[step[1]]) for step in build.STEPS}
    seen = set()
    for pidfile in (LAB_DIR / "pids").glob("*.pid"):
        pid = pidfile.read_text().split()[0]
        exe = Path(os.path.realpath("/proc/{0}/exe".format(pid)))
        component = exe.parent.name.split("@")[0]
        assert exe.parent == expected[component], (pidfile.name, exe)
        seen.add(component)
    assert seen == set(expected)


def test_weighted_deployment_gives_one_ready_replica_per_member(lab, namespace):
    lab.apply([
        {"apiVersion": "apps/v1", "kind": "Deployment",
         "metadata": {"name": "helloworld", "namespace": namespace},
         "spec": {"replicas": 4, "selector": {"matchLabels": {"app": "helloworld"}},
                  "template": {"metadata": {"labels": {"app": "helloworld"}},
                               "spec": {"containers": [{"name": "helloworld", "image": "helloworld:stable"}]}}}},
        # seed 000's policy, for a Deployment
        {"apiVersion": "policy.karmada.io/v1alpha1", "kind": "PropagationPolicy",
         "metadata": {"name": "helloworld-stable-propagation", "namespace": namespace},
         "spec": {"resourceSelectors": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "helloworld"}],
                  "placement": {
                      "clusterAffinity": {"clusterNames": MEMBERS_WEIGHT_1},
                      "replicaScheduling": {
                          "replicaDivisionPreference": "Weighted", "replicaSchedulingType": "Divided",
                          "weightPreference": {"staticWeightList": [
                              {"targetCluster": {"clusterNames": [m]}, "weight": 1} for m in MEMBERS_WEIGHT_1]}}}}},
    ])

    def ready_per_member():
        counts = {}
        for m in lab.members:
            d = lab.get(m, "deployment", "helloworld", namespace)
            counts[m] = (d or {}).get("status", {}).get("readyReplicas", 0)
        return counts if all(v == 1 for v in counts.values()) else None

    counts = lab.wait_for(ready_per_member, timeout=120, what="1 ready replica per member")
    assert counts == {m: 1 for m in MEMBERS_WEIGHT_1}
    # the Deployment's pods are real API objects bound to KWOK nodes, Ready
    pods = json.loads(lab.kubectl("get", "pods", "-n", namespace, "-o", "json", context="k8s-master-beijing"))["items"]
    assert len(pods) == 1
    assert pods[0]["spec"]["nodeName"].startswith("beijing-node-")
    assert any(c["type"] == "Ready" and c["status"] == "True" for c in pods[0]["status"]["conditions"])


def _frontend(namespace, image):
    """Seed 000's frontend canary, reduced to a header route then a 20% weight with a manual pause.

    Unlike seed 000, a setCanaryScale step comes first: Argo Rollouts removes every managed route
    while the canary ReplicaSet has no available pod (rollout/trafficrouting.go), so seed 000's
    setHeaderRoute-first order loses its header route at once.
    """
    labels = {"app": "helloworld"}

    def svc(name):
        return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": namespace},
                "spec": {"ports": [{"port": 80, "name": "http"}], "selector": labels}}

    return [
        svc("helloworld-svc-stable"), svc("helloworld-svc-canary"),
        {"apiVersion": "networking.istio.io/v1beta1", "kind": "VirtualService",
         "metadata": {"name": "helloworld-vsvc", "namespace": namespace},
         "spec": {"gateways": ["helloworld-gateway"], "hosts": ["helloworld.huanghuanhui.cloud"],
                  "http": [{"name": "primary", "route": [
                      {"destination": {"host": "helloworld-svc-stable"}, "weight": 100},
                      {"destination": {"host": "helloworld-svc-canary"}, "weight": 0}]}]}},
        {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
         "metadata": {"name": "helloworld", "namespace": namespace},
         "spec": {"replicas": 4, "revisionHistoryLimit": 2,
                  "selector": {"matchLabels": labels},
                  "template": {"metadata": {"labels": labels},
                               "spec": {"containers": [{"name": "helloworld", "image": image}]}},
                  "strategy": {"canary": {
                      "canaryService": "helloworld-svc-canary", "stableService": "helloworld-svc-stable",
                      "trafficRouting": {"managedRoutes": [{"name": "header-route-1"}],
                                         "istio": {"virtualServices": [{"name": "helloworld-vsvc",
                                                                        "routes": ["primary"]}]}},
                      "steps": [
                          {"setCanaryScale": {"replicas": 1}},
                          {"setHeaderRoute": {"name": "header-route-1", "match": [
                              {"headerName": "X-canary", "headerValue": {"exact": "test-user"}}]}},
                          {"pause": {}},
                          {"setWeight": 20},
                          {"pause": {}},
                      ]}}}},
    ]


def _argo(lab, member, *args):
    cmd = [os.path.join(lab.bin, "kubectl-argo-rollouts"), "--kubeconfig", lab.kubeconfig, "--context", member, *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def test_seed000_frontend_canary_in_one_member(lab, namespace):
    member = "k8s-master-shanghai"
    lab.apply(_frontend(namespace, "helloworld:stable"), context=member)

    def rollout():
        return lab.get(member, "rollout", "helloworld", namespace)

    lab.wait_for(lambda: (rollout() or {}).get("status", {}).get("phase") == "Healthy", timeout=120,
                 what="Rollout Healthy")

    def http():
        return lab.get(member, "virtualservice", "helloworld-vsvc", namespace)["spec"]["http"]

    def weights():
        primary = [r for r in http() if r.get("name") == "primary"][0]
        return {d["destination"]["host"]: d.get("weight", 0) for d in primary["route"]}

    _argo(lab, member, "set", "image", "helloworld", "-n", namespace, "helloworld=helloworld:canary")
    # setHeaderRoute: Argo adds the managed route in front of primary, then pauses
    lab.wait_for(lambda: (rollout()["status"].get("pauseConditions") or None), timeout=120, what="first pause")
    routes = http()
    header = [r for r in routes if r.get("name") == "header-route-1"]
    assert header, routes
    assert header[0]["match"][0]["headers"]["X-canary"] == {"exact": "test-user"}
    assert header[0]["route"][0]["destination"]["host"] == "helloworld-svc-canary"
    assert weights() == {"helloworld-svc-stable": 100, "helloworld-svc-canary": 0}

    _argo(lab, member, "promote", "helloworld", "-n", namespace)
    lab.wait_for(lambda: weights()["helloworld-svc-canary"] == 20, timeout=120, what="canary weight 20")
    assert weights() == {"helloworld-svc-stable": 80, "helloworld-svc-canary": 20}
    lab.wait_for(lambda: rollout()["status"].get("currentStepIndex") == 4 and rollout()["status"].get("pauseConditions"),
                 timeout=60, what="second pause")

    _argo(lab, member, "promote", "helloworld", "-n", namespace, "--full")
    lab.wait_for(lambda: rollout()["status"].get("phase") == "Healthy"
                 and weights()["helloworld-svc-canary"] == 0, timeout=120, what="full promotion")
    assert weights() == {"helloworld-svc-stable": 100, "helloworld-svc-canary": 0}
    assert not [r for r in http() if r.get("name") == "header-route-1"]
    assert rollout()["spec"]["template"]["spec"]["containers"][0]["image"] == "helloworld:canary"


def test_fault_stop_and_start_one_member_apiserver(lab):
    comp = "k8s-master-shenzhen/kube-apiserver"

    def run(*args):
        return subprocess.run([sys.executable, "-m", "tools.lab", *args], capture_output=True, text=True,
                              timeout=300, check=False, cwd=str(ROOT))

    stop = run("stop", comp)
    assert stop.returncode == 0, stop.stderr
    try:
        status = run("status")
        line = [ln for ln in status.stdout.splitlines() if ln.startswith(comp)][0]
        assert "stopped" in line
        lab.wait_for(lambda: "k8s-master-shenzhen" not in _ready_clusters(lab), timeout=90,
                     what="Karmada to see shenzhen not Ready")
    finally:
        start = run("start", comp)
        assert start.returncode == 0, start.stderr
    lab.wait_for(lambda: "k8s-master-shenzhen" in _ready_clusters(lab), timeout=90,
                 what="Karmada to see shenzhen Ready again")
