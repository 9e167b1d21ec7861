"""The preflight check in the playbooks, against the lab.

``check.yml -e manifests=DIR`` on a directory of the user's own YAML: a frontend canary the way the user
keeps it, one file per object, the two Services in one file of two documents. Broken (the Gateway names
a TLS Secret that does not exist, the VirtualService a Service that does not exist), the playbook prints
those findings in a table per member and fails; put right, it passes. Nothing is written either way.

``release.yml`` with a catalogue whose frontend names a TLS Secret that does not exist stops with the
finding before any object changes in Karmada or in any member (resourceVersions read before and after);
``check.yml -e app=NAME`` says the same, and passes on the catalogue as it is.
"""

import json
import uuid

import pytest
import yaml

from tests.integration.test_preflight import app_namespace, frontend  # noqa: F401  # pylint: disable=unused-import
from tests.playbooks.conftest import written_state
from tests.playbooks.test_playbooks import ROOT, failed, ok, playbook

pytestmark = pytest.mark.lab


def write_dir(path, objs):
    """One file per object as the user writes them, the Services together in one multi-document file."""
    path = path / "manifests"  # tmp_path also holds the run_module fixture's files
    path.mkdir()
    services = [o for o in objs if o["kind"] == "Service"]
    (path / "web-svc.yml").write_text(yaml.safe_dump_all(services, sort_keys=False))
    for o in objs:
        if o["kind"] != "Service":
            (path / "web-{0}.yml".format(o["kind"].lower())).write_text(yaml.safe_dump(o, sort_keys=False))
    return path


def test_check_prints_the_findings_per_member_and_fails(lab, app_namespace, tmp_path):  # noqa: F811
    ns, secret = app_namespace
    typo = secret[:-len("tls")] + "tsl"
    broken = write_dir(tmp_path, frontend(ns, typo, stable="web-stabel"))
    proc = failed(playbook("check.yml", manifests=str(broken)))
    out = proc.stdout
    for member in lab.members:
        assert "in {0} (".format(member) in out, out[-6000:]
        assert "there is no Secret {0} in istio-system of {1}".format(typo, member) in out, out[-6000:]
        assert "there is no Service web-stabel in namespace {0} of {1}".format(ns, member) in out, out[-6000:]
    assert "spec.servers[0].tls.credentialName" in out and "spec.http[0].route[0].destination.host" in out
    assert "[web-gateway.yml#1]" in out and "[web-virtualservice.yml#1]" in out
    assert "error(s)" in out.split("Stop on what would break the release")[-1], out[-3000:]
    left = json.loads(lab.kubectl("get", "services,rollouts.argoproj.io", "-n", ns, "-o", "json"))
    assert left["items"] == []


def test_check_passes_on_manifests_that_work(lab, app_namespace, tmp_path):  # noqa: F811
    ns, secret = app_namespace
    good = write_dir(tmp_path, frontend(ns, secret))
    proc = ok(playbook("check.yml", manifests=str(good)))
    assert "preflight: 0 error(s)" in proc.stdout or "preflight: no finding" in proc.stdout, proc.stdout[-4000:]


def test_check_names_a_missing_directory(lab):
    proc = failed(playbook("check.yml", manifests="/nonexistent/manifests"))
    assert "manifests: no such file or directory: /nonexistent/manifests" in proc.stdout, proc.stdout[-3000:]


KINDS = ("rollouts.argoproj.io,services,virtualservices.networking.istio.io,gateways.networking.istio.io,"
         "propagationpolicies.policy.karmada.io,overridepolicies.policy.karmada.io")
MEMBER_KINDS = "rollouts.argoproj.io,services,virtualservices.networking.istio.io,gateways.networking.istio.io"


def versions(lab, ns):
    return written_state(lab, ns, KINDS, MEMBER_KINDS)


def catalogue():
    """The lab inventory's app catalogue, as group_vars has it."""
    with open(ROOT / "inventories" / "lab" / "group_vars" / "all.yml") as f:
        return yaml.safe_load(f)["multicluster_canary_apps"]


@pytest.fixture
def frontend_onboarded(lab):
    """ruoyi-vue onboarded in a namespace of the test's own (its preflight check passing on the way)."""
    ns = "t-pf-" + uuid.uuid4().hex[:6]
    proc = ok(playbook("onboard.yml", app="ruoyi-vue", multicluster_canary_namespace=ns))
    assert "preflight: " in proc.stdout and " 0 error(s)" in proc.stdout or "preflight: no finding" in proc.stdout, \
        proc.stdout[-4000:]
    yield ns
    lab.kubectl("delete", "namespace", ns, "--wait=false", check=False)


def test_a_release_whose_gateway_names_a_missing_secret_stops_before_any_write(lab, frontend_onboarded):
    ns = frontend_onboarded
    apps = catalogue()
    apps["ruoyi-vue"]["tls_secret"] = "ruoyi-vue-tsl"
    before = versions(lab, ns)
    assert ("karmada-apiserver", "Gateway", "ruoyi-vue-gateway") in before and len(before) > 10
    proc = failed(playbook("release.yml", app="ruoyi-vue", image="ruoyi/ruoyi-vue:1.2.0",
                           multicluster_canary_namespace=ns, multicluster_canary_apps=apps))
    out = proc.stdout
    for member in lab.members:
        assert "there is no Secret ruoyi-vue-tsl in istio-system of {0}".format(member) in out, out[-6000:]
    assert "did you mean ruoyi-vue-tls?" in out
    assert "the preflight check found {0} error(s)".format(len(lab.members)) in out, out[-3000:]
    assert "nothing was written" in out
    assert versions(lab, ns) == before


def test_check_an_app_of_the_catalogue(lab, frontend_onboarded):
    ns = frontend_onboarded
    proc = ok(playbook("check.yml", app="ruoyi-vue", multicluster_canary_namespace=ns))
    assert "preflight: 0 error(s)" in proc.stdout or "preflight: no finding" in proc.stdout, proc.stdout[-4000:]
    apps = catalogue()
    apps["ruoyi-vue"]["tls_secret"] = "ruoyi-vue-tsl"
    before = versions(lab, ns)
    proc = failed(playbook("check.yml", app="ruoyi-vue", multicluster_canary_namespace=ns,
                           multicluster_canary_apps=apps))
    assert "spec.servers[0].tls.credentialName" in proc.stdout, proc.stdout[-4000:]
    assert versions(lab, ns) == before
