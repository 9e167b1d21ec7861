"""multicluster.canary.app_manifests: the filter reads the user's manifest file and names every bad field."""

from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.multicluster.canary.plugins.filter.app_manifests import FilterModule, app_manifests

ROOT = Path(__file__).resolve().parents[4]
SETTINGS = {"namespace": "ruoyi", "weights": {"k8s-master-beijing": 1, "k8s-master-shanghai": 1}}
DEPLOYMENT = """\
# the team's own file
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ruoyi-auth
spec:
  template:
    metadata:
      labels: {app: ruoyi-auth}
    spec:
      containers:
        - name: ruoyi-auth
          image: ruoyi/ruoyi-auth:0.1.0
          ports: [{name: http, containerPort: 9200}]
---
"""


def entry(**extra):
    spec = {"image": "ruoyi/ruoyi-auth:1.0.0", "steps": [{"setWeight": 20}, {"pause": {}}]}
    spec.update(extra)
    return spec


def test_the_filter_is_registered():
    assert FilterModule().filters() == {"app_manifests": app_manifests}


def test_a_relative_manifest_path_starts_from_base_dir(tmp_path):
    (tmp_path / "manifests").mkdir()
    (tmp_path / "manifests" / "auth.yml").write_text(DEPLOYMENT)
    apps = {"ruoyi-auth": entry(manifest="manifests/auth.yml")}
    plan = app_manifests(apps, "ruoyi-auth", dict(SETTINGS, base_dir=str(tmp_path)))
    assert plan["rollout"]["spec"]["template"]["spec"]["containers"][0]["image"] == "ruoyi/ruoyi-auth:1.0.0"
    assert apps["ruoyi-auth"]["manifest"] == "manifests/auth.yml", "the catalogue is not changed"
    absolute = app_manifests({"ruoyi-auth": entry(manifest=str(tmp_path / "manifests" / "auth.yml"))}, "ruoyi-auth",
                             SETTINGS)
    assert absolute == plan


def test_a_missing_or_broken_manifest_file_is_named(tmp_path):
    with pytest.raises(AnsibleFilterError) as exc:
        app_manifests({"ruoyi-auth": entry(manifest="nope.yml")}, "ruoyi-auth", dict(SETTINGS, base_dir=str(tmp_path)))
    assert str(exc.value).startswith("multicluster_canary_apps.ruoyi-auth.manifest: cannot read {0}: ".format(
        tmp_path / "nope.yml"))
    (tmp_path / "broken.yml").write_text("kind: [Deployment\n")
    with pytest.raises(AnsibleFilterError) as exc:
        app_manifests({"ruoyi-auth": entry(manifest="broken.yml")}, "ruoyi-auth", dict(SETTINGS, base_dir=str(tmp_path)))
    assert "multicluster_canary_apps.ruoyi-auth.manifest: {0} is not YAML".format(tmp_path / "broken.yml") in \
        str(exc.value)


def test_errors_in_a_manifest_file_name_the_file(tmp_path):
    (tmp_path / "auth.yml").write_text(DEPLOYMENT.replace("containerPort: 9200", "containerPort: http"))
    with pytest.raises(AnsibleFilterError) as exc:
        app_manifests({"ruoyi-auth": entry(manifest="auth.yml")}, "ruoyi-auth", dict(SETTINGS, base_dir=str(tmp_path)))
    assert ("multicluster_canary_apps.ruoyi-auth.manifest({0}).spec.template.spec.containers[0].ports[0]"
            ".containerPort: must be an integer from 1 to 65535, got 'http'").format(tmp_path / "auth.yml") \
        in str(exc.value)


def test_unknown_app_and_bad_entry():
    with pytest.raises(AnsibleFilterError) as exc:
        app_manifests({"ruoyi-vue": entry(port=80)}, "ruoyi-nope", SETTINGS)
    assert str(exc.value) == ("App 'ruoyi-nope' is not in the catalogue (multicluster_canary_apps); "
                              "known apps: ruoyi-vue.")
    with pytest.raises(AnsibleFilterError) as exc:
        app_manifests({"ruoyi-vue": entry(port=80, tier="web")}, "ruoyi-vue", SETTINGS)
    assert str(exc.value) == ("The catalogue entry of ruoyi-vue is not valid: multicluster_canary_apps.ruoyi-vue.tier: "
                              "must be frontend or backend, got 'web'")


def test_the_example_inventory_s_catalogue_renders(tmp_path):
    inventory = ROOT / "inventories" / "example"
    apps = yaml.safe_load((inventory / "group_vars" / "all.yml").read_text())["multicluster_canary_apps"]
    for name in apps:
        plan = app_manifests(apps, name, dict(SETTINGS, base_dir=str(inventory)))
        assert plan["rollout"]["metadata"]["name"] == name
    auth = app_manifests(apps, "ruoyi-auth", dict(SETTINGS, base_dir=str(inventory)))["rollout"]["spec"]
    assert auth["minReadySeconds"] == 10 and auth["revisionHistoryLimit"] == 5  # kept from the team's Deployment
