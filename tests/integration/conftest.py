"""Fixtures for tests against the local federation (``make lab-up``).

``lab`` reads ``.lab/lab.json`` written by ``python -m tools.lab up``; tests fail
(they are not skipped) when the lab is not up, since ``make test`` brings it up.
``run_module`` runs one task of a module through ``ansible-playbook`` exactly as
a user would and returns the registered result. By default it connects as the lab's
automation identity (``.lab/kubeconfig-automation``: a ServiceAccount token bound to the
collection's RBAC in ``docs/rbac/``), the way users run the collection; ``identity="admin"``
uses the admin client certificate instead.
"""

import json
import os
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
LAB_DIR = Path(os.environ.get("MCC_LAB_DIR", ROOT / ".lab"))


class Lab:
    def __init__(self, info):
        self.info = info
        self.kubeconfig = info["kubeconfig"]
        self.members = list(info["members"])
        self.karmada = info.get("karmada_context", "karmada-apiserver")
        self.bin = info["bin"]
        self.automation_kubeconfig = info.get("automation_kubeconfig")

    def kubeconfig_for(self, identity):
        """The kubeconfig of an identity: ``automation`` (token, least privilege) or ``admin`` (client cert)."""
        if identity == "admin":
            return self.kubeconfig
        if identity == "automation":
            if not self.automation_kubeconfig or not os.path.exists(self.automation_kubeconfig):
                pytest.fail("the lab has no automation identity: run `make lab-up` (lab.json: {0})".format(
                    self.automation_kubeconfig))
            return self.automation_kubeconfig
        raise ValueError("identity must be 'automation' or 'admin', not {0!r}".format(identity))

    def kubectl(self, *args, context=None, input=None, check=True):
        cmd = [os.path.join(self.bin, "kubectl"), "--kubeconfig", self.kubeconfig,
               "--context", context or self.karmada, *args]
        proc = subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=120, check=False)
        if check and proc.returncode != 0:
            raise AssertionError("kubectl {0} failed: {1}{2}".format(" ".join(args), proc.stdout, proc.stderr))
        return proc.stdout

    def get(self, context, kind, name, namespace=None):
        """The object as JSON, or None when absent."""
        args = ["get", kind, name, "-o", "json"]
        if namespace:
            args += ["-n", namespace]
        cmd = [os.path.join(self.bin, "kubectl"), "--kubeconfig", self.kubeconfig, "--context", context, *args]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
        if proc.returncode != 0:
            if "NotFound" in proc.stderr or "not found" in proc.stderr:
                return None
            raise AssertionError(proc.stderr)
        return json.loads(proc.stdout)

    def apply(self, manifest, context=None):
        docs = manifest if isinstance(manifest, list) else [manifest]
        return self.kubectl("apply", "-f", "-", context=context,
                            input=yaml.safe_dump_all(docs))

    def wait_for(self, predicate, timeout=90, interval=1.0, what="condition"):
        """Poll predicate() until it returns a truthy value; return it, or fail naming what was awaited."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                last = predicate()
            except AssertionError as e:  # e.g. object not there yet; kept for the timeout message
                last = e
            else:
                if last:
                    return last
            time.sleep(interval)
        raise AssertionError("timed out after {0}s waiting for {1} (last: {2!r})".format(timeout, what, last))


@pytest.fixture(scope="session")
def lab():
    info_file = LAB_DIR / "lab.json"
    if not info_file.exists():
        pytest.fail("the local federation is not up: run `make lab-up` (no {0})".format(info_file))
    return Lab(json.loads(info_file.read_text()))


@pytest.fixture
def namespace(lab):
    """A fresh namespace created in Karmada (so Karmada propagates it to every member)."""
    name = "t-" + uuid.uuid4().hex[:8]
    lab.kubectl("create", "namespace", name)
    lab.wait_for(lambda: all(lab.get(m, "namespace", name) for m in lab.members),
                 what="namespace {0} in every member".format(name))
    yield name
    lab.kubectl("delete", "namespace", name, "--wait=false", check=False)


@pytest.fixture
def run_module(lab, tmp_path):
    """run_module(name, args, check=False, diff=False, connection=True, identity="automation") -> result dict.

    ``name`` is the short module name (``rollout_promote``) or an FQCN. Connection options for
    the lab's Karmada API server are added unless ``connection=False``: the automation identity's
    token kubeconfig, or with ``identity="admin"`` the admin client certificate.
    """

    def run(name, args, check=False, diff=False, connection=True, identity="automation"):
        fqcn = name if "." in name else "multicluster.canary." + name
        task_args = dict(args)
        if connection:
            task_args.setdefault("kubeconfig", lab.kubeconfig_for(identity))
            task_args.setdefault("context", lab.karmada)
        out = tmp_path / ("result-" + uuid.uuid4().hex[:6] + ".json")
        play = [{
            "hosts": "localhost",
            "gather_facts": False,
            "vars": {"ansible_python_interpreter": sys.executable},
            "tasks": [
                # ignore_unreachable: a module result may carry an "unreachable" key (members it
                # could not reach), which Ansible takes as the host being unreachable
                {"name": "module under test", fqcn: task_args, "register": "r", "ignore_errors": True,
                 "ignore_unreachable": True},
                {"name": "save result", "ansible.builtin.copy": {"content": "{{ r | to_json }}", "dest": str(out)},
                 "check_mode": False},
            ],
        }]
        pb = tmp_path / "play.yml"
        pb.write_text(yaml.safe_dump(play, sort_keys=False))
        cmd = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,",
               "-c", "local", str(pb)]
        if check:
            cmd.append("--check")
        if diff:
            cmd.append("--diff")
        env = dict(os.environ, ANSIBLE_NOCOLOR="1")
        # This checkout's collection (make collection-link) first, then the venv's kubernetes.core.
        site = [p for p in sys.path if p.endswith("site-packages")]
        env["ANSIBLE_COLLECTIONS_PATH"] = os.pathsep.join([str(ROOT / "build" / "collections"), *site])
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600, check=False)
        if not out.exists():
            raise AssertionError(textwrap.dedent("""\
                ansible-playbook did not register a result (rc={0}):
                {1}
                {2}""").format(proc.returncode, proc.stdout[-4000:], proc.stderr[-4000:]))
        result = json.loads(out.read_text())
        result["_stdout"] = proc.stdout
        return result

    return run
