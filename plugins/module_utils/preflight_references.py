# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""References between objects: does every name an object uses exist where that object will run?

Pure code. Each object of the manifests is checked in every member Karmada places it on (or in
Karmada, when no policy places it), against what will be there after the write (:class:`World`):

- VirtualService: ``{http,tcp,tls}[].route[].destination.host`` (and ``http[].mirror``) -> a Service
  (short name, ``name.namespace``, ``.svc`` or ``.svc.cluster.local``; other hosts are outside the
  cluster and not checked), its ``port.number``, its ``subset`` -> a DestinationRule subset for that
  host; ``gateways`` -> an Istio Gateway;
- Gateway: ``servers[].tls.credentialName`` -> a Secret in the namespace the ingress gateway reads
  (``istio-system`` by default), of a type Istio reads;
- Rollout: ``stableService``/``canaryService`` (and blueGreen's services) -> Services whose selectors
  select the Rollout's pods (what Argo Rollouts validates); ``trafficRouting.istio.virtualService(s)``
  -> the VirtualService, its named http ``routes`` holding the stable and canary destinations;
  ``destinationRule`` -> its subsets; ``managedRoutes`` -> the steps' route names;
- HTTPRoute: ``rules[].backendRefs[]`` -> Services and their ports.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.multicluster.canary.plugins.module_utils.preflight_model import (
    ERROR,
    KARMADA,
    WARNING,
    close_names,
    could_not_check,
    describe,
    finding,
    is_unknown,
    okey,
)

CHECK = "references"
ISTIO = "networking.istio.io"
GATEWAY_API = "gateway.networking.k8s.io"
ARGO = "argoproj.io"
HASH_LABEL = "rollouts-pod-template-hash"
TLS_TYPES = ("kubernetes.io/tls", "Opaque", "istio.io/generic", "")
STRATEGY = "spec.strategy.canary"


# --- names ---------------------------------------------------------------------------------


def service_of_host(host, namespace):
    """``(namespace, name)`` of the Service an Istio host names, or None for a host outside the cluster."""
    if not host or "*" in host:
        return None
    parts = host.split(".")
    if len(parts) == 1:
        return namespace, host
    if len(parts) == 2:
        return parts[1], parts[0]
    if len(parts) == 3 and parts[2] == "svc":
        return parts[1], parts[0]
    if len(parts) == 5 and parts[2:] == ["svc", "cluster", "local"]:
        return parts[1], parts[0]
    return None


def fqdn(host, namespace):
    svc = service_of_host(host, namespace)
    if svc is None:
        return host
    return "{0}.{1}.svc.cluster.local".format(svc[1], svc[0])


def gateway_ref(ref, namespace):
    """``(namespace, name)`` of a VirtualService's gateway reference, or None for ``mesh``."""
    if not ref or ref == "mesh":
        return None
    if "/" in ref:
        ns, name = ref.split("/", 1)
        return ns, name
    parts = ref.split(".")
    if len(parts) == 5 and parts[2:] == ["svc", "cluster", "local"]:  # the older NAME.NAMESPACE.svc.cluster.local
        return parts[1], parts[0]
    return namespace, ref


def rollout_ref(ref, namespace):
    """``(namespace, name)`` of a Rollout's VirtualService or DestinationRule reference (Argo's ``name.namespace``)."""
    ref = ref[:-len(".cluster.local")] if ref.endswith(".cluster.local") else ref
    parts = ref.split(".")
    if len(parts) >= 2:
        return parts[-1], ".".join(parts[:-1])
    return namespace, ref


def _short_host(host):
    """Argo Rollouts' reading of a destination host: the text before the first dot."""
    return (host or "").split(".", 1)[0]


# --- lookups -------------------------------------------------------------------------------


class Checker(object):
    """The references of one manifest object in one cluster (a member, or Karmada when nothing places it)."""

    def __init__(self, world, cluster, manifest, options):
        self.world = world
        self.cluster = cluster
        self.m = manifest
        self.options = options or {}
        self.findings = []

    def where(self, namespace):
        return "{0} ({1})".format(self.cluster, namespace) if self.cluster != KARMADA else \
            "Karmada ({0})".format(namespace)

    def add(self, severity, field, message, fix):
        self.findings.append(finding(severity, CHECK, self.cluster, self.m.label, field, message, fix, self.m.source))

    def need(self, field, group, kind, namespace, name, about, fix):
        """The object, or None after a finding saying it is missing (or could not be read)."""
        found = self.world.lookup(self.cluster, group, kind, namespace, name)
        if is_unknown(found):
            self.findings.append(could_not_check(CHECK, self.cluster, self.m.label, field, found,
                                                 "{0} {1}".format(kind, describe("", namespace, name)), self.m.source))
            return None
        if found:
            return found
        if self.cluster == KARMADA:
            there = "there is no {0} {1} in namespace {2}, in the manifests or in Karmada".format(kind, name, namespace)
        else:
            template = self.world.template(group, kind, namespace, name)
            if isinstance(template, dict) and not is_unknown(template):
                written = self.world.manifest(okey(group, kind, namespace, name)) is not None
                there = ("{0} {1} {2} Karmada, but no PropagationPolicy places it on {3}".format(
                    kind, describe("", namespace, name), "goes to" if written else "is in", self.cluster))
            else:
                there = "there is no {0} {1} in namespace {2} of {3}, and the manifests do not write one".format(
                    kind, name, namespace, self.cluster)
        similar = close_names(name, self.world.names(group, kind, namespace))
        hint = "; did you mean {0}?".format(" or ".join(similar)) if similar else ""
        self.add(ERROR, field, "{0}: {1}".format(about, there), fix + hint)
        return None

    def listing(self, field, group, kind, namespace, about):
        found = self.world.listing(self.cluster, group, kind, namespace)
        if is_unknown(found):
            self.findings.append(could_not_check(CHECK, self.cluster, self.m.label, field, found, about,
                                                 self.m.source))
            return None
        return found


# --- VirtualService ------------------------------------------------------------------------


def _subset_finding(c, field, host, subset, namespaces):
    want = fqdn(host, c.m.namespace)
    seen = []
    for ns in namespaces:
        rules = c.listing(field, ISTIO, "DestinationRule", ns, "the DestinationRules in {0}".format(ns))
        if rules is None:
            return
        for dr in rules:
            dr_ns = (dr.get("metadata") or {}).get("namespace") or ns
            if fqdn((dr.get("spec") or {}).get("host"), dr_ns) != want:
                continue
            names = [s.get("name") for s in (dr.get("spec") or {}).get("subsets") or []]
            if subset in names:
                return
            seen.append("{0} (subsets: {1})".format((dr.get("metadata") or {}).get("name"), ", ".join(
                n for n in names if n) or "none"))
    if seen:
        message = "subset {0!r} of host {1} is not defined: DestinationRule {2}".format(subset, host, "; ".join(seen))
    else:
        message = "subset {0!r} of host {1}: no DestinationRule for that host in {2}".format(
            subset, host, c.where(", ".join(sorted(set(namespaces)))))
    c.add(ERROR, field, message + ": Istio answers 503 (no healthy upstream) for this route",
          "define subset {0} in a DestinationRule with host: {1} (written with the VirtualService)".format(
              subset, host))


def _check_destination(c, field, dest):
    host = dest.get("host")
    svc = service_of_host(host, c.m.namespace)
    if svc is None:
        return
    ns, name = svc
    service = c.need(field + ".host", "", "Service", ns, name, "destination host {0}".format(host),
                     "create Service {0} in {1} (and place it with the app's policy), or fix the host".format(
                         name, ns))
    port = (dest.get("port") or {}).get("number")
    if service and port is not None:
        ports = [p.get("port") for p in (service.get("spec") or {}).get("ports") or []]
        if port not in ports:
            c.add(ERROR, field + ".port.number",
                  "Service {0} has no port {1} (its ports: {2})".format(
                      describe("", ns, name), port, ", ".join(str(p) for p in ports) or "none"),
                  "route to one of the Service's ports")
    if dest.get("subset"):
        _subset_finding(c, field + ".subset", host, dest["subset"], sorted(set([c.m.namespace, ns])))


def check_virtual_service(c):
    spec = c.m.spec
    for kind in ("http", "tcp", "tls"):
        for i, route in enumerate(spec.get(kind) or []):
            for j, dest in enumerate(route.get("route") or []):
                _check_destination(c, "spec.{0}[{1}].route[{2}].destination".format(kind, i, j),
                                   dest.get("destination") or {})
            if kind == "http" and route.get("mirror"):
                _check_destination(c, "spec.http[{0}].mirror".format(i), route["mirror"])
    for k, ref in enumerate(spec.get("gateways") or []):
        parsed = gateway_ref(ref, c.m.namespace)
        if parsed is None:
            continue
        ns, name = parsed
        c.need("spec.gateways[{0}]".format(k), ISTIO, "Gateway", ns, name, "gateway {0}".format(ref),
               "create Gateway {0} in {1} (and place it with the app's policy), or fix the reference".format(name, ns))


# --- Gateway -------------------------------------------------------------------------------


def check_gateway(c):
    gateway_ns = c.options.get("gateway_namespace") or "istio-system"
    servers = [(i, s) for i, s in enumerate(c.m.spec.get("servers") or []) if (s.get("tls") or {}).get("credentialName")]
    if not servers:
        return
    field = "spec.servers[{0}].tls.credentialName".format(servers[0][0])
    secrets = c.listing(field, "", "Secret", gateway_ns, "the TLS Secrets in {0}".format(gateway_ns))
    if secrets is None:
        return
    by_name = dict(((s.get("metadata") or {}).get("name"), s) for s in secrets)
    for i, server in servers:
        credential = server["tls"]["credentialName"]
        field = "spec.servers[{0}].tls.credentialName".format(i)
        hosts = ", ".join(server.get("hosts") or []) or "its hosts"
        secret = by_name.get(credential)
        if secret is None:
            similar = close_names(credential, by_name)
            c.add(ERROR, field, "TLS secret {0} (HTTPS for {1}): there is no Secret {0} in {2}{3}, where the "
                  "ingress gateway reads it: HTTPS to those hosts fails{4}".format(
                      credential, hosts, gateway_ns, "" if c.cluster == KARMADA else " of " + c.cluster,
                      " (Secrets there: {0})".format(", ".join(sorted(by_name)))
                      if by_name and len(by_name) <= 5 and not similar else ""),
                  "create the TLS Secret {0} in {1} of every member the Gateway reaches (bootstrap.yml writes "
                  "multicluster_canary_tls_secrets there), or name the Secret that exists{2}".format(
                      credential, gateway_ns, "; did you mean {0}?".format(" or ".join(similar)) if similar else ""))
        elif (secret.get("type") or "") not in TLS_TYPES:
            c.add(ERROR, field, "Secret {0} in {1} is of type {2}, which the ingress gateway does not read as a "
                  "certificate".format(credential, gateway_ns, secret.get("type")),
                  "create it with kubectl create secret tls (type kubernetes.io/tls)")


# --- Rollout -------------------------------------------------------------------------------


def _check_rollout_service(c, field, name, pod_labels):
    service = c.need(field, "", "Service", c.m.namespace, name, "Service {0}".format(name),
                     "create Service {0} in {1} with the Rollout's pod labels as its selector".format(
                         name, c.m.namespace))
    if not service:
        return
    selector = (service.get("spec") or {}).get("selector") or {}
    wrong = sorted("{0}={1}".format(k, v) for k, v in selector.items()
                   if k != HASH_LABEL and pod_labels.get(k) != v)
    if wrong:
        c.add(ERROR, field, "Service {0} selects {1}, which the Rollout's pods do not carry (their labels: {2}): "
              "Argo Rollouts marks the Rollout InvalidSpec".format(
                  name, ", ".join(wrong), ", ".join("{0}={1}".format(k, v) for k, v in sorted(pod_labels.items()))
                  or "none"),
              "make the Service's selector a subset of spec.template.metadata.labels")


def _route_destinations(vs, route_names, kind="http"):
    http = (vs.get("spec") or {}).get(kind) or []
    return [r for r in http if r.get("name") in route_names]


def _check_rollout_virtual_service(c, field, ref, canary, managed):
    ns, name = rollout_ref(ref.get("name") or "", c.m.namespace)
    vs = c.need(field + ".name", ISTIO, "VirtualService", ns, name, "VirtualService {0}".format(ref.get("name")),
                "write VirtualService {0} in {1} with the Rollout, or fix the name".format(name, ns))
    if not vs:
        return
    http = (vs.get("spec") or {}).get("http") or []
    names = [r.get("name") for r in http]
    routes = ref.get("routes") or []
    checked = []
    for k, route in enumerate(routes):
        if route not in names:
            c.add(ERROR, "{0}.routes[{1}]".format(field, k),
                  "VirtualService {0} has no http route named {1!r} (its routes: {2}): Argo Rollouts marks the "
                  "Rollout InvalidSpec".format(name, route, ", ".join(repr(n) for n in names if n) or "none named"),
                  "name the VirtualService's route {0}, or list one of its names here".format(route))
        else:
            checked.append(http[names.index(route)])
    if not routes and not ref.get("tlsRoutes") and not ref.get("tcpRoutes"):
        unmanaged = [r for r in http if r.get("name") not in managed]
        if len(unmanaged) > 1:
            c.add(ERROR, field + ".routes",
                  "no routes given, and VirtualService {0} has {1} http routes: Argo Rollouts needs exactly one, or "
                  "the routes it sets the weights on".format(name, len(unmanaged)),
                  "list the route's name under routes")
        elif unmanaged:
            checked.append(unmanaged[0])
    stable, canary_svc = canary.get("stableService"), canary.get("canaryService")
    rule = (((canary.get("trafficRouting") or {}).get("istio") or {}).get("destinationRule")) or None
    for route in checked:
        dests = [d.get("destination") or {} for d in route.get("route") or []]
        label = repr(route.get("name")) if route.get("name") else "(unnamed)"
        if rule:
            subsets = [d.get("subset") for d in dests]
            for key in ("stableSubsetName", "canarySubsetName"):
                if rule.get(key) and rule[key] not in subsets:
                    c.add(ERROR, field, "route {0} of VirtualService {1} has no destination with subset {2!r} "
                          "({3}): Argo Rollouts marks the Rollout InvalidSpec".format(label, name, rule[key], key),
                          "give the route a destination with subset: {0}".format(rule[key]))
        else:
            hosts = [_short_host(d.get("host")) for d in dests]
            for key, svc in (("stableService", stable), ("canaryService", canary_svc)):
                if svc and svc not in hosts:
                    c.add(ERROR, field, "route {0} of VirtualService {1} has no destination with host {2} ({3}): "
                          "Argo Rollouts marks the Rollout InvalidSpec".format(label, name, svc, key),
                          "give the route a destination with host: {0} (weight 0 for the canary)".format(svc))


def _check_destination_rule(c, rule):
    field = STRATEGY + ".trafficRouting.istio.destinationRule"
    ns, name = rollout_ref(rule.get("name") or "", c.m.namespace)
    dr = c.need(field + ".name", ISTIO, "DestinationRule", ns, name, "DestinationRule {0}".format(rule.get("name")),
                "write DestinationRule {0} in {1} with the Rollout, or fix the name".format(name, ns))
    if not dr:
        return
    subsets = [s.get("name") for s in (dr.get("spec") or {}).get("subsets") or []]
    for key in ("canarySubsetName", "stableSubsetName"):
        if rule.get(key) and rule[key] not in subsets:
            c.add(ERROR, "{0}.{1}".format(field, key),
                  "DestinationRule {0} has no subset {1!r} (its subsets: {2})".format(
                      name, rule[key], ", ".join(s for s in subsets if s) or "none"),
                  "add subset {0} to the DestinationRule (Argo sets its pod-template-hash label)".format(rule[key]))


def check_rollout(c):
    spec = c.m.spec
    pod_labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
    strategy = spec.get("strategy") or {}
    canary = strategy.get("canary") or {}
    blue_green = strategy.get("blueGreen") or {}
    for key in ("stableService", "canaryService"):
        if canary.get(key):
            _check_rollout_service(c, "{0}.{1}".format(STRATEGY, key), canary[key], pod_labels)
    for key in ("activeService", "previewService"):
        if blue_green.get(key):
            _check_rollout_service(c, "spec.strategy.blueGreen.{0}".format(key), blue_green[key], pod_labels)
    routing = canary.get("trafficRouting") or {}
    managed = [r.get("name") for r in routing.get("managedRoutes") or [] if r.get("name")]
    istio = routing.get("istio") or {}
    if istio.get("virtualService"):
        _check_rollout_virtual_service(c, STRATEGY + ".trafficRouting.istio.virtualService",
                                       istio["virtualService"], canary, managed)
    for k, ref in enumerate(istio.get("virtualServices") or []):
        _check_rollout_virtual_service(c, "{0}.trafficRouting.istio.virtualServices[{1}]".format(STRATEGY, k),
                                       ref, canary, managed)
    if istio.get("destinationRule"):
        _check_destination_rule(c, istio["destinationRule"])


def unused_managed_routes(manifest):
    """A warning per ``managedRoutes`` entry no step sets (found once, in the manifests, not per cluster)."""
    canary = (manifest.spec.get("strategy") or {}).get("canary") or {}
    routing = canary.get("trafficRouting") or {}
    used = set()
    for step in canary.get("steps") or []:
        for kind in ("setHeaderRoute", "setMirrorRoute"):
            if (step.get(kind) or {}).get("name"):
                used.add(step[kind]["name"])
    out = []
    for i, route in enumerate(routing.get("managedRoutes") or []):
        if route.get("name") and route["name"] not in used:
            out.append(finding(WARNING, CHECK, "manifests", manifest.label,
                               "{0}.trafficRouting.managedRoutes[{1}].name".format(STRATEGY, i),
                               "managed route {0!r} is set by no setHeaderRoute or setMirrorRoute step".format(
                                   route["name"]),
                               "drop it, or fix the name of the step that should set it", manifest.source))
    return out


# --- HTTPRoute -----------------------------------------------------------------------------


def check_http_route(c):
    for i, rule in enumerate(c.m.spec.get("rules") or []):
        for j, ref in enumerate(rule.get("backendRefs") or []):
            if (ref.get("group") or "") != "" or (ref.get("kind") or "Service") != "Service":
                continue
            field = "spec.rules[{0}].backendRefs[{1}]".format(i, j)
            ns = ref.get("namespace") or c.m.namespace
            service = c.need(field + ".name", "", "Service", ns, ref.get("name"),
                             "backend {0}".format(ref.get("name")),
                             "create Service {0} in {1} (and place it with the app's policy), or fix the "
                             "name".format(ref.get("name"), ns))
            if service and ref.get("port") is not None:
                ports = [p.get("port") for p in (service.get("spec") or {}).get("ports") or []]
                if ref["port"] not in ports:
                    c.add(ERROR, field + ".port", "Service {0} has no port {1} (its ports: {2})".format(
                        ref.get("name"), ref["port"], ", ".join(str(p) for p in ports) or "none"),
                        "use one of the Service's ports")


CHECKS = {
    (ISTIO, "VirtualService"): check_virtual_service,
    (ISTIO, "Gateway"): check_gateway,
    (ARGO, "Rollout"): check_rollout,
    (GATEWAY_API, "HTTPRoute"): check_http_route,
}


def check(world, manifests, members, options):
    """Every reference finding: each object in each member it is placed on (in scope), or in Karmada."""
    out = []
    for m in manifests:
        fn = CHECKS.get((m.group, m.kind))
        if m.group == ARGO and m.kind == "Rollout":
            out += unused_managed_routes(m)
        if fn is None:
            continue
        placed = world.placed(m.key)
        clusters = sorted(placed & set(members)) if placed else [KARMADA]
        for cluster in clusters:
            c = Checker(world, cluster, m, options)
            fn(c)
            out += c.findings
    return out


def reads(manifests, options):
    """What the reference checks look up, in Karmada and in every member.

    ``{"get": set((group, kind, namespace, name)), "list": set((group, kind, namespace))}``; Secrets are
    listed for their names and types only (never their data).
    """
    gets, lists = set(), set()
    gateway_ns = (options or {}).get("gateway_namespace") or "istio-system"
    for m in manifests:
        spec = m.spec
        if (m.group, m.kind) == (ISTIO, "VirtualService"):
            for kind in ("http", "tcp", "tls"):
                for route in spec.get(kind) or []:
                    dests = [d.get("destination") or {} for d in route.get("route") or []]
                    if kind == "http" and route.get("mirror"):
                        dests.append(route["mirror"])
                    for d in dests:
                        svc = service_of_host(d.get("host"), m.namespace)
                        if svc:
                            gets.add(("", "Service", svc[0], svc[1]))
                            if d.get("subset"):
                                lists.add((ISTIO, "DestinationRule", m.namespace))
                                lists.add((ISTIO, "DestinationRule", svc[0]))
            for ref in spec.get("gateways") or []:
                parsed = gateway_ref(ref, m.namespace)
                if parsed:
                    gets.add((ISTIO, "Gateway", parsed[0], parsed[1]))
        elif (m.group, m.kind) == (ISTIO, "Gateway"):
            for server in spec.get("servers") or []:
                if (server.get("tls") or {}).get("credentialName"):
                    lists.add(("", "Secret", gateway_ns))  # names and types only (a server-side Table)
        elif (m.group, m.kind) == (ARGO, "Rollout"):
            strategy = spec.get("strategy") or {}
            canary = strategy.get("canary") or {}
            for key in ("stableService", "canaryService"):
                if canary.get(key):
                    gets.add(("", "Service", m.namespace, canary[key]))
            for key in ("activeService", "previewService"):
                if (strategy.get("blueGreen") or {}).get(key):
                    gets.add(("", "Service", m.namespace, strategy["blueGreen"][key]))
            istio = (canary.get("trafficRouting") or {}).get("istio") or {}
            refs = ([istio["virtualService"]] if istio.get("virtualService") else []) + list(
                istio.get("virtualServices") or [])
            for ref in refs:
                ns, name = rollout_ref(ref.get("name") or "", m.namespace)
                gets.add((ISTIO, "VirtualService", ns, name))
            if istio.get("destinationRule"):
                ns, name = rollout_ref(istio["destinationRule"].get("name") or "", m.namespace)
                gets.add((ISTIO, "DestinationRule", ns, name))
        elif (m.group, m.kind) == (GATEWAY_API, "HTTPRoute"):
            for rule in spec.get("rules") or []:
                for ref in rule.get("backendRefs") or []:
                    if (ref.get("group") or "") == "" and (ref.get("kind") or "Service") == "Service" and \
                            ref.get("name"):
                        gets.add(("", "Service", ref.get("namespace") or m.namespace, ref["name"]))
    return {"get": gets, "list": lists}
