"""fleet: where a member's request goes, under a token credential whose refresh hook rewrites the host.

No server is contacted: the kubernetes client's own request serialization says where each
request would go, after the client has run its token refresh hook.
"""

import json as _json

import kubernetes
import pytest
from kubernetes.client.rest import ApiException

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


# --- the transport: both ways the kubernetes client has been called ------------------------------------
#
# kubernetes >= 33 generates a two-step client (param_serialize, then call_api returning a response
# whose status we check); older ones take the path and raise ApiException themselves. Endpoint._send
# speaks both; these tests give each the same requests and expect the same results.

class Raw(object):
    """A urllib3 response as both clients hand it back (body not read yet)."""

    def __init__(self, status=200, body=None, chunks=None):
        self.status = status
        self.reason = {200: "OK", 404: "Not Found", 409: "Conflict"}.get(status, "Error")
        self.data = _json.dumps(body).encode() if body is not None else b""
        self.headers = {"Content-Type": "application/json"}
        self.chunks = chunks or []
        self.released = False
        self.closed = False

    def stream(self, amt=None, decode_content=True):
        return iter(self.chunks)

    def close(self):
        self.closed = True

    def release_conn(self):
        self.released = True

    def getheaders(self):
        return self.headers


class PoolManager(object):
    """Where the new client's requests end (urllib3's PoolManager): records them, answers from a script."""

    def __init__(self, answers):
        self.answers = list(answers)
        self.sent = []

    def request(self, method, url, body=None, fields=None, timeout=None, headers=None, preload_content=False, **kw):
        self.sent.append({"method": method, "url": url, "body": body, "headers": dict(headers or {})})
        return self.answers.pop(0)


def new_client(answers):
    cfg = kubernetes.client.Configuration()
    cfg.host = KARMADA
    api = kubernetes.client.ApiClient(cfg)
    assert hasattr(api, "param_serialize")  # the venv's client is the two-step kind
    api.rest_client.pool_manager = PoolManager(answers)
    return api, api.rest_client.pool_manager.sent


class OldApiClient(object):
    """The call_api of kubernetes < 33: path and method, and ApiException raised on any error status."""

    def __init__(self, answers):
        self.answers = list(answers)
        self.sent = []

    def call_api(self, path, method, query_params=None, header_params=None, body=None, auth_settings=None,
                 _return_http_data_only=None, _preload_content=True, _request_timeout=None):
        url = KARMADA + path
        if query_params:
            url += "?" + "&".join("{0}={1}".format(k, v) for k, v in query_params)
        # the old client serializes a dict or list body itself
        serialized = body if body is None or isinstance(body, str) else _json.dumps(body)
        self.sent.append({"method": method, "url": url, "body": serialized, "headers": dict(header_params or {})})
        raw = self.answers.pop(0)
        if not 200 <= raw.status <= 299:
            error = ApiException(status=raw.status, reason=raw.reason)
            error.body = raw.data.decode()
            raise error
        return raw


def old_client(answers):
    api = OldApiClient(answers)
    return api, api.sent


CLIENTS = pytest.mark.parametrize("client", [new_client, old_client], ids=["kubernetes>=33", "kubernetes<33"])
ROLLOUT = fleet.kind("Rollout")
STATUS_409 = {"kind": "Status", "message": "Operation cannot be fulfilled: the object has been modified", "code": 409}


@CLIENTS
def test_get_through_the_proxy_reads_the_member_and_a_missing_object_is_none(client):
    api, sent = client([Raw(200, {"metadata": {"name": "app"}}), Raw(404, {"kind": "Status", "code": 404})])
    member = fleet.Endpoint("beijing", api, dry_run_supported=False, prefix=fleet.CLUSTER_PROXY.format("beijing"))
    assert member.get(ROLLOUT, "ns", "app") == {"metadata": {"name": "app"}}
    assert member.get(ROLLOUT, "ns", "gone") is None
    assert sent[0]["method"] == "GET" and sent[0]["url"] == (
        KARMADA + "/apis/cluster.karmada.io/v1alpha1/clusters/beijing/proxy/apis/argoproj.io/v1alpha1"
        "/namespaces/ns/rollouts/app")
    assert sent[0]["headers"]["Accept"] == "application/json"


@CLIENTS
def test_an_error_keeps_its_status_and_the_servers_message(client):
    api, sent = client([Raw(409, STATUS_409), Raw(404, {"kind": "Status", "message": "not found", "code": 404})])
    control = fleet.Endpoint("karmada", api)
    with pytest.raises(fleet.FleetError) as e:
        control.patch(ROLLOUT, "ns", "app", {"spec": {"paused": True}})
    assert e.value.status == 409
    assert "the object has been modified" in str(e.value) and str(e.value).startswith("karmada: PATCH /apis/")
    assert control.delete(ROLLOUT, "ns", "gone") is None  # deleting what is not there is no error


@CLIENTS
def test_patch_and_apply_send_json_with_their_content_types(client):
    api, sent = client([Raw(200, {"ok": 1}), Raw(200, {"applied": 1})])
    control = fleet.Endpoint("karmada", api)
    control.patch(ROLLOUT, "ns", "app", {"status": {"abort": True}}, subresource="status")
    obj = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {"name": "app", "namespace": "ns"}}
    assert control.apply(ROLLOUT, obj, dry_run=True) == {"applied": 1}
    patch, apply = sent
    assert patch["method"] == "PATCH" and patch["url"].endswith("/namespaces/ns/rollouts/app/status")
    assert patch["headers"]["Content-Type"] == "application/merge-patch+json"
    assert _json.loads(patch["body"]) == {"status": {"abort": True}}
    assert apply["headers"]["Content-Type"] == "application/apply-patch+yaml"
    assert "fieldManager=multicluster.canary" in apply["url"] and "force=true" in apply["url"]
    assert "dryRun=All" in apply["url"] and _json.loads(apply["body"]) == obj


@CLIENTS
def test_a_watch_streams_events_split_across_chunks(client):
    events = [{"type": "MODIFIED", "object": {"metadata": {"resourceVersion": "2"}}},
              {"type": "BOOKMARK", "object": {"metadata": {"resourceVersion": "3"}}}]
    text = "\n".join(_json.dumps(e) for e in events).encode()
    raw = Raw(200, chunks=[text[:17], text[17:60], text[60:]])
    api, sent = client([raw])
    member = fleet.Endpoint("beijing", api, prefix=fleet.CLUSTER_PROXY.format("beijing"))
    seen = list(member.watch(ROLLOUT, "ns", "app", "1", 5))
    assert seen == [("MODIFIED", events[0]["object"]), ("BOOKMARK", events[1]["object"])]
    assert raw.released and not raw.closed  # the server ended the reply: the connection can be used again
    assert "watch=true" in sent[0]["url"] and "fieldSelector=metadata.name=app" in sent[0]["url"].replace("%3D", "=")
    assert "resourceVersion=1" in sent[0]["url"] and "timeoutSeconds=5" in sent[0]["url"]


@CLIENTS
def test_a_watch_closed_or_broken_before_its_end_closes_its_connection(client):
    event = _json.dumps({"type": "ADDED", "object": {"metadata": {"resourceVersion": "2"}}}).encode()
    early, broken = Raw(200, chunks=[event + b"\n", event + b"\n"]), Raw(200, chunks=[event + b"\n", b"{not json\n"])
    api, _sent = client([early, broken])
    member = fleet.Endpoint("beijing", api)
    events = member.watch(ROLLOUT, "ns", "app", None, 5)
    assert next(events)[0] == "ADDED"
    events.close()  # the caller had what it wanted; the server would go on sending
    assert early.closed and early.released
    with pytest.raises(fleet.FleetError, match="not a JSON event"):
        list(member.watch(ROLLOUT, "ns", "app", None, 5))
    assert broken.closed and broken.released


@CLIENTS
def test_a_refused_watch_is_a_fleet_error_with_its_status(client):
    api, sent = client([Raw(403, {"kind": "Status", "message": "rollouts is forbidden", "code": 403})])
    member = fleet.Endpoint("beijing", api)
    with pytest.raises(fleet.FleetError) as e:
        list(member.watch(ROLLOUT, "ns", "app", "1", 5))
    assert e.value.status == 403 and "forbidden" in str(e.value)
