"""tools/lab's CRDs: Karmada and every member get the CRDs of the kinds apps use (all of Argo Rollouts',
three of Istio's, the Gateway API's less four route kinds), taken from the upstream files; those no lab app writes
without their validation schema. No cluster is needed."""

import pytest
import yaml

from tools.lab.lab import ISTIO_CRDS, Lab, LabError, SCHEMALESS_CRDS


def _crd(name, versions=("v1",)):
    schema = {"openAPIV3Schema": {"type": "object", "properties": {"spec": {"type": "object", "required": ["x"]}}}}
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": {"name": name},
            "spec": {"group": name.split(".", 1)[1],
                     "versions": [{"name": v, "served": True, "schema": schema} for v in versions]}}


@pytest.fixture
def crds(tmp_path):
    root = tmp_path / "crds" / "v1-v2-v3-v4"
    for sub in ("argo", "istio", "gateway"):
        (root / sub).mkdir(parents=True)
    (root / "argo" / "rollout-crd.yaml").write_text(yaml.safe_dump(_crd("rollouts.argoproj.io")))
    (root / "argo" / "experiment-crd.yaml").write_text(yaml.safe_dump(_crd("experiments.argoproj.io")))
    istio = ["sidecars.networking.istio.io", "virtualservices.networking.istio.io",
             "peerauthentications.security.istio.io", "destinationrules.networking.istio.io",
             "gateways.networking.istio.io", "telemetries.telemetry.istio.io"]
    (root / "istio" / "istio.yaml").write_text("# generated\n---\n" + yaml.safe_dump_all([_crd(n) for n in istio]))
    for kind in ("gateways", "httproutes", "grpcroutes", "tlsroutes", "referencegrants"):
        (root / "gateway" / "gateway.networking.k8s.io_{0}.yaml".format(kind)).write_text(
            yaml.safe_dump(_crd(kind + ".gateway.networking.k8s.io", versions=("v1", "v1beta1"))))
    (root / "gateway" / "gateway.networking.k8s.io_vap_safeupgrades.yaml").write_text("kind: X\n")
    return root


def test_only_the_kinds_apps_use_are_installed(tmp_path, crds):
    files = Lab(state=tmp_path / "lab").app_crds(crds)
    names = [f.name for f in files]
    assert names[:2] == ["experiment-crd.yaml", "rollout-crd.yaml"]
    assert names[3:] == ["gateway.networking.k8s.io_gateways.yaml", "gateway.networking.k8s.io_httproutes.yaml",
                         "gateway.networking.k8s.io_referencegrants.yaml",
                         "gateway.networking.k8s.io_vap_safeupgrades.yaml"]
    istio = [d["metadata"]["name"] for d in yaml.safe_load_all(files[2].read_text())]
    assert sorted(istio) == sorted(ISTIO_CRDS)
    assert files[2].parent == tmp_path / "lab" and "v1-v2-v3-v4" in files[2].name


def test_an_istio_file_without_a_kind_apps_use_is_refused(tmp_path, crds):
    (crds / "istio" / "istio.yaml").write_text(yaml.safe_dump_all([_crd("virtualservices.networking.istio.io")]))
    with pytest.raises(LabError) as err:
        Lab(state=tmp_path / "lab").app_crds(crds)
    assert "destinationrules.networking.istio.io" in str(err.value) and "found 1" in str(err.value)


def test_kinds_no_lab_app_writes_accept_any_object(tmp_path, crds):
    """Argo's experiments and the Gateway API's kinds are served without their schemas (a copy in the lab's
    state); Rollouts keep the upstream file as it is."""
    files = dict((f.name, f) for f in Lab(state=tmp_path / "lab").app_crds(crds))
    assert files["rollout-crd.yaml"] == crds / "argo" / "rollout-crd.yaml"
    assert files["gateway.networking.k8s.io_vap_safeupgrades.yaml"].parent == crds / "gateway"
    for name in ("experiment-crd.yaml", "gateway.networking.k8s.io_httproutes.yaml",
                 "gateway.networking.k8s.io_gateways.yaml", "gateway.networking.k8s.io_referencegrants.yaml"):
        assert files[name].parent == tmp_path / "lab" / "crds-v1-v2-v3-v4", name
        crd = yaml.safe_load(files[name].read_text())
        assert crd["metadata"]["name"] in SCHEMALESS_CRDS
        assert [v["schema"] for v in crd["spec"]["versions"]] == [
            {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}] * len(
                crd["spec"]["versions"]), name
        assert all(v["served"] for v in crd["spec"]["versions"])
    # the upstream files are left as they are
    upstream = yaml.safe_load((crds / "argo" / "experiment-crd.yaml").read_text())
    assert upstream["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]
