"""tools/lab's Ansible inventory: the tracked inventories/lab lists the default lab (four members) and is never
rewritten for a lab of another size, which gets an inventory of its own in its state directory. No cluster is
needed."""

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from tools.lab.lab import LAB_INVENTORY, Lab, write_inventory


def tracked_copy(tmp_path):
    """inventories/lab as git has it: hosts.yml, group_vars, host_vars."""
    tracked = tmp_path / "inventories" / "lab"
    shutil.copytree(LAB_INVENTORY, tracked)
    return tracked


def members(inventory):
    return list(yaml.safe_load((inventory / "hosts.yml").read_text())["all"]["children"]["members"]["hosts"])


def test_the_default_lab_uses_the_tracked_inventory_as_it_is(tmp_path):
    tracked = tracked_copy(tmp_path)
    before = (tracked / "hosts.yml").read_bytes()
    assert write_inventory(Lab(state=tmp_path / "state", members=4), tracked) == tracked
    assert (tracked / "hosts.yml").read_bytes() == before
    # a fifth member that runs unjoined (to onboard) is not in the inventory either
    assert write_inventory(Lab(state=tmp_path / "state", members=5, join=4), tracked) == tracked
    assert (tracked / "hosts.yml").read_bytes() == before
    assert members(tracked) == ["k8s-master-beijing", "k8s-master-shanghai", "k8s-master-guangzhou",
                                "k8s-master-shenzhen"]


def test_another_size_gets_its_own_inventory_with_the_tracked_variables(tmp_path):
    tracked = tracked_copy(tmp_path)
    before = (tracked / "hosts.yml").read_bytes()
    state = tmp_path / "state"
    own = write_inventory(Lab(state=state, members=16), tracked)
    assert own == state / "inventory"
    assert (tracked / "hosts.yml").read_bytes() == before
    assert len(members(own)) == 16 and members(own)[4] == "k8s-member-5"
    assert (own / "group_vars" / "all.yml").read_text() == (tracked / "group_vars" / "all.yml").read_text()
    assert (own / "host_vars").resolve() == (tracked / "host_vars").resolve()
    # back to the default size: the lab's own inventory is gone, the tracked one is the lab's again
    assert write_inventory(Lab(state=state, members=4), tracked) == tracked
    assert not own.exists()


def test_ansible_reads_the_labs_own_inventory_with_the_tracked_group_vars(tmp_path):
    own = write_inventory(Lab(state=tmp_path / "state", members=6), tracked_copy(tmp_path))
    proc = subprocess.run([str(Path(sys.executable).parent / "ansible-inventory"), "-i", str(own), "--list"],
                          capture_output=True, text=True, check=False, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    data = yaml.safe_load(proc.stdout)
    assert sorted(data["members"]["hosts"]) == sorted(members(own)) and len(data["members"]["hosts"]) == 6
    host_vars = data["_meta"]["hostvars"]["k8s-member-6"]
    assert "multicluster_canary_apps" in host_vars  # group_vars/all.yml, through the link
