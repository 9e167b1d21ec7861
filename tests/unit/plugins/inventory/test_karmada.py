# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The inventory plugin's hosts, groups and variables from Karmada's Cluster objects (no API server:
options are given directly; tests/integration/test_karmada_cluster.py reads the lab's clusters)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
from ansible.inventory.data import InventoryData

try:  # ansible-core 2.19: templates from a plugin's configuration file are trusted by _read_config_data
    from ansible.template import trust_as_template
except ImportError:  # pragma: no cover - older ansible-core trusts every template
    def trust_as_template(value):
        return value

from ansible_collections.multicluster.canary.plugins.inventory.karmada import InventoryModule, member_facts

LABEL_VARS = {"wave": "multicluster_canary_wave", "weight": "multicluster_canary_weight"}
OPTIONS = {"karmada_host": "karmada-apiserver", "karmada_group": "karmada", "members_group": "members",
           "label_groups": ["region", "wave"], "label_vars": LABEL_VARS,
           "ready_only": False, "strict": False, "compose": {}, "groups": {}, "keyed_groups": []}


def cluster(name, labels=None, ready=True, region=None):
    spec = {"syncMode": "Push", "apiEndpoint": "https://" + name + ":6443"}
    if region:
        spec["region"] = region
    return {"metadata": {"name": name, "labels": labels or {}}, "spec": spec,
            "status": {"kubernetesVersion": "v1.32.3",
                       "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}


def plugin(**options):
    p = InventoryModule()
    opts = dict(OPTIONS, **options)
    p.get_option = opts.__getitem__
    p.inventory = InventoryData()
    return p


def groups_of(inventory):
    return dict((name, sorted(h.name for h in group.get_hosts())) for name, group in inventory.groups.items()
                if name not in ("all", "ungrouped"))


CLUSTERS = [
    cluster("k8s-master-beijing", {"wave": "1", "region": "north", "weight": "2"}),
    cluster("k8s-master-shanghai", {"wave": "1"}, region="east"),
    cluster("k8s-master-shenzhen", {"wave": "2", "region": "south"}, ready=False),
    cluster("k8s-master-guangzhou"),
]


def test_members_grouped_by_labels_and_region():
    p = plugin()
    p.populate([member_facts(c) for c in CLUSTERS])
    assert groups_of(p.inventory) == {
        "karmada": ["karmada-apiserver"],
        "members": ["k8s-master-beijing", "k8s-master-guangzhou", "k8s-master-shanghai", "k8s-master-shenzhen"],
        "region_north": ["k8s-master-beijing"],
        "region_east": ["k8s-master-shanghai"],  # from spec.region
        "region_south": ["k8s-master-shenzhen"],
        "wave_1": ["k8s-master-beijing", "k8s-master-shanghai"],
        "wave_2": ["k8s-master-shenzhen"],
    }


def test_labels_become_the_collection_s_variables():
    p = plugin()
    p.populate([member_facts(c) for c in CLUSTERS])
    beijing = p.inventory.get_host("k8s-master-beijing").get_vars()
    assert beijing["multicluster_canary_wave"] == 1 and beijing["multicluster_canary_weight"] == 2
    assert beijing["karmada_cluster"]["ready"] is True
    assert beijing["karmada_cluster"]["api_endpoint"] == "https://k8s-master-beijing:6443"
    guangzhou = p.inventory.get_host("k8s-master-guangzhou").get_vars()
    assert "multicluster_canary_wave" not in guangzhou  # the inventory's own default applies
    assert p.inventory.get_host("k8s-master-shenzhen").get_vars()["karmada_cluster"]["ready"] is False


def test_ready_only():
    p = plugin(ready_only=True)
    p.populate([member_facts(c) for c in CLUSTERS])
    assert "k8s-master-shenzhen" not in groups_of(p.inventory)["members"]
    assert "wave_2" not in groups_of(p.inventory)


def test_keyed_groups_on_its_variables():
    p = plugin(keyed_groups=[{"key": trust_as_template("karmada_cluster.kubernetes_version"), "prefix": "k8s"}],
               strict=True)
    p.populate([member_facts(c) for c in CLUSTERS[:1]])
    assert groups_of(p.inventory)["k8s_v1_32_3"] == ["k8s-master-beijing"]


def test_no_cluster_is_a_warning_not_an_error():
    p = plugin()
    p.populate([])
    assert groups_of(p.inventory)["members"] == []


@pytest.mark.parametrize("path,ok", [("inv/karmada.yml", True), ("inv/prod.karmada.yaml", True),
                                     ("inv/hosts.yml", False), ("inv/karmada.json", False)])
def test_verify_file(tmp_path, path, ok):
    f = tmp_path / path
    f.parent.mkdir(parents=True, exist_ok=True)
    f.write_text("plugin: multicluster.canary.karmada\n")
    assert InventoryModule().verify_file(str(f)) is ok


def test_relative_kubeconfig_is_relative_to_the_config_file(tmp_path):
    p = InventoryModule()
    opts = {"kubeconfig": "../kc", "context": "karmada-apiserver", "host": None, "api_key": "",
            "validate_certs": True, "ca_cert": None, "client_cert": None, "client_key": None}
    p.get_option = opts.__getitem__
    auth = p._auth(str(tmp_path / "inv" / "karmada.yml"))
    assert auth == {"kubeconfig": str(tmp_path / "inv" / ".." / "kc"), "context": "karmada-apiserver",
                    "validate_certs": True}
