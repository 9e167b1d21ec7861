# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The app catalogue: one entry of ``multicluster_canary_apps`` checked, then rendered into its objects.

Pure functions on dicts (no I/O, no cluster): the filter plugin
``multicluster.canary.app_manifests`` reads a manifest file if the entry names one
and calls :func:`render_app`; roles and the preflight check use its result.

An entry describes the app's pods in one of three ways:

* the short form of the first releases: ``image`` and ``port`` (one container named
  after the app, one port named ``http``);
* ``pod_template``: a full pod template (``metadata`` and ``spec``, as in a Deployment's
  ``spec.template``): several containers and ports, env, resources, probes, volumes,
  ``serviceAccountName``, ``imagePullSecrets``, init containers and sidecars;
* ``manifest``: the user's own Rollout or Deployment (a path the filter reads, or the
  object itself), whose pod template and settings are kept.

The collection completes it with what it owns: the Rollout's name, namespace, replicas,
selector and canary strategy (steps, stable/canary Services or DestinationRule subsets,
Istio traffic routing, ``managedRoutes``, ``canaryMetadata`` lane labels), the Services,
the frontend's Gateway, and the arguments of the route and placement modules (which merge
with live state, so they are handed over as arguments rather than objects).

Every problem is reported with the field at fault, all of them at once, for example
``multicluster_canary_apps.ruoyi-vue.pod_template.spec.containers[1].ports[0].containerPort:
must be an integer from 1 to 65535, got 'http'``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import hashlib
import json
import re
from decimal import ROUND_UP, Context, Decimal, InvalidOperation, localcontext

from ansible_collections.multicluster.canary.plugins.module_utils.release_state import (
    ONBOARDED,
    ReleaseError,
    check_image,
)

PREFIX = "multicluster_canary_apps"
APP_ANNOTATION = "multicluster.canary/app"
ROLLOUT_API = "argoproj.io/v1alpha1"
TIERS = ("frontend", "backend")
ROUTINGS = ("services", "subsets")
PRIMARY_ROUTE = "primary"
LANE_ROUTE = "canary-lane"
STABLE_SUBSET = "stable"
CANARY_SUBSET = "canary"
DEFAULT_LANE = {"header": "X-canary", "value": "test-user", "source_labels": {"lane": "canary"}}
DEFAULT_GATEWAY_SELECTOR = {"istio": "ingressgateway"}
ISTIO_VERSIONS = ("v1alpha3", "v1beta1", "v1")
REVISION_HISTORY_LIMIT = 3

# Every key an entry may have; anything else is a typo and is named.
APP_FIELDS = (
    "description", "tier", "namespace", "image", "container", "port", "pod_template", "manifest",
    "service_ports", "routing", "replicas", "replicas_per_weight", "steps", "hosts", "tls_secret",
    "gateway_selector",
)
STEP_KINDS = ("setWeight", "pause", "setCanaryScale", "setHeaderRoute", "setMirrorRoute", "analysis",
              "experiment", "plugin")
ROUTE_STEPS = ("setHeaderRoute", "setMirrorRoute")
PROBES = ("livenessProbe", "readinessProbe", "startupProbe")
PROBE_HANDLERS = ("exec", "httpGet", "tcpSocket", "grpc")
# 0 means Kubernetes' default for each but the probe's own grace period, which must be positive.
PROBE_MINIMUM = {"initialDelaySeconds": 0, "timeoutSeconds": 0, "periodSeconds": 0, "successThreshold": 0,
                 "failureThreshold": 0, "terminationGracePeriodSeconds": 1}
ENV_SOURCES = ("fieldRef", "resourceFieldRef", "configMapKeyRef", "secretKeyRef", "fileKeyRef")
PROTOCOLS = ("TCP", "UDP", "SCTP")
# Fields of a user's Rollout (or Deployment) the collection sets itself; the rest of its spec is kept.
OWNED_ROLLOUT_SPEC = ("replicas", "selector", "template", "strategy", "workloadRef", "paused", "restartAt")
DEPLOYMENT_KEPT_SPEC = ("minReadySeconds", "revisionHistoryLimit", "progressDeadlineSeconds")
OWNED_CANARY = ("stableService", "canaryService", "trafficRouting", "steps")

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_PORT_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
_LABEL_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
# Services are named APP-stable and APP-canary: an app name leaves room for the longest suffix.
APP_NAME_MAX = 63 - len("-canary")

# Kubernetes resource quantities (k8s.io/apimachinery/pkg/api/resource).
_QUANTITY = re.compile(r"^([+-]?)([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?[0-9]+)?$")
_DECIMAL_SUFFIXES = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_BINARY_SUFFIXES = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
_DECIMAL_BY_EXPONENT = dict((v, k) for k, v in _DECIMAL_SUFFIXES.items())
_BINARY_BY_EXPONENT = dict((v, k) for k, v in _BINARY_SUFFIXES.items())
_NANO = Decimal("1e-9")


class CatalogueError(ValueError):
    """A catalogue entry that cannot be rendered; ``errors`` lists every problem, each naming its field."""

    def __init__(self, errors):
        self.errors = list(errors)
        super(CatalogueError, self).__init__("; ".join(self.errors))


class _Problems(object):
    """Collects the problems of one entry, so the user sees them all in one run."""

    def __init__(self):
        self.errors = []

    def add(self, field, message):
        self.errors.append("{0}: {1}".format(field, message))

    def raise_if_any(self):
        if self.errors:
            raise CatalogueError(self.errors)


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _int_like(value):
    """An int, or a string of digits (catalogues templated by Ansible may hold either), else None."""
    if _is_int(value):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _fmt(value):
    return repr(value) if isinstance(value, str) else str(value)


# --- resource quantities ------------------------------------------------------

def canonical_quantity(value):
    """The canonical form Kubernetes writes a resource quantity in (``0.5`` -> ``500m``, ``1024Mi`` -> ``1Gi``).

    Argo Rollouts writes a Rollout back through its Go types, which print quantities canonically;
    a template holding another spelling would then differ from every member and Karmada would
    write it back, raising each member's generation. Raises ValueError when ``value`` is not a quantity.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError("not a quantity")
    text = str(value).strip() if not isinstance(value, float) else repr(value)
    match = _QUANTITY.match(text)
    if not match:
        raise ValueError("not a quantity")
    with localcontext(Context(prec=200)):
        return _canonical(match)


def _canonical(match):
    sign, number, suffix = match.group(1), match.group(2), match.group(3) or ""
    try:
        amount = Decimal(number)
    except InvalidOperation:
        raise ValueError("not a quantity")
    binary = suffix in _BINARY_SUFFIXES
    exponent_form = suffix[:1] in ("e", "E")
    if binary:
        amount *= Decimal(1024) ** _BINARY_SUFFIXES[suffix]
    elif exponent_form:
        amount = amount.scaleb(int(suffix[1:]))
    else:
        amount = amount.scaleb(_DECIMAL_SUFFIXES[suffix])
    if sign == "-":
        amount = -amount
    if amount == 0:
        return "0"
    # Kubernetes rounds anything finer than a nano-unit up to it.
    if amount != amount.quantize(_NANO, rounding=ROUND_UP):
        amount = amount.quantize(_NANO, rounding=ROUND_UP)
    if binary and abs(amount) >= 1024 and amount == amount.to_integral_value():
        mantissa, power = int(amount), 0
        while power < 6 and mantissa % 1024 == 0:
            mantissa //= 1024
            power += 1
        return "{0}{1}".format(mantissa, _BINARY_BY_EXPONENT.get(power, ""))
    # Decimal forms: an integer mantissa times a power of ten that is a multiple of three.
    sign_, digits, exp = amount.normalize().as_tuple()
    mantissa = int("".join(str(d) for d in digits))
    remainder = exp % 3
    mantissa *= 10 ** remainder
    exp -= remainder
    text = "{0}{1}".format("-" if sign_ else "", mantissa)
    if exponent_form:
        return text + ("e{0}".format(exp) if exp else "")
    if exp in _DECIMAL_BY_EXPONENT:
        return text + _DECIMAL_BY_EXPONENT[exp]
    return text + "e{0}".format(exp)


# --- small checks --------------------------------------------------------------

def _check_name(problems, field, value, pattern=_DNS_LABEL, max_len=63, what="a DNS label (a-z, 0-9, -)"):
    if not isinstance(value, str) or not value:
        problems.add(field, "must be a non-empty string, got {0}".format(_fmt(value)))
        return False
    if len(value) > max_len or not pattern.match(value):
        problems.add(field, "{0!r} is not {1}, at most {2} characters".format(value, what, max_len))
        return False
    return True


def _check_int(problems, field, value, low=None, high=None):
    if not _is_int(value):
        problems.add(field, "must be an integer, got {0}".format(_fmt(value)))
        return False
    if (low is not None and value < low) or (high is not None and value > high):
        rng = "from {0} to {1}".format(low, high) if high is not None else "at least {0}".format(low)
        problems.add(field, "must be {0}, got {1}".format(rng, value))
        return False
    return True


def _check_port_number(problems, field, value):
    if not _is_int(value) or not 1 <= value <= 65535:
        problems.add(field, "must be an integer from 1 to 65535, got {0}".format(_fmt(value)))
        return False
    return True


def _check_port_name(problems, field, value):
    """An IANA service name, as Kubernetes wants a port name."""
    if (not isinstance(value, str) or len(value) > 15 or not _PORT_NAME.match(value) or "--" in value
            or not re.search(r"[a-z]", value)):
        problems.add(field, "{0} is not a port name (at most 15 characters a-z, 0-9 and -, with a letter, "
                            "no leading, trailing or double -)".format(_fmt(value)))
        return False
    return True


def _check_dict(problems, field, value):
    if not isinstance(value, dict):
        problems.add(field, "must be a mapping, got {0}".format(type(value).__name__))
        return False
    return True


def _check_list(problems, field, value):
    if not isinstance(value, list):
        problems.add(field, "must be a list, got {0}".format(type(value).__name__))
        return False
    return True


def _check_labels(problems, field, labels):
    if labels is None:
        return
    if not _check_dict(problems, field, labels):
        return
    for key, value in labels.items():
        prefix, _sep, name = str(key).rpartition("/")
        if (not isinstance(key, str) or not name or len(name) > 63 or not _LABEL_NAME.match(name)
                or (prefix and (len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix)))):
            problems.add("{0}.{1}".format(field, key), "is not a label key ([prefix/]name, name at most 63 characters)")
        if not isinstance(value, str):
            problems.add("{0}.{1}".format(field, key), "label values are strings, got {0} (quote it)".format(
                _fmt(value)))
        elif len(value) > 63 or not _LABEL_VALUE.match(value):
            problems.add("{0}.{1}".format(field, key), "{0!r} is not a label value (at most 63 characters "
                                                       "A-Z, a-z, 0-9, -, _ and ., alphanumeric at both ends)".format(value))


def _check_annotations(problems, field, annotations):
    if annotations is None:
        return
    if not _check_dict(problems, field, annotations):
        return
    for key, value in annotations.items():
        if not isinstance(value, str):
            problems.add("{0}.{1}".format(field, key), "annotation values are strings, got {0} (quote it)".format(
                _fmt(value)))


def dotted_key_collisions(obj, field=""):
    """Paths of maps holding a key and another key that extends it with a dot (``app`` and ``app.kubernetes.io/name``).

    Karmada joins field paths with dots when it converts what its Lua interpreters return (retention,
    replica revision), so two such keys become one path and the binding fails at random.
    """
    found = []
    if isinstance(obj, dict):
        keys = [k for k in obj if isinstance(k, str)]
        for key in sorted(keys):
            for other in sorted(keys):
                if other.startswith(key + "."):
                    found.append(("{0}.{1}".format(field, other).lstrip("."), key))
        for key, value in obj.items():
            found.extend(dotted_key_collisions(value, "{0}.{1}".format(field, key).lstrip(".")))
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            found.extend(dotted_key_collisions(value, "{0}[{1}]".format(field, i)))
    return found


# --- pod template ----------------------------------------------------------------

# What Argo Rollouts' Go types print when the controller writes a Rollout back (on every new
# revision): fields tagged omitempty that hold their zero value disappear, and the Rollout CRD's
# defaults appear. A template that says anything else differs from every member after that write,
# and Karmada writes the template back (one release then costs several generations, and a re-run
# reports a change). So the rendered pod template is what a round trip through those types leaves.
# Only non-pointer fields are listed: a pointer field keeps its zero value (runAsUser: 0,
# allowPrivilegeEscalation: false, terminationGracePeriodSeconds: 0 are kept as written).
_GO_ZERO = {
    "pod": {"hostNetwork": False, "hostPID": False, "hostIPC": False, "serviceAccountName": "",
            "serviceAccount": "", "nodeName": "", "hostname": "", "subdomain": "", "schedulerName": "",
            "priorityClassName": "", "restartPolicy": "", "dnsPolicy": "", "volumes": [], "initContainers": [],
            "imagePullSecrets": [], "tolerations": [], "hostAliases": [], "nodeSelector": {},
            "topologySpreadConstraints": [], "readinessGates": [], "overhead": {}},
    "container": {"stdin": False, "stdinOnce": False, "tty": False, "workingDir": "", "imagePullPolicy": "",
                  "terminationMessagePath": "", "terminationMessagePolicy": "", "command": [], "args": [],
                  "env": [], "envFrom": [], "ports": [], "volumeMounts": [], "volumeDevices": [],
                  "resizePolicy": []},
    "port": {"hostPort": 0, "hostIP": "", "name": ""},
    "env": {"value": ""},
    "mount": {"readOnly": False, "subPath": "", "subPathExpr": "", "mountPropagation": ""},
    "probe": {"initialDelaySeconds": 0, "timeoutSeconds": 0, "periodSeconds": 0, "successThreshold": 0,
              "failureThreshold": 0},
    "httpGet": {"path": "", "host": "", "scheme": "", "httpHeaders": []},
    "meta": {"labels": {}, "annotations": {}},
}


def _drop_zero(obj, kind):
    if isinstance(obj, dict):
        for key, zero in _GO_ZERO[kind].items():
            if key in obj and obj[key] == zero and type(obj[key]) is type(zero):
                del obj[key]


def as_go_prints(template):
    """Normalise a pod template ({metadata, spec}) in place to what Argo Rollouts writes back (see _GO_ZERO)."""
    _drop_zero(template.get("metadata"), "meta")
    spec = template.get("spec")
    if not isinstance(spec, dict):
        return template
    _drop_zero(spec, "pod")
    for key in ("containers", "initContainers"):
        for container in spec.get(key) or []:
            if not isinstance(container, dict):
                continue
            _drop_zero(container, "container")
            for port in container.get("ports") or []:
                if isinstance(port, dict):
                    _drop_zero(port, "port")
                    port.setdefault("protocol", "TCP")  # the CRD's default
            for var in container.get("env") or []:
                _drop_zero(var, "env")
                source = var.get("valueFrom") if isinstance(var, dict) else None
                if isinstance(source, dict) and isinstance(source.get("fileKeyRef"), dict):
                    source["fileKeyRef"].setdefault("optional", False)  # the CRD's default
            for mount in container.get("volumeMounts") or []:
                _drop_zero(mount, "mount")
            for probe_kind in PROBES:
                probe = container.get(probe_kind)
                if not isinstance(probe, dict):
                    continue
                _drop_zero(probe, "probe")
                _drop_zero(probe.get("httpGet"), "httpGet")
                if isinstance(probe.get("grpc"), dict):
                    probe["grpc"].setdefault("service", "")  # the CRD's default
    return template


def _canonical_resources(problems, field, container):
    """``resources: {}`` when none are given (what Argo Rollouts writes back), quantities in canonical form."""
    resources = container.get("resources")
    if resources is None:
        container["resources"] = {}
        return
    if not _check_dict(problems, field, resources):
        return
    parsed = {}
    for kind in ("requests", "limits"):
        values = resources.get(kind)
        if values is None:
            continue
        if not _check_dict(problems, "{0}.{1}".format(field, kind), values):
            continue
        for resource, quantity in values.items():
            where = "{0}.{1}.{2}".format(field, kind, resource)
            try:
                values[resource] = canonical_quantity(quantity)
            except ValueError:
                problems.add(where, "{0} is not a resource quantity (for example 500m, 1, 512Mi, 2Gi)".format(
                    _fmt(quantity)))
                continue
            parsed[(kind, resource)] = _quantity_value(values[resource])
    for (kind, resource), amount in parsed.items():
        limit = parsed.get(("limits", resource))
        if kind == "requests" and limit is not None and amount > limit:
            problems.add("{0}.requests.{1}".format(field, resource), "{0} is more than limits.{1} {2}: Kubernetes "
                         "refuses such pods".format(resources["requests"][resource], resource,
                                                    resources["limits"][resource]))


def _quantity_value(canonical):
    match = _QUANTITY.match(canonical)
    amount = Decimal(match.group(2))
    suffix = match.group(3) or ""
    if suffix in _BINARY_SUFFIXES:
        amount *= Decimal(1024) ** _BINARY_SUFFIXES[suffix]
    elif suffix[:1] in ("e", "E"):
        amount = amount.scaleb(int(suffix[1:]))
    else:
        amount = amount.scaleb(_DECIMAL_SUFFIXES[suffix])
    return -amount if match.group(1) == "-" else amount


def _check_probe(problems, field, probe, port_names, kind, init):
    if not _check_dict(problems, field, probe):
        return
    if init:
        problems.add(field, "an init container may have probes only as a sidecar (restartPolicy: Always)")
    handlers = [h for h in PROBE_HANDLERS if h in probe]
    if len(handlers) != 1:
        problems.add(field, "needs exactly one of {0}, got {1}".format(
            ", ".join(PROBE_HANDLERS), ", ".join(handlers) or "none"))
    for handler in handlers:
        spec = probe[handler]
        where = "{0}.{1}".format(field, handler)
        if not _check_dict(problems, where, spec):
            continue
        if handler == "exec":
            command = spec.get("command")
            if not isinstance(command, list) or not command or not all(isinstance(c, str) for c in command):
                problems.add(where + ".command", "must be a non-empty list of strings")
            continue
        port = spec.get("port")
        if handler == "grpc" or _is_int(port):
            _check_port_number(problems, where + ".port", port)
        elif isinstance(port, str) and port:
            if port not in port_names:
                problems.add(where + ".port", "no port named {0!r} in this container (ports: {1})".format(
                    port, ", ".join(sorted(port_names)) or "none"))
        else:
            problems.add(where + ".port", "must be a port number or the name of one of the container's ports, "
                                          "got {0}".format(_fmt(port)))
        path = spec.get("path", "/")
        if handler == "httpGet" and path != "" and not (isinstance(path, str) and path.startswith("/")):
            problems.add(where + ".path", "must be a path starting with /, got {0}".format(_fmt(spec["path"])))
    for key, low in PROBE_MINIMUM.items():
        if key in probe:
            _check_int(problems, "{0}.{1}".format(field, key), probe[key], low=low)
    if kind in ("livenessProbe", "startupProbe") and probe.get("successThreshold", 1) not in (0, 1):
        problems.add(field + ".successThreshold", "must be 1 for a {0}".format(kind))


def _check_env(problems, field, env):
    if not _check_list(problems, field, env):
        return
    seen = {}
    for i, var in enumerate(env):
        where = "{0}[{1}]".format(field, i)
        if not _check_dict(problems, where, var):
            continue
        name = var.get("name")
        if not isinstance(name, str) or not name or "=" in name:
            problems.add(where + ".name", "must be a variable name (no =), got {0}".format(_fmt(name)))
        elif name in seen:
            problems.add(where + ".name", "{0!r} is set twice (also {1}[{2}])".format(name, field, seen[name]))
        else:
            seen[name] = i
        if "value" in var and "valueFrom" in var:
            problems.add(where, "has both value and valueFrom")
        if "value" in var and not isinstance(var["value"], str):
            problems.add(where + ".value", "env values are strings, got {0} (quote it: \"{1}\")".format(
                _fmt(var["value"]), var["value"]))
        if "valueFrom" in var:
            source = var["valueFrom"]
            if not isinstance(source, dict) or len([k for k in ENV_SOURCES if k in source]) != 1:
                problems.add(where + ".valueFrom", "needs exactly one of {0}".format(", ".join(ENV_SOURCES)))
            else:
                for ref in ("configMapKeyRef", "secretKeyRef"):
                    if ref in source and (not isinstance(source[ref], dict) or not source[ref].get("name")
                                          or not source[ref].get("key")):
                        problems.add("{0}.valueFrom.{1}".format(where, ref), "needs the name of the {0} and the "
                                     "key".format("ConfigMap" if ref == "configMapKeyRef" else "Secret"))


def _check_container(problems, field, container, volume_names, init, port_names_in_pod, check_image_here=True):
    if not _check_dict(problems, field, container):
        return
    _check_name(problems, field + ".name", container.get("name"))
    image = container.get("image")
    if not check_image_here:
        pass
    elif image is not None:
        try:
            check_image(image, field + ".image")
        except ReleaseError as exc:
            problems.errors.append(str(exc))
    else:
        problems.add(field + ".image", "is required")
    sidecar = init and container.get("restartPolicy") == "Always"
    port_names = set()
    ports = container.get("ports")
    if ports is not None and _check_list(problems, field + ".ports", ports):
        seen_numbers = set()
        for i, port in enumerate(ports):
            where = "{0}.ports[{1}]".format(field, i)
            if not _check_dict(problems, where, port):
                continue
            if _check_port_number(problems, where + ".containerPort", port.get("containerPort")):
                key = (port["containerPort"], port.get("protocol", "TCP"))
                if key in seen_numbers:
                    problems.add(where + ".containerPort", "{0}/{1} is listed twice".format(*key))
                seen_numbers.add(key)
            if "name" in port and _check_port_name(problems, where + ".name", port["name"]):
                if port["name"] in port_names_in_pod:
                    problems.add(where + ".name", "{0!r} is already the name of a port of {1}".format(
                        port["name"], port_names_in_pod[port["name"]]))
                else:
                    port_names_in_pod[port["name"]] = "container {0}".format(container.get("name"))
                port_names.add(port["name"])
            if "protocol" in port and port["protocol"] not in PROTOCOLS:
                problems.add(where + ".protocol", "must be one of {0}, got {1}".format(
                    ", ".join(PROTOCOLS), _fmt(port["protocol"])))
            if port.get("hostPort", 0) != 0:  # 0 is "no host port"
                _check_port_number(problems, where + ".hostPort", port["hostPort"])
    if "env" in container:
        _check_env(problems, field + ".env", container["env"])
    if "envFrom" in container:
        _check_list(problems, field + ".envFrom", container["envFrom"])
    _canonical_resources(problems, field + ".resources", container)
    for kind in PROBES:
        if kind in container:
            _check_probe(problems, "{0}.{1}".format(field, kind), container[kind], port_names, kind,
                         init and not sidecar)
    mounts = container.get("volumeMounts")
    if mounts is not None and _check_list(problems, field + ".volumeMounts", mounts):
        for i, mount in enumerate(mounts):
            where = "{0}.volumeMounts[{1}]".format(field, i)
            if not _check_dict(problems, where, mount):
                continue
            if mount.get("name") not in volume_names:
                problems.add(where + ".name", "no volume named {0} in the pod (volumes: {1})".format(
                    _fmt(mount.get("name")), ", ".join(sorted(volume_names)) or "none"))
            if not isinstance(mount.get("mountPath"), str) or not mount.get("mountPath"):
                problems.add(where + ".mountPath", "is required (a path)")
    for key in ("command", "args"):
        if key in container and (not isinstance(container[key], list)
                                 or not all(isinstance(a, str) for a in container[key])):
            problems.add("{0}.{1}".format(field, key), "must be a list of strings (quote numbers)")


def check_pod_template(problems, field, template, app, released=None):
    """Check a pod template ({metadata, spec}) in place, filling ``resources: {}`` and canonical quantities.

    ``released`` names the container whose image the catalogue's ``image`` gives (checked there)."""
    meta = template.get("metadata") or {}
    if _check_dict(problems, field + ".metadata", meta):
        labels = meta.get("labels") or {}
        if labels.get("app", app) != app:
            problems.add(field + ".metadata.labels.app", "{0!r} is not the app's name {1!r}: the Rollout selects its "
                                                         "pods by app={1}".format(labels.get("app"), app))
        _check_labels(problems, field + ".metadata.labels", meta.get("labels"))
        _check_annotations(problems, field + ".metadata.annotations", meta.get("annotations"))
    spec = template.get("spec")
    if not _check_dict(problems, field + ".spec", spec):
        return
    volume_names = set()
    volumes = spec.get("volumes")
    if volumes is not None and _check_list(problems, field + ".spec.volumes", volumes):
        for i, volume in enumerate(volumes):
            where = "{0}.spec.volumes[{1}]".format(field, i)
            if not _check_dict(problems, where, volume):
                continue
            if _check_name(problems, where + ".name", volume.get("name")):
                if volume["name"] in volume_names:
                    problems.add(where + ".name", "{0!r} is listed twice".format(volume["name"]))
                volume_names.add(volume["name"])
    containers = spec.get("containers")
    if not isinstance(containers, list) or not containers:
        problems.add(field + ".spec.containers", "must be a non-empty list of containers")
        containers = []
    names = {}
    port_names = {}
    for key, init in (("containers", False), ("initContainers", True)):
        listed = spec.get(key) if key == "initContainers" else containers
        if listed is None or not _check_list(problems, "{0}.spec.{1}".format(field, key), listed):
            continue
        for i, container in enumerate(listed):
            where = "{0}.spec.{1}[{2}]".format(field, key, i)
            _check_container(problems, where, container, volume_names, init, port_names,
                             check_image_here=init or not isinstance(container, dict)
                             or container.get("name") != released)
            name = container.get("name") if isinstance(container, dict) else None
            if isinstance(name, str) and name in names:
                problems.add(where + ".name", "{0!r} is already the name of {1}".format(name, names[name]))
            elif isinstance(name, str):
                names[name] = where
    pull_secrets = spec.get("imagePullSecrets")
    if pull_secrets is not None and _check_list(problems, field + ".spec.imagePullSecrets", pull_secrets):
        for i, secret in enumerate(pull_secrets):
            where = "{0}.spec.imagePullSecrets[{1}]".format(field, i)
            if not isinstance(secret, dict) or set(secret) != set(("name",)):
                problems.add(where, "must be {{name: SECRET}}, got {0}".format(_fmt(secret)))
            else:
                _check_name(problems, where + ".name", secret["name"], _DNS_SUBDOMAIN, 253, "a Secret name")
    if "serviceAccountName" in spec:
        _check_name(problems, field + ".spec.serviceAccountName", spec["serviceAccountName"], _DNS_SUBDOMAIN, 253,
                    "a ServiceAccount name")


def pick_container(problems, field, containers, app, wanted):
    """The container a release changes: ``container`` if given, else the one named after the app, else the only one
    (the rule of multicluster.canary.rollout_release)."""
    names = [c.get("name") for c in containers if isinstance(c, dict)]
    if wanted is not None:
        if not isinstance(wanted, str) or wanted not in names:
            problems.add(field, "no container {0} in the pod template (containers: {1})".format(
                _fmt(wanted), ", ".join(str(n) for n in names)))
            return None
        return wanted
    if app in names:
        return app
    if len(names) == 1:
        return names[0]
    if names:
        problems.add(field, "the pod template has several containers ({0}) and none is named after the app: say "
                            "which one a release changes (container: NAME)".format(", ".join(str(n) for n in names)))
    return None


# --- the entry ---------------------------------------------------------------------

def _check_steps(problems, field, steps):
    if not isinstance(steps, list) or not steps:
        problems.add(field, "must be a non-empty list of Argo Rollouts canary steps")
        return []
    refs = []
    for i, step in enumerate(steps):
        where = "{0}[{1}]".format(field, i)
        if not isinstance(step, dict) or len(step) != 1:
            problems.add(where, "a step is a mapping with one key, one of {0}".format(", ".join(STEP_KINDS)))
            continue
        kind, value = next(iter(step.items()))
        if kind not in STEP_KINDS:
            problems.add(where, "unknown step {0!r} (steps: {1})".format(kind, ", ".join(STEP_KINDS)))
        elif kind == "setWeight":
            _check_int(problems, where + ".setWeight", value, 0, 100)
        elif kind == "pause":
            if not isinstance(value, dict):
                problems.add(where + ".pause", "must be a mapping ({} to wait for a human, {duration: 10m})")
        elif kind in ROUTE_STEPS:
            if not isinstance(value, dict) or not isinstance(value.get("name"), str) or not value.get("name"):
                problems.add(where + "." + kind + ".name", "a route step needs the route's name")
            elif {"name": value["name"]} not in refs:
                refs.append({"name": value["name"]})
        elif kind == "setCanaryScale" and not isinstance(value, dict):
            problems.add(where + ".setCanaryScale", "must be a mapping (replicas, weight or matchTrafficWeight)")
    return refs


def _manifest_workload(problems, field, manifest, app, namespace):
    """The user's Rollout or Deployment, out of a manifest (one object, or the documents of a file)."""
    if isinstance(manifest, str):
        problems.add(field, "the file {0!r} is not read here: the filter multicluster.canary.app_manifests reads it "
                            "(or give the object itself)".format(manifest))
        return None
    documents = manifest if isinstance(manifest, list) else [manifest]
    documents = [d for d in documents if d is not None]
    workloads = [d for d in documents if isinstance(d, dict) and d.get("kind") in ("Rollout", "Deployment")]
    others = [d for d in documents if d not in workloads]
    for doc in others:
        what = "{0} {1}".format(doc.get("kind"), (doc.get("metadata") or {}).get("name")) if isinstance(doc, dict) \
            else type(doc).__name__
        problems.add(field, "holds {0}: give a manifest with the app's Rollout or Deployment only (the collection "
                            "writes the Services, routes and policies itself)".format(what))
    if len(workloads) != 1:
        if not others:
            problems.add(field, "must hold one Rollout or Deployment, found {0}".format(len(workloads)))
        return None
    workload = copy.deepcopy(workloads[0])
    api = workload.get("apiVersion")
    kind = workload["kind"]
    if (kind, api) not in (("Rollout", ROLLOUT_API), ("Deployment", "apps/v1")):
        problems.add(field + ".apiVersion", "a {0} is {1}, got {2}".format(
            kind, ROLLOUT_API if kind == "Rollout" else "apps/v1", _fmt(api)))
    meta = workload.get("metadata") or {}
    if meta.get("name", app) != app:
        problems.add(field + ".metadata.name", "{0!r} is not the app's name {1!r}: the Rollout is named after the "
                                               "app (rename the app or the object)".format(meta.get("name"), app))
    if meta.get("namespace", namespace) != namespace:
        problems.add(field + ".metadata.namespace", "{0!r} is not the app's namespace {1!r}".format(
            meta.get("namespace"), namespace))
    spec = workload.get("spec")
    if not _check_dict(problems, field + ".spec", spec):
        return None
    if "workloadRef" in spec:
        problems.add(field + ".spec.workloadRef", "is not supported: give the pod template in the Rollout")
    strategy = spec.get("strategy") or {}
    if kind == "Rollout" and "blueGreen" in strategy:
        problems.add(field + ".spec.strategy.blueGreen", "the collection releases with a canary strategy")
    if "template" not in spec:
        problems.add(field + ".spec.template", "is required (the pod template)")
        return None
    return workload


def _service(name, namespace, app, ports):
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": namespace, "labels": {"app": app}},
        "spec": {"type": "ClusterIP", "ports": copy.deepcopy(ports), "selector": {"app": app}},
    }


def _service_ports(problems, field, given, containers, released, released_field=None):
    """The Services' ports: as given, else the released container's ports (each by name)."""
    named = {}
    for c in containers:
        for p in (c.get("ports") or []) if isinstance(c, dict) else []:
            if isinstance(p, dict) and "name" in p:
                named[p["name"]] = p
    if given is not None:
        if not isinstance(given, list) or not given:
            problems.add(field, "must be a non-empty list of Service ports")
            return []
        ports = []
        for i, port in enumerate(given):
            where = "{0}[{1}]".format(field, i)
            if not _check_dict(problems, where, port):
                continue
            unknown = sorted(set(port) - set(("name", "port", "targetPort", "protocol", "appProtocol")))
            if unknown:
                problems.add(where, "unknown field(s) {0}".format(", ".join(unknown)))
            _check_port_name(problems, where + ".name", port.get("name"))
            _check_port_number(problems, where + ".port", port.get("port"))
            target = port.get("targetPort", port.get("port"))
            if isinstance(target, str) and target not in named:
                problems.add(where + ".targetPort", "no container port named {0!r} (named ports: {1})".format(
                    target, ", ".join(sorted(named)) or "none"))
            elif not isinstance(target, str):
                _check_port_number(problems, where + ".targetPort", target)
            out = {"name": port.get("name"), "port": port.get("port"), "targetPort": target,
                   "protocol": port.get("protocol", "TCP")}
            if "appProtocol" in port:
                out["appProtocol"] = port["appProtocol"]
            ports.append(out)
        return ports
    app_ports = (released or {}).get("ports") or []
    ports = []
    for i, p in enumerate(app_ports):
        if not isinstance(p, dict) or not _is_int(p.get("containerPort")):
            continue
        if "name" not in p:
            problems.add("{0}.ports[{1}].name".format(released_field or "container", i),
                         "the Services expose the released container's ports by name (Istio tells the protocol "
                         "from it): name port {0} (http, grpc, ...), or give service_ports".format(p["containerPort"]))
            continue
        ports.append({"name": p["name"], "port": p["containerPort"], "targetPort": p["name"],
                      "protocol": p.get("protocol", "TCP")})
    if not ports and released is not None and not app_ports:
        problems.add(field, "the released container {0!r} has no ports: give it ports, or give service_ports".format(
            released.get("name")))
    return ports


def render_app(name, spec, settings=None, prefix=PREFIX):
    """Check one catalogue entry and render what onboarding writes for it.

    ``settings`` (every key optional) says what comes from the inventory rather than the entry:
    ``namespace`` (for an app that names none), ``image`` (the image to create the Rollout with, when
    not the catalogue's), ``weights`` ({member: weight}), ``waves`` ({member: wave}), ``replicas`` (the Rollout's count instead of
    the catalogue's, when above 0: offboarding's surge), ``lane``
    ({header, value, source_labels}), ``istio_api_version``, ``gateway_selector``, and ``manifest_path``
    (the file a manifest was read from, named in errors).
    A ``manifest`` in the entry must already be an object or a list of documents (the filter reads files).

    Returns a dict (see the filter ``multicluster.canary.app_manifests`` for the contract):
    ``app, namespace, tier, routing, container, image, replicas, services, gateway, rollout, objects,
    route, propagation, managed_routes, binding_names``. Raises CatalogueError naming every bad field.
    """
    settings = dict(settings or {})
    problems = _Problems()
    field = "{0}.{1}".format(prefix, name)

    if not isinstance(name, str) or len(name) > APP_NAME_MAX or not _DNS_1035.match(name):
        problems.add(field, "an app name is a DNS label starting with a letter, at most {0} characters (its "
                            "Services are NAME-stable and NAME-canary)".format(APP_NAME_MAX))
    if not isinstance(spec, dict):
        problems.add(field, "an app is a mapping (tier, image, steps, ...), got {0}".format(type(spec).__name__))
        problems.raise_if_any()
    unknown = sorted(set(spec) - set(APP_FIELDS))
    if unknown:
        problems.add(field, "unknown field(s) {0} (known: {1})".format(
            ", ".join(map(str, unknown)), ", ".join(APP_FIELDS)))

    tier = spec.get("tier", "backend")
    if tier not in TIERS:
        problems.add(field + ".tier", "must be frontend or backend, got {0}".format(_fmt(tier)))
    frontend = tier == "frontend"
    routing = spec.get("routing", "services")
    if routing not in ROUTINGS:
        problems.add(field + ".routing", "must be services (stable and canary Services) or subsets (one Service, "
                                         "DestinationRule subsets), got {0}".format(_fmt(routing)))

    namespace = spec.get("namespace") or settings.get("namespace") or "default"
    _check_name(problems, field + ".namespace" if spec.get("namespace") else "namespace", namespace)

    image = spec.get("image")
    try:
        check_image(image, field + ".image")
    except ReleaseError as exc:
        problems.errors.append(str(exc))
    create_image = settings.get("image") or None
    if create_image is not None:
        try:
            check_image(create_image, "image (to create {0} with)".format(name))
        except ReleaseError as exc:
            problems.errors.append(str(exc))

    managed_refs = _check_steps(problems, field + ".steps", spec.get("steps"))

    weights = settings.get("weights") or {}
    if "replicas" in spec and "replicas_per_weight" in spec:
        problems.add(field + ".replicas", "give replicas or replicas_per_weight, not both")
    if "replicas" in spec:
        replicas = _int_like(spec["replicas"])
        if replicas is None or replicas < 0:
            problems.add(field + ".replicas", "must be an integer of at least 0, got {0}".format(_fmt(spec["replicas"])))
    else:
        per_weight = _int_like(spec.get("replicas_per_weight", 1))
        if per_weight is None or per_weight < 1:
            problems.add(field + ".replicas_per_weight", "must be an integer of at least 1, got {0}".format(
                _fmt(spec.get("replicas_per_weight"))))
            per_weight = 1
        total = sum(w for w in (_int_like(v) for v in weights.values()) if w)
        if total < 1:
            problems.add("members", "no member cluster with a weight above 0 to place {0} on (is the members group "
                                    "empty?)".format(name))
        replicas = per_weight * total
    if settings.get("replicas") not in (None, "", 0, "0"):
        override = _int_like(settings["replicas"])
        if override is None or override < 1:
            problems.add("replicas", "the replica count instead of the catalogue's must be an integer of at least 1 "
                                     "(0 keeps the catalogue's), got {0}".format(_fmt(settings["replicas"])))
        else:
            replicas = override

    if frontend:
        hosts = spec.get("hosts")
        if not isinstance(hosts, list) or not hosts or not all(isinstance(h, str) and h for h in hosts):
            problems.add(field + ".hosts", "a frontend needs the host names its Gateway serves (a non-empty list)")
        if not isinstance(spec.get("tls_secret"), str) or not spec.get("tls_secret"):
            problems.add(field + ".tls_secret", "a frontend needs the name of its TLS Secret in istio-system")
    else:
        for key in ("hosts", "tls_secret", "gateway_selector"):
            if key in spec:
                problems.add(field + "." + key, "is for a frontend (tier: frontend); a backend is reached in the mesh "
                                                "by its Service name")
    gateway_selector = spec.get("gateway_selector", settings.get("gateway_selector") or DEFAULT_GATEWAY_SELECTOR)
    if frontend:
        _check_labels(problems, field + ".gateway_selector", gateway_selector)

    lane = dict(DEFAULT_LANE)
    lane.update(settings.get("lane") or {})
    api_version = settings.get("istio_api_version") or "v1"
    if api_version not in ISTIO_VERSIONS:
        problems.add("istio_api_version", "must be one of {0}, got {1}".format(
            ", ".join(ISTIO_VERSIONS), _fmt(api_version)))

    # The pod template: the short form, the entry's own, or the manifest's.
    forms = [k for k in ("pod_template", "manifest") if k in spec]
    if len(forms) > 1:
        problems.add(field, "give pod_template or manifest, not both")
    workload = None
    if "port" in spec and forms:
        problems.add(field + ".port", "is for the short form (one container): with {0} give the ports in the "
                                      "containers".format(forms[0]))
    if "manifest" in spec:
        # the file the filter read it from, if any, so an error says where to look
        where = field + ".manifest" + ("({0})".format(settings["manifest_path"]) if settings.get("manifest_path")
                                       else "")
        workload = _manifest_workload(problems, where, spec["manifest"], name, namespace)
        template = copy.deepcopy(workload["spec"]["template"]) if workload else None
        template_field = where + ".spec.template"
    elif "pod_template" in spec:
        template = copy.deepcopy(spec["pod_template"])
        template_field = field + ".pod_template"
    else:
        port = _int_like(spec.get("port", 80))
        template_field = field
        if port is None:
            problems.add(field + ".port", "must be an integer from 1 to 65535, got {0}".format(_fmt(spec.get("port"))))
            template = None
        elif not _check_port_number(problems, field + ".port", port):
            template = None
        else:
            template = {"metadata": {"labels": {"app": name}},
                        "spec": {"containers": [{"name": name, "image": image, "ports": [
                            {"name": "http", "containerPort": port, "protocol": "TCP"}]}]}}

    container = None
    released = None
    if template is not None and not isinstance(template, dict):
        problems.add(template_field, "a pod template is a mapping with metadata and spec (a Deployment's "
                                     "spec.template), got {0}".format(type(template).__name__))
        template = None
    if template is not None:
        extra = sorted(str(k) for k in template if k not in ("metadata", "spec"))
        if extra:
            problems.add(template_field, "a pod template has metadata and spec (a Deployment's spec.template), "
                                         "not {0}".format(", ".join(extra)))
        # only what a template's metadata can say: kubectl's output adds creationTimestamp: null
        meta = template.get("metadata") or {}
        if not _check_dict(problems, template_field + ".metadata", meta):
            meta = {}
        template = {"metadata": dict((k, meta[k]) for k in ("labels", "annotations") if k in meta),
                    "spec": template.get("spec")}
        pod_spec = template["spec"] if isinstance(template["spec"], dict) else {}
        containers = pod_spec.get("containers") if isinstance(pod_spec.get("containers"), list) else []
        container = pick_container(problems, field + ".container", containers, name, spec.get("container"))
        released = next((c for c in containers if isinstance(c, dict) and c.get("name") == container), None)
        if released is not None:
            given = released.get("image")
            if "pod_template" in spec and given is not None and given != image:
                problems.add("{0}.spec.containers[{1}].image".format(template_field, containers.index(released)),
                             "{0!r} is not the app's image {1!r}: the released container's image is the catalogue's "
                             "image (leave it out here)".format(given, image))
            # the catalogue's image, or the one asked to create the Rollout with (both checked above)
            released["image"] = create_image or image
        check_pod_template(problems, template_field, template, name, released=container)
        as_go_prints(template)
        labels = template["metadata"].get("labels")
        if labels is None or isinstance(labels, dict):
            template["metadata"]["labels"] = dict(labels or {}, app=name)

    containers = ((template or {}).get("spec") or {}).get("containers") or []
    released_field = ("{0}.spec.containers[{1}]".format(template_field, containers.index(released))
                      if released is not None else None)
    service_ports = _service_ports(problems, field + ".service_ports", spec.get("service_ports"), containers,
                                   released, released_field)
    problems.raise_if_any()

    rollout = _rollout(name, namespace, replicas, template, workload, routing, lane, managed_refs, spec["steps"])
    for path, key in dotted_key_collisions(rollout):
        where = ("{0}.{1}".format(template_field, path[len("spec.template."):]) if path.startswith("spec.template.")
                 else "{0} (the Rollout's {1})".format(field, path))
        problems.add(where,
                     "a key that extends {0!r} with a dot breaks Karmada's propagation of the Rollout (its field "
                     "paths are joined with dots); remove or rename it".format(key))
    problems.raise_if_any()

    services = []
    if routing == "services":
        names = [name + "-stable", name + "-canary"] + ([] if frontend else [name])
    else:
        names = [name]
    for service_name in names:
        services.append(_service(service_name, namespace, name, service_ports))
    gateway = None
    if frontend:
        gateway = {
            "apiVersion": "networking.istio.io/" + api_version,
            "kind": "Gateway",
            "metadata": {"name": name + "-gateway", "namespace": namespace, "labels": {"app": name}},
            "spec": {
                "selector": copy.deepcopy(gateway_selector),
                "servers": [{
                    "port": {"number": 443, "name": "https", "protocol": "HTTPS"},
                    "hosts": list(spec["hosts"]),
                    "tls": {"mode": "SIMPLE", "credentialName": spec["tls_secret"]},
                }],
            },
        }

    route = _route_args(name, namespace, frontend, routing, api_version, spec.get("hosts"), lane, managed_refs)
    selectors = [{"api_version": ROLLOUT_API, "kind": "Rollout", "name": name}]
    if routing == "services":
        selectors += [{"api_version": "v1", "kind": "Service", "name": name + "-stable"},
                      {"api_version": "v1", "kind": "Service", "name": name + "-canary"}]
    else:
        selectors.append({"api_version": "v1", "kind": "Service", "name": name})
    selectors.append({"api_version": "networking.istio.io/" + api_version, "kind": "VirtualService", "name": name})
    if routing == "subsets":
        selectors.append({"api_version": "networking.istio.io/" + api_version, "kind": "DestinationRule",
                          "name": name})
    if frontend:
        selectors.append({"api_version": "networking.istio.io/" + api_version, "kind": "Gateway",
                          "name": name + "-gateway"})
    elif routing == "services":
        selectors.append({"api_version": "v1", "kind": "Service", "name": name})
    propagation = {"name": name, "namespace": namespace, "resource_selectors": selectors,
                   "weights": dict(weights), "hold_image": {"container": container}}
    if settings.get("waves"):
        propagation["waves"] = dict(settings["waves"])

    rollout["metadata"]["annotations"][ONBOARDED] = onboarding_digest(
        rollout, container, services, gateway, route, propagation)
    objects = services + ([gateway] if gateway else []) + [rollout]
    return {
        "app": name,
        "namespace": namespace,
        "tier": tier,
        "routing": routing,
        "container": container,
        "image": image,
        "replicas": replicas,
        "services": services,
        "gateway": gateway,
        "rollout": rollout,
        "objects": objects,
        "route": route,
        "propagation": propagation,
        "managed_routes": [r["name"] for r in managed_refs],
        # Karmada names a namespaced object's ResourceBinding NAME-KIND (lower case)
        "binding_names": [s["metadata"]["name"] + "-service" for s in services],
    }


def onboarding_digest(rollout, container, services, gateway, route, propagation):
    """A digest of everything onboarding writes for an app, the released image left out.

    Recorded on the Rollout template by onboarding (annotation ``multicluster.canary/onboarded``): a
    release that finds the template's equal to the catalogue's knows the Services, routes and placement
    are as the catalogue says (a change to any of them, or to the members, changes it).
    """
    rollout = copy.deepcopy(rollout)
    rollout["metadata"].get("annotations", {}).pop(ONBOARDED, None)
    for c in rollout["spec"]["template"]["spec"].get("containers") or []:
        if c.get("name") == container:
            c["image"] = ""
    text = json.dumps([rollout, services, gateway, route, propagation], sort_keys=True, separators=(",", ":"),
                      default=str)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def _rollout(name, namespace, replicas, template, workload, routing, lane, managed_refs, steps):
    """The Rollout: the user's (or an empty) one, with what the collection owns set on it."""
    metadata = {"name": name, "namespace": namespace}
    spec = {}
    strategy = {}
    if workload is not None:
        meta = workload.get("metadata") or {}
        for key in ("labels", "annotations"):
            if meta.get(key):
                metadata[key] = copy.deepcopy(meta[key])
        if workload["kind"] == "Rollout":
            spec = dict((k, copy.deepcopy(v)) for k, v in workload["spec"].items() if k not in OWNED_ROLLOUT_SPEC)
            strategy = copy.deepcopy((workload["spec"].get("strategy") or {}).get("canary") or {})
        else:
            spec = dict((k, copy.deepcopy(workload["spec"][k])) for k in DEPLOYMENT_KEPT_SPEC
                        if k in workload["spec"])
    metadata.setdefault("labels", {})["app"] = name
    metadata.setdefault("annotations", {})[APP_ANNOTATION] = name
    if spec.get("minReadySeconds") == 0:
        del spec["minReadySeconds"]  # omitempty in Argo's types, like the pod template's zeros
    spec["replicas"] = replicas
    spec.setdefault("revisionHistoryLimit", REVISION_HISTORY_LIMIT)
    spec["selector"] = {"matchLabels": {"app": name}}
    spec["template"] = template
    for key in OWNED_CANARY:
        strategy.pop(key, None)
    if routing == "services":
        strategy["stableService"] = name + "-stable"
        strategy["canaryService"] = name + "-canary"
    # Canary pods carry the lane label, so the VirtualServices of the services they call send
    # them to the canaries (the source lane).
    canary_metadata = strategy.setdefault("canaryMetadata", {})
    labels = dict(canary_metadata.get("labels") or {})
    labels.update(lane.get("source_labels") or {})
    canary_metadata["labels"] = labels
    istio = {"virtualService": {"name": name, "routes": [PRIMARY_ROUTE]}}
    if routing == "subsets":
        istio["destinationRule"] = {"name": name, "canarySubsetName": CANARY_SUBSET,
                                    "stableSubsetName": STABLE_SUBSET}
    strategy["trafficRouting"] = {"istio": istio}
    if managed_refs:
        strategy["trafficRouting"]["managedRoutes"] = copy.deepcopy(managed_refs)
    strategy["steps"] = copy.deepcopy(steps)
    spec["strategy"] = {"canary": strategy}
    return {"apiVersion": ROLLOUT_API, "kind": "Rollout", "metadata": metadata, "spec": spec}


def _route_args(name, namespace, frontend, routing, api_version, hosts, lane, managed_refs):
    """The arguments of multicluster.canary.istio_canary_route for the app (it merges with the live route)."""
    if routing == "services":
        stable, canary = {"host": name + "-stable"}, {"host": name + "-canary"}
    else:
        stable = {"host": name, "subset": STABLE_SUBSET}
        canary = {"host": name, "subset": CANARY_SUBSET}
    args = {
        "name": name,
        "namespace": namespace,
        "api_version": api_version,
        "gateways": [name + "-gateway"] if frontend else ["mesh"],
        "hosts": list(hosts) if frontend else [name],
        "stable": stable,
        "canary": canary,
        "managed_routes": [r["name"] for r in managed_refs],
        "labels": {"app": name},
    }
    if not frontend:
        args["lanes"] = [{"name": LANE_ROUTE, "headers": {lane["header"]: {"exact": lane["value"]}},
                          "source_labels": dict(lane.get("source_labels") or {})}]
    if routing == "subsets":
        # Argo Rollouts adds the pod-template hash to each subset's labels; the module keeps it.
        args["destination_rule"] = {"name": name, "subsets": [
            {"name": STABLE_SUBSET, "labels": {"app": name}},
            {"name": CANARY_SUBSET, "labels": {"app": name}},
        ]}
    return args


def check_catalogue(apps, settings=None, prefix=PREFIX):
    """Every problem of every app of a catalogue (whose manifests are already loaded), as a list of messages."""
    if not isinstance(apps, dict):
        return ["{0}: the catalogue is a mapping of app name to app, got {1}".format(prefix, type(apps).__name__)]
    errors = []
    for name in sorted(apps, key=str):
        try:
            render_app(name, apps[name], settings, prefix)
        except CatalogueError as exc:
            errors.extend(exc.errors)
    return errors
