"""inventories/example: it parses, every variable is explained, the playbooks accept it, its catalogue checks out.

No cluster is needed: ansible-inventory, ansible-playbook --syntax-check, and playbooks/catalogue.yml
(which checks every app's entry and renders its objects without connecting anywhere).
"""

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "inventories" / "example"
MEMBERS = ["k8s-master-beijing", "k8s-master-shanghai", "k8s-master-guangzhou", "k8s-master-shenzhen"]


def run(tool, *args):
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    env["ANSIBLE_COLLECTIONS_PATH"] = os.pathsep.join(
        [str(ROOT / "build" / "collections"), sysconfig.get_paths()["purelib"]])
    cmd = [os.path.join(os.path.dirname(sys.executable), tool)] + [str(a) for a in args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=str(ROOT), timeout=300, check=False)


def test_the_inventory_parses_into_karmada_and_four_members_reached_by_their_contexts():
    proc = run("ansible-inventory", "-i", EXAMPLE, "--list")
    assert proc.returncode == 0, proc.stderr
    inv = json.loads(proc.stdout)
    assert inv["karmada"]["hosts"] == ["karmada-apiserver"]
    assert inv["members"]["hosts"] == MEMBERS
    hostvars = inv["_meta"]["hostvars"]
    for member in MEMBERS:
        assert hostvars[member]["multicluster_canary_member_context"] == member + "@kubernetes"
    assert {m: hostvars[m]["multicluster_canary_wave"] for m in MEMBERS} == {
        "k8s-master-beijing": 1, "k8s-master-shanghai": 2, "k8s-master-guangzhou": 2, "k8s-master-shenzhen": 2}
    assert {m: hostvars[m]["multicluster_canary_weight"] for m in MEMBERS} == {
        "k8s-master-beijing": 2, "k8s-master-shanghai": 1, "k8s-master-guangzhou": 1, "k8s-master-shenzhen": 1}
    karmada = hostvars["karmada-apiserver"]
    assert karmada["multicluster_canary_member_access"] == "kubeconfig"
    assert karmada["multicluster_canary_context"] == "karmada-apiserver"
    assert karmada["multicluster_canary_validate_certs"] is True
    assert sorted(karmada["multicluster_canary_apps"]) == ["ruoyi-auth", "ruoyi-gateway", "ruoyi-system", "ruoyi-vue"]


def _files():
    return sorted(p for p in EXAMPLE.rglob("*.yml") if "manifests" not in p.parts)


@pytest.mark.parametrize("path", _files(), ids=lambda p: str(p.relative_to(EXAMPLE)))
def test_every_variable_has_a_comment(path):
    """Each top-level variable (and each group or host of hosts.yml) is explained by the comment above it."""
    lines = path.read_text().splitlines()
    data = yaml.safe_load(path.read_text()) or {}
    keys = set(data)
    if path.name == "hosts.yml":
        keys = set(data["all"]["children"])
    unexplained = []
    for i, line in enumerate(lines):
        match = re.match(r"^(\s*)([A-Za-z_][\w-]*):", line)
        if not match or match.group(2) not in keys or (path.name == "hosts.yml" and match.group(1) != "    "):
            continue
        above = [x for x in lines[:i] if x.strip()][-1:]
        if not above or not above[0].strip().startswith("#"):
            unexplained.append(match.group(2))
    assert not unexplained, "{0}: no comment above {1}".format(path, ", ".join(unexplained))


def test_every_playbook_accepts_the_inventory():
    playbooks = sorted((ROOT / "playbooks").glob("*.yml"))
    proc = run("ansible-playbook", "--syntax-check", "-i", EXAMPLE, *playbooks)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


@pytest.mark.parametrize("inventory", ["example", "lab"])
def test_the_catalogue_checks_out_without_a_cluster(inventory):
    proc = run("ansible-playbook", "-i", ROOT / "inventories" / inventory, ROOT / "playbooks" / "catalogue.yml")
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    if inventory == "example":
        # replicas_per_weight times the weights 2+1+1+1; ruoyi-system has 2 per weight
        assert "ruoyi-vue (frontend) in ruoyi: 5 replicas divided k8s-master-beijing=2" in proc.stdout
        assert "ruoyi-system (backend) in ruoyi: 10 replicas" in proc.stdout
        assert "containers: ruoyi-system, filebeat; init containers: wait-for-nacos" in proc.stdout
    assert "containers: ruoyi-vue, nginx-exporter" in proc.stdout


def test_a_bad_entry_fails_the_check_naming_the_field(tmp_path):
    inventory = tmp_path / "mine"
    shutil.copytree(EXAMPLE, inventory)
    all_yml = inventory / "group_vars" / "all.yml"
    text = all_yml.read_text()
    assert "containerPort: 9113" in text
    all_yml.write_text(text.replace("containerPort: 9113", "containerPort: metrics"))
    proc = run("ansible-playbook", "-i", inventory, ROOT / "playbooks" / "catalogue.yml", "-e", "app=ruoyi-vue")
    assert proc.returncode != 0
    assert ("multicluster_canary_apps.ruoyi-vue.pod_template.spec.containers[1].ports[0].containerPort: "
            "must be an integer from 1 to 65535, got 'metrics'") in proc.stdout + proc.stderr, proc.stdout[-3000:]
