"""Bad input and partial failures, as a user meets them: a clear error naming the field or file,
and nothing changed in Karmada or in any member (resourceVersions compared before and after)."""

import json
import os
import re
import subprocess
import sys
import uuid

import pytest

from tests.playbooks.conftest import written_state
from tests.playbooks.test_playbooks import ROOT, failed, ok, playbook

pytestmark = pytest.mark.lab

KINDS = "rollouts.argoproj.io,services,virtualservices.networking.istio.io,propagationpolicies.policy.karmada.io"
MEMBER_KINDS = "rollouts.argoproj.io,services,virtualservices.networking.istio.io"


def versions(lab, ns):
    return written_state(lab, ns, KINDS, MEMBER_KINDS)


@pytest.fixture(scope="module")
def onboarded(lab):
    """ruoyi-gateway onboarded in a namespace of the module's own."""
    ns = "t-bad-" + uuid.uuid4().hex[:6]
    ok(playbook("onboard.yml", app="ruoyi-gateway", multicluster_canary_namespace=ns))
    yield ns
    lab.kubectl("delete", "namespace", ns, "--wait=false", check=False)


@pytest.mark.parametrize("entry", ["release.yml", "canary.yml"])
def test_an_image_that_is_not_an_image_reference_is_refused_before_any_write(lab, onboarded, entry):
    before = versions(lab, onboarded)
    proc = failed(playbook(entry, app="ruoyi-gateway", image="v2;rm -rf", multicluster_canary_namespace=onboarded))
    assert "image: 'v2;rm -rf' is not an image reference" in proc.stdout, proc.stdout[-3000:]
    assert versions(lab, onboarded) == before


def test_a_bad_lane_header_leaves_nothing_behind(lab):
    ns = "t-bad-" + uuid.uuid4().hex[:6]
    try:
        lane = {"header": "X canary", "value": "test-user", "source_labels": {"lane": "canary"}}
        proc = failed(playbook("onboard.yml", app="ruoyi-system", multicluster_canary_namespace=ns,
                               multicluster_canary_lane=lane))
        assert "X canary" in proc.stdout and "header" in proc.stdout, proc.stdout[-3000:]
        left = json.loads(lab.kubectl("get", KINDS, "-n", ns, "-o", "json"))["items"]
        assert left == [], [(i["kind"], i["metadata"]["name"]) for i in left]
    finally:
        lab.kubectl("delete", "namespace", ns, "--wait=false", check=False)


def test_a_missing_kubeconfig_is_named(lab):
    proc = failed(playbook("status.yml", app="ruoyi-vue", multicluster_canary_kubeconfig="/nonexistent/kubeconfig"))
    assert "multicluster_canary_kubeconfig: no such file: /nonexistent/kubeconfig" in proc.stdout, proc.stdout[-3000:]


def test_a_missing_context_is_named(lab):
    proc = failed(playbook("status.yml", app="ruoyi-vue", multicluster_canary_context="no-such-context"))
    assert "context 'no-such-context' is not in its kubeconfig (contexts: " in proc.stdout, proc.stdout[-3000:]
    assert "karmada-apiserver" in proc.stdout


def test_a_missing_member_context_is_named(lab, onboarded):
    proc = failed(playbook("status.yml", app="ruoyi-gateway", multicluster_canary_namespace=onboarded,
                           multicluster_canary_member_access="kubeconfig",
                           multicluster_canary_member_kubeconfig=lab.kubeconfig,
                           multicluster_canary_member_context="no-such-member-context"))
    assert "context 'no-such-member-context' is not in its kubeconfig" in proc.stdout, proc.stdout[-3000:]


def test_status_shows_every_reachable_member_when_one_is_down(lab, onboarded):
    down = lab.members[-1]
    component = "{0}/kube-apiserver".format(down)
    lab_cli = [sys.executable, "-m", "tools.lab"]
    subprocess.run(lab_cli + ["stop", component], cwd=str(ROOT), check=True, capture_output=True, timeout=120)
    try:
        proc = failed(playbook("status.yml", app="ruoyi-gateway", multicluster_canary_namespace=onboarded))
        for member in lab.members[:-1]:
            assert re.search(r"{0}\s+Healthy\s".format(member), proc.stdout), proc.stdout[-4000:]
        assert re.search(r"{0}\s+UNREACHABLE".format(down), proc.stdout), proc.stdout[-4000:]
        assert "{0} could not be read".format(down) in proc.stdout
    finally:
        subprocess.run(lab_cli + ["start", component], cwd=str(ROOT), check=True, capture_output=True, timeout=300)
    lab.wait_for(lambda: lab.get(down, "namespace", "default"), timeout=120, what=down + " back")
    assert os.path.exists(lab.kubeconfig)


def test_a_missing_tls_file_is_named_before_anything_is_written(lab):
    ns = "t-bad-" + uuid.uuid4().hex[:6]
    secrets = [{"name": "t-missing-tls", "cert_file": "/nonexistent/t.crt", "key_file": "/nonexistent/t.key"}]
    proc = failed(playbook("bootstrap.yml", multicluster_canary_namespace=ns, multicluster_canary_tls_secrets=secrets))
    assert "TLS file not found: /nonexistent/t.crt, /nonexistent/t.key" in proc.stdout, proc.stdout[-3000:]
    assert lab.get(lab.karmada, "namespace", ns) is None  # nothing written: not even the apps' namespace
