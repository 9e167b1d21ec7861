"""playbooks/check.yml -e manifests=DIR against the lab, on a directory of the user's own YAML.

The directory holds a frontend canary the way the user keeps it: one file per object, the two Services
in one file of two documents. Broken (the Gateway names a TLS Secret that does not exist, the
VirtualService a Service that does not exist), the playbook prints those findings in a table per member
and fails; put right, it passes. Nothing is written either way.
"""

import json

import pytest
import yaml

from tests.integration.test_preflight import app_namespace, frontend  # noqa: F401  # pylint: disable=unused-import
from tests.playbooks.test_playbooks import failed, ok, playbook

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
