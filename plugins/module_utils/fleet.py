# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connections to a Karmada control plane and its member clusters.

One :class:`Fleet` holds a client for the Karmada API server and, on demand,
one client per member cluster, reached either through Karmada's cluster proxy
(``/apis/cluster.karmada.io/v1alpha1/clusters/NAME/proxy``) or through a
kubeconfig context per member.  :meth:`Fleet.run` calls a function for many
members at once, so a stage across N clusters costs about one round trip.

Authentication is kubernetes.core's own (``K8S_AUTH_*`` variables, kubeconfig,
in-cluster): this file only adds member addressing, a small REST layer that
needs no API discovery, and concurrency.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json
import os
import threading
from concurrent.futures import ThreadPoolExecutor

try:
    import kubernetes
    from kubernetes.client.rest import ApiException

    HAS_KUBERNETES = True
    KUBERNETES_IMPORT_ERROR = None
except ImportError as e:  # pragma: no cover - reported by the module
    HAS_KUBERNETES = False
    KUBERNETES_IMPORT_ERROR = e

    class ApiException(Exception):  # a stand-in so the except clauses below stay valid
        pass

try:
    from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client

    HAS_K8S_CORE = True
except ImportError:  # pragma: no cover - reported by the module
    HAS_K8S_CORE = False
    AUTH_ARG_SPEC = {}

# kubernetes.config.load_kube_config() goes through the client's process-wide default
# Configuration, so two clients built at once in two threads could swap their servers.
_CLIENT_LOCK = threading.Lock()

CLUSTER_PROXY = "/apis/cluster.karmada.io/v1alpha1/clusters/{0}/proxy"
FIELD_MANAGER = "multicluster.canary"
# Members handled at once by Fleet.run; the Karmada client keeps as many connections, since every member
# behind the cluster proxy shares it (the client's default, 5 per CPU, would open and drop the others).
MAX_WORKERS = 16


def _lines(raw):
    """The non-empty lines of a streamed response, as they arrive."""
    buffer = b""
    for chunk in raw.stream(amt=None, decode_content=True):
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            if line.strip():
                yield line.decode("utf-8")
    if buffer.strip():
        yield buffer.decode("utf-8")


class FleetError(Exception):
    """An error worth showing to the user as it is (it never carries secrets).

    ``status`` is the HTTP status when the API server answered, else None.
    """

    def __init__(self, msg, status=None):
        super(FleetError, self).__init__(msg)
        self.status = status


class Kind(object):
    """Where a kind lives in the API, enough to build its paths without discovery."""

    def __init__(self, group, version, plural, kind, namespaced=True):
        self.group = group
        self.version = version
        self.plural = plural
        self.kind = kind
        self.namespaced = namespaced

    @property
    def api_version(self):
        return "{0}/{1}".format(self.group, self.version) if self.group else self.version

    def path(self, namespace=None, name=None, subresource=None):
        base = "/apis/{0}/{1}".format(self.group, self.version) if self.group else "/api/" + self.version
        if self.namespaced and namespace:
            base += "/namespaces/" + namespace
        base += "/" + self.plural
        if name:
            base += "/" + name
            if subresource:
                base += "/" + subresource
        return base

    def __repr__(self):
        return "Kind({0}, {1})".format(self.api_version, self.kind)


KINDS = dict(
    (k.kind, k)
    for k in (
        Kind("", "v1", "namespaces", "Namespace", namespaced=False),
        Kind("", "v1", "services", "Service"),
        Kind("", "v1", "secrets", "Secret"),
        Kind("", "v1", "configmaps", "ConfigMap"),
        Kind("apps", "v1", "deployments", "Deployment"),
        Kind("apps", "v1", "replicasets", "ReplicaSet"),
        Kind("argoproj.io", "v1alpha1", "rollouts", "Rollout"),
        Kind("networking.istio.io", "v1beta1", "virtualservices", "VirtualService"),
        Kind("networking.istio.io", "v1beta1", "destinationrules", "DestinationRule"),
        Kind("networking.istio.io", "v1beta1", "gateways", "Gateway"),
        Kind("gateway.networking.k8s.io", "v1", "httproutes", "HTTPRoute"),
        Kind("policy.karmada.io", "v1alpha1", "propagationpolicies", "PropagationPolicy"),
        Kind("policy.karmada.io", "v1alpha1", "clusterpropagationpolicies", "ClusterPropagationPolicy", namespaced=False),
        Kind("policy.karmada.io", "v1alpha1", "overridepolicies", "OverridePolicy"),
        Kind("policy.karmada.io", "v1alpha1", "clusteroverridepolicies", "ClusterOverridePolicy", namespaced=False),
        Kind("config.karmada.io", "v1alpha1", "resourceinterpretercustomizations",
             "ResourceInterpreterCustomization", namespaced=False),
        Kind("cluster.karmada.io", "v1alpha1", "clusters", "Cluster", namespaced=False),
        Kind("work.karmada.io", "v1alpha2", "resourcebindings", "ResourceBinding"),
        Kind("work.karmada.io", "v1alpha1", "works", "Work"),
    )
)


def kind(name):
    try:
        return KINDS[name]
    except KeyError:
        raise FleetError("unknown kind {0!r}; known kinds: {1}".format(name, ", ".join(sorted(KINDS))))


def _api_message(exc):
    """The API server's own message from an ApiException, without headers or bodies of requests."""
    try:
        body = json.loads(exc.body)
        return "{0} ({1})".format(body.get("message", exc.reason), exc.status)
    except Exception:
        return "{0} ({1})".format(getattr(exc, "reason", exc), getattr(exc, "status", "?"))


class Endpoint(object):
    """One API server (the Karmada control plane or one member): get, list, apply, patch, delete."""

    def __init__(self, name, api_client, dry_run_supported=True, prefix=""):
        self.name = name
        self.api = api_client
        # A member behind Karmada's cluster proxy shares the control plane's client (its host,
        # credentials and connection pool) and differs only by this path prefix. Nothing can
        # redirect it: the kubernetes client's token refresh hook rewrites a Configuration's
        # host to the kubeconfig's server before each request, and that server is Karmada's.
        self.prefix = prefix
        # Karmada's cluster proxy is a connect subresource, and the API server's connect handler
        # answers every ?dryRun= with 400 "dryRun is not supported". Through it, check mode cannot
        # ask the member, so it predicts instead of sending (see apply/patch/delete).
        self.dry_run_supported = dry_run_supported

    def _send(self, method, path, query, headers, body=None, timeout=30):
        """One request; returns the urllib3 response, its body not read yet (so a watch can stream it)."""
        if hasattr(self.api, "param_serialize"):
            # kubernetes >= 33 generates a two-step transport (the way its own DynamicClient calls it)
            request = self.api.param_serialize(method, path, query_params=query, header_params=headers,
                                               body=body, auth_settings=["BearerToken"])
            response = self.api.call_api(*request, _request_timeout=timeout)
            if not 200 <= response.status <= 299:
                response.read()
                raise ApiException(http_resp=response)
            return response.response
        return self.api.call_api(
            path, method, query_params=query, header_params=headers, body=body,
            auth_settings=["BearerToken"], _return_http_data_only=True, _preload_content=False,
            _request_timeout=timeout)

    def _call(self, method, path, query=None, body=None, content_type=None):
        path = self.prefix + path
        headers = {"Accept": "application/json"}
        if content_type:
            headers["Content-Type"] = content_type
        query = list((query or {}).items())
        try:
            raw = self._send(method, path, query, headers, body)
            data = raw.data
            return json.loads(data) if data else None
        except ApiException as e:
            status = getattr(e, "status", None)
            if status == 404 and method == "GET":
                return None
            raise FleetError("{0}: {1} {2}: {3}".format(self.name, method, path, _api_message(e)), status=status)
        except FleetError:
            raise
        except Exception as e:  # pylint: disable=broad-exception-caught  # refused, TLS, timeouts
            raise FleetError("{0}: {1} {2}: {3}".format(self.name, method, path, e))

    def watch(self, k, namespace, name, resource_version, timeout):
        """Yield ``(type, object)`` for each change of one named object after ``resource_version``.

        With ``resource_version`` None the watch starts with the object as it is now: an ADDED event when
        it exists, then a BOOKMARK annotated ``k8s.io/initial-events-end`` (``sendInitialEvents``, a
        consistent read; an API server without the WatchList feature refuses it, 422).

        The API server ends the watch after ``timeout`` seconds (``timeoutSeconds``); the caller
        then reads the object again and watches on. Event types are the API's: ADDED, MODIFIED,
        DELETED, BOOKMARK, and ERROR (its object a Status, 410 when ``resource_version`` is too old).
        """
        path = self.prefix + k.path(namespace)
        query = [("watch", "true"), ("fieldSelector", "metadata.name=" + name)]
        if resource_version is None:
            query += [("sendInitialEvents", "true"), ("resourceVersionMatch", "NotOlderThan")]
        else:
            query.append(("resourceVersion", resource_version))
        query += [("allowWatchBookmarks", "true"), ("timeoutSeconds", str(max(1, int(timeout))))]
        try:
            raw = self._send("GET", path, query, {"Accept": "application/json"}, timeout=(10, timeout + 10))
        except ApiException as e:
            raise FleetError("{0}: WATCH {1}: {2}".format(self.name, path, _api_message(e)),
                             status=getattr(e, "status", None))
        except Exception as e:  # pylint: disable=broad-exception-caught  # refused, TLS, timeouts
            raise FleetError("{0}: WATCH {1}: {2}".format(self.name, path, e))
        ended = False
        try:
            for line in _lines(raw):
                event = json.loads(line)
                yield event.get("type"), event.get("object") or {}
            ended = True
        except ValueError as e:
            raise FleetError("{0}: WATCH {1}: not a JSON event: {2}".format(self.name, path, e))
        except Exception as e:  # pylint: disable=broad-exception-caught  # the stream broke off
            raise FleetError("{0}: WATCH {1}: {2}".format(self.name, path, e))
        finally:
            if not ended:
                # closed before the server ended it (the caller had what it wanted) or broken: the rest of the
                # reply may still come, so the connection is closed, never handed to the next request
                raw.close()
            raw.release_conn()

    def get(self, k, namespace, name, subresource=None):
        return self._call("GET", k.path(namespace, name, subresource))

    def get_path(self, path):
        """GET any API path (discovery: ``/apis``, ``/apis/GROUP``); None when the server has none."""
        return self._call("GET", path)

    def list(self, k, namespace=None, label_selector=None):
        query = {"labelSelector": label_selector} if label_selector else None
        found = self._call("GET", k.path(namespace), query=query)
        return (found or {}).get("items", [])

    def apply(self, k, obj, dry_run=False, field_manager=FIELD_MANAGER, force=True):
        """Server-side apply; returns the object as the server has (or would have) it."""
        meta = obj.get("metadata", {})
        if dry_run and not self.dry_run_supported:
            return obj  # the prediction: what we would send (without the server's defaults)
        query = {"fieldManager": field_manager, "force": "true" if force else "false"}
        if dry_run:
            query["dryRun"] = "All"
        return self._call("PATCH", k.path(meta.get("namespace"), meta["name"]), query=query,
                          body=json.dumps(obj), content_type="application/apply-patch+yaml")

    def patch(self, k, namespace, name, patch, subresource=None, dry_run=False,
              content_type="application/merge-patch+json"):
        """Patch with a dict (merge or strategic merge patch) or a list (JSON patch); never a JSON string.

        A dry run on an endpoint that cannot do one sends nothing and returns None.
        """
        if dry_run and not self.dry_run_supported:
            return None
        query = {"dryRun": "All"} if dry_run else None
        return self._call("PATCH", k.path(namespace, name, subresource), query=query,
                          body=patch, content_type=content_type)

    def delete(self, k, namespace, name, dry_run=False):
        if dry_run and not self.dry_run_supported:
            return None
        query = {"dryRun": "All"} if dry_run else None
        try:
            return self._call("DELETE", k.path(namespace, name), query=query)
        except FleetError as e:
            if e.status == 404:
                return None
            raise


class Fleet(object):
    """The Karmada control plane and lazily built clients for its member clusters."""

    def __init__(self, module, member_access="karmada_proxy", member_kubeconfig=None, member_contexts=None):
        """``module``: an AnsibleModule, or its ``params`` (kubernetes.core's auth options among them)."""
        params = getattr(module, "params", module)
        if not HAS_KUBERNETES:
            raise FleetError("the python 'kubernetes' library is required: {0}".format(KUBERNETES_IMPORT_ERROR))
        if not HAS_K8S_CORE:
            raise FleetError("the kubernetes.core collection is required (pip install ansible, or "
                             "ansible-galaxy collection install kubernetes.core)")
        self.auth = dict((k, params.get(k)) for k in AUTH_ARG_SPEC if params.get(k) is not None)
        self.member_access = member_access
        self.member_kubeconfig = member_kubeconfig
        self.member_contexts = member_contexts or {}
        self.control = Endpoint("karmada", self._api_client(self.auth, "the Karmada API server"))
        self._members = {}
        self._members_lock = threading.Lock()

    @staticmethod
    def _check_kubeconfig(kubeconfig, context, what):
        """Fail naming the file or the context, before the kubernetes client says "No configuration found"."""
        if isinstance(kubeconfig, str) and not os.path.exists(os.path.expanduser(kubeconfig)):
            # The path may be a no_log value, which Ansible masks wherever it appears whole.
            raise FleetError("cannot connect to {0}: kubeconfig file {1!r} does not exist in directory {2}".format(
                what, os.path.basename(kubeconfig), os.path.dirname(os.path.abspath(kubeconfig)) + os.sep))
        if not context or not isinstance(kubeconfig, (str, dict)):
            return
        try:
            if isinstance(kubeconfig, dict):
                names = [c.get("name") for c in kubeconfig.get("contexts") or []]
            else:
                names = [c["name"] for c in kubernetes.config.list_kube_config_contexts(kubeconfig)[0]]
        except Exception:  # pylint: disable=broad-exception-caught  # unreadable: the client says why
            return
        if context not in names:
            raise FleetError("cannot connect to {0}: context {1!r} is not in its kubeconfig (contexts: {2})".format(
                what, context, ", ".join(sorted(n for n in names if n)) or "none"))

    @staticmethod
    def _api_client(auth, what):
        """A kubernetes ApiClient from kubernetes.core's get_api_client (its auth rules and K8S_AUTH_* fallback)."""
        kubeconfig = auth.get("kubeconfig") or (os.environ.get("K8S_AUTH_KUBECONFIG") if not auth.get("host") else None)
        Fleet._check_kubeconfig(kubeconfig, auth.get("context") or os.environ.get("K8S_AUTH_CONTEXT"), what)
        try:
            with _CLIENT_LOCK:
                api = get_api_client(**auth).client.client
                if (api.configuration.connection_pool_maxsize or 0) < MAX_WORKERS:
                    api.configuration.connection_pool_maxsize = MAX_WORKERS
                    api.rest_client = type(api.rest_client)(api.configuration)
                return api
        except Exception as e:  # pylint: disable=broad-exception-caught  # ConfigException, CoreException, TLS, refused
            hint = ""
            if not kubeconfig and not auth.get("host") and not os.environ.get("K8S_AUTH_HOST"):
                hint = (" (no kubeconfig, host or K8S_AUTH_* variable was given, and the default kubeconfig "
                        "~/.kube/config or $KUBECONFIG has none: set the module's kubeconfig and context options)")
            raise FleetError("cannot connect to {0}: {1}{2}".format(what, e, hint))

    def _member_client(self, name):
        """A client for one member from its own kubeconfig context (never from K8S_AUTH_* variables,
        which describe the Karmada API server)."""
        kubeconfig = self.member_kubeconfig or self.auth.get("kubeconfig") or os.environ.get("K8S_AUTH_KUBECONFIG")
        return self.kubeconfig_client(kubeconfig, self.member_contexts.get(name) or name, "member {0}".format(name))[0]

    def kubeconfig_endpoint(self, name, kubeconfig, context):
        """An Endpoint for a cluster reached with one context of a kubeconfig (path or dict), for example a
        member's own credentials when joining it; and that context's settings as the kubeconfig gives them
        (``host``, ``verify_ssl``, ``proxy``, ``ssl_ca_cert``), before ``validate_certs`` is applied."""
        api, settings = self.kubeconfig_client(kubeconfig, context, "cluster {0}".format(name))
        return Endpoint(name, api), settings

    def kubeconfig_client(self, kubeconfig, context, what):
        """(ApiClient, settings) for one kubeconfig context; see kubeconfig_endpoint."""
        self._check_kubeconfig(kubeconfig, context, what)
        cfg = kubernetes.client.Configuration()
        try:
            if isinstance(kubeconfig, dict):
                kubernetes.config.load_kube_config_from_dict(kubeconfig, context=context, client_configuration=cfg)
            else:
                kubernetes.config.load_kube_config(config_file=kubeconfig, context=context, client_configuration=cfg)
        except Exception as e:  # pylint: disable=broad-exception-caught
            raise FleetError("cannot connect to {0}: context {1!r}: {2}".format(what, context, e))
        settings = dict(host=cfg.host, verify_ssl=cfg.verify_ssl, proxy=getattr(cfg, "proxy", None),
                        ssl_ca_cert=cfg.ssl_ca_cert)
        if self.auth.get("validate_certs") is False:
            cfg.verify_ssl = False
        return kubernetes.client.ApiClient(cfg), settings

    def member(self, name):
        """The Endpoint of one member cluster (built once, thread-safe)."""
        with self._members_lock:
            if name not in self._members:
                if self.member_access == "karmada_proxy":
                    self._members[name] = Endpoint(name, self.control.api, dry_run_supported=False,
                                                   prefix=CLUSTER_PROXY.format(name))
                else:
                    self._members[name] = Endpoint(name, self._member_client(name))
            return self._members[name]

    def cluster_objects(self):
        """Karmada's Cluster objects, as listed."""
        return self.control.list(kind("Cluster"))

    def clusters(self, objects=None):
        """Karmada's member clusters: name -> ready (bool); ``objects``: :meth:`cluster_objects`, when already read."""
        result = {}
        for c in self.cluster_objects() if objects is None else objects:
            conditions = c.get("status", {}).get("conditions", [])
            ready = any(x.get("type") == "Ready" and x.get("status") == "True" for x in conditions)
            result[c["metadata"]["name"]] = ready
        return result

    def resolve(self, requested=None, field="clusters", known=None):
        """Check requested cluster names against Karmada (``known``: :meth:`clusters`, when already read);
        default to every Ready cluster."""
        known = self.clusters() if known is None else known
        if not requested:
            ready = sorted(n for n, ok in known.items() if ok)
            if not ready:
                raise FleetError("Karmada has no Ready member cluster (known: {0})".format(", ".join(sorted(known)) or "none"))
            return ready
        unknown = [n for n in requested if n not in known]
        if unknown:
            raise FleetError("{0}: unknown cluster(s) {1}; Karmada knows: {2}".format(
                field, ", ".join(unknown), ", ".join(sorted(known)) or "none"))
        return list(requested)

    def preferred_versions(self, groups):
        """{group: preferred version} as the Karmada API server serves them (groups it lacks are left out)."""
        found = {}
        for group in set(groups):
            if not group:
                found[group] = "v1"
                continue
            info = self.control.get_path("/apis/" + group)
            if info and info.get("preferredVersion"):
                found[group] = info["preferredVersion"]["version"]
        return found

    def placement(self, kind_name, namespace, name):
        """Member clusters where Karmada placed one resource template (from its ResourceBinding)."""
        binding = self.control.get(kind("ResourceBinding"), namespace,
                                   "{0}-{1}".format(name, kind_name.lower()))
        if not binding:
            return []
        return [c["name"] for c in binding.get("spec", {}).get("clusters", []) or []]

    def run(self, names, fn):
        """Call fn(endpoint) for each member concurrently; returns {name: (ok, result_or_message)}."""
        names = list(names)
        if not names:
            return {}

        def one(name):
            try:
                return name, (True, fn(self.member(name)))
            except FleetError as e:
                return name, (False, str(e))
            except Exception as e:  # one cluster's surprise must not hide the others' results
                return name, (False, "{0}: {1}: {2}".format(name, type(e).__name__, e))

        with ThreadPoolExecutor(max_workers=min(MAX_WORKERS, len(names))) as pool:
            return dict(pool.map(one, names))


def fleet_for(params):
    """The Fleet the options ``params`` describe (kubernetes.core's auth options and member addressing)."""
    return Fleet(params, member_access=params.get("member_access") or "karmada_proxy",
                 member_kubeconfig=params.get("member_kubeconfig"), member_contexts=params.get("member_contexts"))


def control_endpoint(auth):
    """The Karmada API server's Endpoint from kubernetes.core's connection options (a dict; unset ones fall back
    to the ``K8S_AUTH_*`` variables), for code that is not a module (the inventory plugin)."""
    if not HAS_KUBERNETES:
        raise FleetError("the python 'kubernetes' library is required: {0}".format(KUBERNETES_IMPORT_ERROR))
    if not HAS_K8S_CORE:
        raise FleetError("the kubernetes.core collection is required (pip install ansible, or "
                         "ansible-galaxy collection install kubernetes.core)")
    return Endpoint("karmada", Fleet._api_client(dict(auth), "the Karmada API server"))


def fleet_from_module(module):
    """Build a Fleet from a module using the standard argument spec, or fail the module."""
    try:
        return fleet_for(module.params)
    except FleetError as e:
        module.fail_json(msg=str(e))


MEMBER_ARG_SPEC = {
    "clusters": {"type": "list", "elements": "str"},
    "member_access": {"type": "str", "default": "karmada_proxy", "choices": ["karmada_proxy", "kubeconfig"]},
    "member_kubeconfig": {"type": "raw", "no_log": True},
    "member_contexts": {"type": "dict"},
}


def fleet_argument_spec(**extra):
    """kubernetes.core's auth options (validate_certs on by default) plus member addressing."""
    spec = copy.deepcopy(AUTH_ARG_SPEC)
    if "validate_certs" in spec:
        spec["validate_certs"]["default"] = True
    spec.update(copy.deepcopy(MEMBER_ARG_SPEC))
    spec.update(extra)
    return spec


def view_argument_spec():
    """The options of a module that reports an app's release: its ``container`` and the ``lane`` its routes are
    probed with (doc fragments multicluster.canary.release_view and multicluster.canary.release_view.lane)."""
    return dict(
        container=dict(type="str"),
        lane=dict(type="dict", options=dict(
            header=dict(type="str"),
            value=dict(type="str"),
            source_labels=dict(type="dict"),
        )),
    )


def object_argument_spec(**extra):
    """fleet_argument_spec with the ``name`` and ``namespace`` of the object a module acts on (both required)."""
    return fleet_argument_spec(name=dict(type="str", required=True), namespace=dict(type="str", required=True),
                               **extra)
