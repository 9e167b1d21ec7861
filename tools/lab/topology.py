"""What runs in the lab: every process, its ports and its command line.

Cluster 0 is Karmada's control plane, clusters 1..N the members. Each cluster
gets a block of 100 ports from BASE_PORT so nothing collides with the
upstream defaults (8080, 10257, 10259, ...) or with another cluster. The
default base, 20000, keeps every port below the kernel's ephemeral range
(net.ipv4.ip_local_port_range, 32768-60999 by default): a port in that range
can be taken as the source port of any outgoing connection, which made a
component fail to bind now and then.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

BASE_PORT = int(os.environ.get("MCC_LAB_BASE_PORT", "20000"))
ETCD_CLIENT = BASE_PORT + 79
ETCD_PEER = BASE_PORT + 80
KARMADA = "karmada"
KARMADA_CONTEXT = "karmada-apiserver"
MEMBER_NAMES = ("k8s-master-beijing", "k8s-master-shanghai", "k8s-master-guangzhou", "k8s-master-shenzhen")


def member_names(count: int) -> list[str]:
    names = list(MEMBER_NAMES[:count])
    names += ["k8s-member-{0}".format(i) for i in range(len(names) + 1, count + 1)]
    return names


def stray_clusters(in_karmada, members) -> list:
    """The Clusters in Karmada (``in_karmada``: names) of lab members the lab no longer has (``members``: the
    members it runs now): those a larger lab joined. Clusters named otherwise (onboarded by hand) are not the
    lab's to remove."""
    def lab_name(n):
        number = n[len("k8s-member-"):] if n.startswith("k8s-member-") else ""
        # the lab numbers its members past the four named ones: k8s-member-5 on (k8s-member-1..4 are not its own)
        return n in MEMBER_NAMES or (number.isdigit() and int(number) > len(MEMBER_NAMES)
                                     and n == "k8s-member-{0}".format(int(number)))
    return sorted(n for n in in_karmada if n not in members and lab_name(n))


def port(cluster_index: int, offset: int) -> int:
    return BASE_PORT + 100 * (cluster_index + 1) + offset


@dataclass
class Component:
    cluster: str
    name: str
    argv: list
    env: dict = field(default_factory=dict)
    health: str | None = None  # URL polled with the admin cert until it answers 200; tcp://host:port to connect
    verify_tls: bool = True  # False for a server with an in-memory self-signed certificate (see _self_signed)
    # inotify instances the running process holds (one per certificate or CA file it watches; measured
    # with `ls -l /proc/PID/fd | grep -c inotify`): the user's limit, fs.inotify.max_user_instances, is 128 here.
    inotify: int = 0

    @property
    def id(self) -> str:
        return "{0}/{1}".format(self.cluster, self.name)


def apiserver_url(index: int) -> str:
    return "https://127.0.0.1:{0}".format(port(index, 43))


def _audit(lab, cluster: str) -> list:
    """Audit log flags when MCC_LAB_AUDIT_POLICY names a policy file (bench/ counts API requests
    with it); the log is <state>/<cluster>/audit.log. Off by default."""
    policy = os.environ.get("MCC_LAB_AUDIT_POLICY")
    if not policy:
        return []
    return ["--audit-policy-file=" + str(Path(policy).resolve()),
            "--audit-log-path=" + str(lab.state / cluster / "audit.log"), "--audit-log-maxbackup=2"]


def _apiserver(lab, index: int, cluster: str, extra=()) -> Component:
    p = lab.pki
    argv = [
        lab.binary("kube-apiserver"),
        "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
        "--secure-port={0}".format(port(index, 43)),
        "--etcd-servers=http://127.0.0.1:{0}".format(ETCD_CLIENT),
        "--etcd-prefix=/registry-{0}".format(cluster),
        "--tls-cert-file=" + p["serving_crt"], "--tls-private-key-file=" + p["serving_key"],
        "--client-ca-file=" + p["ca_crt"],
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        "--service-account-key-file=" + p["sa_pub"],
        "--service-account-signing-key-file=" + p["sa_key"],
        "--service-cluster-ip-range=10.{0}.0.0/16".format(96 + index),
        "--authorization-mode=Node,RBAC",
        "--allow-privileged=true",
        "--enable-priority-and-fairness=false",
        "--profiling=false",
        "--endpoint-reconciler-type=none",
        "--cert-dir=" + str(lab.state / cluster / "apiserver-certs"),
        *_audit(lab, cluster),
        *extra,
    ]
    # Watched files: the serving certificate, the client CA (twice); Karmada's adds the front proxy's
    # requestheader CA and client certificate.
    return Component(cluster, "kube-apiserver", argv, health=apiserver_url(index) + "/readyz",
                     inotify=6 if extra and any(a.startswith("--requestheader-") for a in extra) else 3)


def _self_signed(bind_port: int) -> list:
    """Serving flags for a controller whose HTTPS port only answers the lab's health checks.

    Without --tls-cert-file and --cert-dir, kube-controller-manager and kube-scheduler serve an
    in-memory self-signed certificate instead of watching the files with an inotify instance each:
    one instance less per process, which is what lets 16 members start within the 128 a user gets.
    """
    return ["--bind-address=127.0.0.1", "--secure-port={0}".format(bind_port)]


def _controller_manager(lab, index: int, cluster: str, controllers: str) -> Component:
    # No --cluster-signing-* files: the CSR signer watches them once per signer (4 inotify instances per
    # process), and nothing in the lab asks for a certificate (members join in push mode, there are no kubelets).
    kc = str(lab.admin_kubeconfig(cluster))
    return Component(cluster, "kube-controller-manager", [
        lab.binary("kube-controller-manager"),
        "--kubeconfig=" + kc, "--authentication-kubeconfig=" + kc, "--authorization-kubeconfig=" + kc,
        *_self_signed(port(index, 57)),
        "--leader-elect=false",
        "--controllers=" + controllers,
        "--service-account-private-key-file=" + lab.pki["sa_key"],
        "--root-ca-file=" + lab.pki["ca_crt"],
        "--use-service-account-credentials=false",
        "--concurrent-deployment-syncs=2", "--concurrent-replicaset-syncs=2",
    ], health="https://127.0.0.1:{0}/healthz".format(port(index, 57)), verify_tls=False, inotify=1)


def karmada_components(lab) -> list:
    p = lab.pki
    kc = str(lab.admin_kubeconfig(KARMADA))
    comps = [
        _apiserver(lab, 0, KARMADA, extra=[
            "--disable-admission-plugins=StorageObjectInUseProtection,ServiceAccount",
            "--proxy-client-cert-file=" + p["front_proxy_crt"],
            "--proxy-client-key-file=" + p["front_proxy_key"],
            "--requestheader-client-ca-file=" + p["ca_crt"],
            "--requestheader-allowed-names=front-proxy-client",
            "--requestheader-extra-headers-prefix=X-Remote-Extra-",
            "--requestheader-group-headers=X-Remote-Group",
            "--requestheader-username-headers=X-Remote-User",
        ]),
        _controller_manager(lab, 0, KARMADA,
                            "namespace,garbagecollector,serviceaccount-token,ttl-after-finished,"
                            "bootstrapsigner,tokencleaner,csrcleaner,clusterrole-aggregation"),
        Component(KARMADA, "karmada-aggregated-apiserver", [
            lab.binary("karmada-aggregated-apiserver"),
            "--kubeconfig=" + kc, "--authentication-kubeconfig=" + kc, "--authorization-kubeconfig=" + kc,
            "--etcd-servers=http://127.0.0.1:{0}".format(ETCD_CLIENT),
            "--etcd-prefix=/registry-karmada-aggregated",
            "--bind-address=127.0.0.1", "--secure-port={0}".format(port(0, 44)),
            "--tls-cert-file=" + p["serving_crt"], "--tls-private-key-file=" + p["serving_key"],
            "--audit-log-path=-", "--audit-log-maxage=0", "--audit-log-maxbackup=0",
        ], health="https://127.0.0.1:{0}/readyz".format(port(0, 44)), inotify=1),
        Component(KARMADA, "karmada-webhook", [
            lab.binary("karmada-webhook"),
            "--kubeconfig=" + kc,
            "--bind-address=127.0.0.1", "--secure-port={0}".format(port(0, 45)),
            "--cert-dir=" + str(lab.webhook_cert_dir()),
            "--metrics-bind-address=127.0.0.1:{0}".format(port(0, 46)),
            "--health-probe-bind-address=127.0.0.1:{0}".format(port(0, 47)),
            # It registers no health checks (/readyz answers 404): serving TLS on its port is the signal.
        ], health="tcp://127.0.0.1:{0}".format(port(0, 45)), inotify=1),  # exits if it gets none
        Component(KARMADA, "karmada-controller-manager", [
            lab.binary("karmada-controller-manager"),
            "--kubeconfig=" + kc,
            "--cluster-status-update-frequency=5s",
            "--controllers=*",
            "--leader-elect=false",
            "--metrics-bind-address=127.0.0.1:{0}".format(port(0, 48)),
            "--health-probe-bind-address=127.0.0.1:{0}".format(port(0, 49)),
        ], health="http://127.0.0.1:{0}/healthz".format(port(0, 49))),
        Component(KARMADA, "karmada-scheduler", [
            lab.binary("karmada-scheduler"),
            "--kubeconfig=" + kc,
            "--leader-elect=false",
            "--metrics-bind-address=127.0.0.1:{0}".format(port(0, 50)),
            "--health-probe-bind-address=127.0.0.1:{0}".format(port(0, 51)),
        ], health="http://127.0.0.1:{0}/healthz".format(port(0, 51))),
    ]
    return comps


def member_components(lab, index: int, name: str) -> list:
    kc = str(lab.admin_kubeconfig(name))
    # KWOK posts node status less often than the node lifecycle controller's grace period, so with
    # that controller on, nodes flap NotReady and their pods are marked NotReady for good. Without it,
    # nothing would lift the not-ready taint TaintNodesByCondition puts on new nodes: drop both.
    return [
        _apiserver(lab, index, name, extra=["--disable-admission-plugins=TaintNodesByCondition"]),
        _controller_manager(lab, index, name,
                            "*,-nodeipam,-nodelifecycle,-cloud-node-lifecycle,-service-lb-controller,-route"),
        Component(name, "kube-scheduler", [
            lab.binary("kube-scheduler"),
            "--kubeconfig=" + kc, "--authentication-kubeconfig=" + kc, "--authorization-kubeconfig=" + kc,
            *_self_signed(port(index, 59)),
            "--leader-elect=false",
        ], health="https://127.0.0.1:{0}/healthz".format(port(index, 59)), verify_tls=False),
        Component(name, "kwok", [
            lab.binary("kwok"),
            "--kubeconfig=" + kc,
            "--config=" + str(lab.kwok_config()),
            "--manage-all-nodes=true",
            "--cidr=10.{0}.0.1/16".format(200 + index),
            # Only for its /healthz: without a health check, a KWOK that exits at start looked started.
            "--server-address=127.0.0.1:{0}".format(port(index, 92)),
        ], health="http://127.0.0.1:{0}/healthz".format(port(index, 92))),
        Component(name, "rollouts-controller", [
            lab.binary("rollouts-controller"),
            "--kubeconfig=" + kc,
            "--leader-elect=false",
            "--metricsport={0}".format(port(index, 90)),
            "--healthzPort={0}".format(port(index, 91)),
            "--istio-api-version=v1beta1",
            "--loglevel=info",
        ], env={"POD_NAMESPACE": "argo-rollouts"},
            health="http://127.0.0.1:{0}/healthz".format(port(index, 91))),
    ]


def etcd_component(lab) -> Component:
    return Component("etcd", "etcd", [
        lab.binary("etcd"),
        "--name=lab", "--data-dir=" + str(lab.state / "etcd"),
        "--listen-client-urls=http://127.0.0.1:{0}".format(ETCD_CLIENT),
        "--advertise-client-urls=http://127.0.0.1:{0}".format(ETCD_CLIENT),
        "--listen-peer-urls=http://127.0.0.1:{0}".format(ETCD_PEER),
        "--initial-advertise-peer-urls=http://127.0.0.1:{0}".format(ETCD_PEER),
        "--initial-cluster=lab=http://127.0.0.1:{0}".format(ETCD_PEER),
        "--listen-metrics-urls=http://127.0.0.1:{0}".format(BASE_PORT + 81),
        "--quota-backend-bytes=4294967296",
        "--unsafe-no-fsync=true",
        "--log-level=warn",
    ], health="http://127.0.0.1:{0}/health".format(ETCD_CLIENT))


def all_components(lab) -> list:
    comps = [etcd_component(lab), *karmada_components(lab)]
    for i, name in enumerate(lab.members, start=1):
        comps += member_components(lab, i, name)
    return comps


def ensure_dirs(lab) -> None:
    for d in (lab.state, lab.state / "logs", lab.state / "pids"):
        Path(d).mkdir(parents=True, exist_ok=True)
