"""fleet: where a member's request goes, under a token credential whose refresh hook rewrites the host.

No server is contacted: the kubernetes client's own request serialization says where each
request would go, after the client has run its token refresh hook.
"""

import kubernetes
import pytest

from ansible_collections.multicluster.canary.plugins.module_utils import fleet

KARMADA = "https://karmada.example:5443"
TOKEN_KUBECONFIG = {
    "apiVersion": "v1",
    "kind": "Config",
    "clusters": [{"name": "karmada", "cluster": {"server": KARMADA, "insecure-skip-tls-verify": True}}],
    "users": [{"name": "automation", "user": {"token": "not-a-real-token"}}],
    "contexts": [{"name": "karmada-apiserver", "context": {"cluster": "karmada", "user": "automation"}}],
    "current-context": "karmada-apiserver",
}


def token_client():
    cfg = kubernetes.client.Configuration()
    kubernetes.config.load_kube_config_from_dict(TOKEN_KUBECONFIG, client_configuration=cfg)
    assert cfg.refresh_api_key_hook is not None  # the hook that used to send member requests to Karmada
    return kubernetes.client.ApiClient(cfg)


def url(endpoint, path):
    """The URL the kubernetes client would send ``path`` of ``endpoint`` to (after its auth hooks ran)."""
    method, full_url, _headers, _body, _post = endpoint.api.param_serialize(
        "GET", endpoint.prefix + path, auth_settings=["BearerToken"])
    return method, full_url


def test_a_member_behind_the_proxy_keeps_its_path_after_the_token_refresh():
    control = fleet.Endpoint("karmada", token_client())
    member = fleet.Endpoint("k8s-master-beijing", control.api, dry_run_supported=False,
                            prefix=fleet.CLUSTER_PROXY.format("k8s-master-beijing"))
    path = fleet.kind("Rollout").path("ruoyi", "ruoyi-vue")
    proxied = ("GET", KARMADA + "/apis/cluster.karmada.io/v1alpha1/clusters/k8s-master-beijing/proxy" + path)
    # the hook runs before each request: twice, to see that it left nothing behind
    assert [url(member, path), url(control, path), url(member, path)] == [proxied, ("GET", KARMADA + path), proxied]


def test_the_old_way_was_redirected_by_the_hook():
    """The bug this layout avoids: a copied configuration whose host points at the proxy loses it."""
    import copy
    cfg = copy.deepcopy(token_client().configuration)
    cfg.host = KARMADA + fleet.CLUSTER_PROXY.format("k8s-master-beijing")
    cfg.get_api_key_with_prefix("BearerToken")  # what every request does first
    assert cfg.host == KARMADA


class Module(object):
    def __init__(self, **params):
        self.params = dict((k, None) for k in fleet.AUTH_ARG_SPEC)
        self.params.update(params)


def test_a_missing_kubeconfig_names_the_file(tmp_path):
    with pytest.raises(fleet.FleetError) as e:
        fleet.Fleet(Module(kubeconfig=str(tmp_path / "nope.yaml")))
    assert "kubeconfig file 'nope.yaml' does not exist in directory {0}/".format(tmp_path) in str(e.value)


def test_a_missing_context_is_named_with_the_ones_there():
    with pytest.raises(fleet.FleetError) as e:
        fleet.Fleet(Module(kubeconfig=TOKEN_KUBECONFIG, context="nope"))
    assert "context 'nope' is not in its kubeconfig (contexts: karmada-apiserver)" in str(e.value)


def test_member_contexts_default_to_the_member_name_and_never_to_the_environment(monkeypatch):
    monkeypatch.setenv("K8S_AUTH_HOST", KARMADA)
    monkeypatch.setenv("K8S_AUTH_API_KEY", "not-a-real-token")
    kubeconfig = dict(TOKEN_KUBECONFIG, contexts=TOKEN_KUBECONFIG["contexts"] + [
        {"name": "k8s-master-beijing", "context": {"cluster": "beijing", "user": "automation"}}],
        clusters=TOKEN_KUBECONFIG["clusters"] + [
        {"name": "beijing", "cluster": {"server": "https://beijing.example:6443"}}])
    f = fleet.Fleet.__new__(fleet.Fleet)
    f.auth, f.member_kubeconfig, f.member_contexts = {}, kubeconfig, {"k8s-master-beijing": None}
    client = f._member_client("k8s-master-beijing")
    assert client.configuration.host == "https://beijing.example:6443"
    with pytest.raises(fleet.FleetError, match="member k8s-master-shanghai: context 'k8s-master-shanghai' is not"):
        f._member_client("k8s-master-shanghai")
