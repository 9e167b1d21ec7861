"""Bring the local federation up and down, supervise its processes, report its state."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

from tools.lab import build, pki, topology
from tools.lab.topology import KARMADA, KARMADA_CONTEXT

ROOT = Path(__file__).resolve().parents[2]
# The automation identity (docs/rbac.md): a ServiceAccount in Karmada with a long-lived token,
# bound to the collection's own RBAC files, as users run the collection.
RBAC_DIR = ROOT / "docs" / "rbac"
AUTOMATION_NAMESPACE = "karmada-system"
AUTOMATION_TOKEN_SECRET = "multicluster-canary-token"
INOTIFY_LIMIT = Path("/proc/sys/fs/inotify/max_user_instances")


def log(msg: str) -> None:
    print("[lab {0}] {1}".format(time.strftime("%H:%M:%S"), msg), flush=True)


class LabError(RuntimeError):
    pass


# How the lab applies its own manifests. --validate=false: no client-side validation, which first downloads
# the API server's whole OpenAPI document (a member with the Argo, Istio and Gateway CRDs: megabytes of JSON,
# seconds of API server CPU); at 16 members on 2 cores that download timed out. The API server still checks
# every object against its schema (an unknown field is dropped instead of refused).
APPLY = ("apply", "--server-side", "--force-conflicts", "--validate=false")

# The Istio CRDs the lab installs, in Karmada and every member: the kinds the collection writes and reads.
# istio.io/api ships 14; the 11 others (security, telemetry, extensions, ServiceEntry, Sidecar, ...) held about
# 100 MB of each API server's live heap (its OpenAPI models and watch caches) for kinds nothing in the lab uses.
ISTIO_CRDS = ("destinationrules.networking.istio.io", "gateways.networking.istio.io",
              "virtualservices.networking.istio.io")
# The Gateway API's standard channel, less the route kinds nothing in the lab uses (GRPCRoute, TLSRoute,
# ListenerSet, BackendTLSPolicy); its ValidatingAdmissionPolicy too. Argo Rollouts' five CRDs all stay: its
# controller watches every one of them.
GATEWAY_UNUSED = ("grpcroutes", "tlsroutes", "listenersets", "backendtlspolicies")
# Kinds that must be served (Argo Rollouts' controller watches its analysis and experiment kinds; the route
# modules and the RBAC name the Gateway API's) but that no lab app or test writes: installed without their
# validation schema (any object is accepted), which an API server otherwise keeps compiled for every version
# (measured: 42 MiB less RSS per member API server for Argo's four alone). Rollouts and Istio's kinds keep theirs.
SCHEMALESS_CRDS = ("analysisruns.argoproj.io", "analysistemplates.argoproj.io",
                   "clusteranalysistemplates.argoproj.io", "experiments.argoproj.io",
                   "gatewayclasses.gateway.networking.k8s.io", "gateways.gateway.networking.k8s.io",
                   "httproutes.gateway.networking.k8s.io", "referencegrants.gateway.networking.k8s.io")
ANY_OBJECT = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
# Go's garbage collector target for every lab process (Go's default is 100: the heap grows to twice what is live
# before a collection). At 50 a 16-member lab held 11.3 GiB after the bench instead of 12.8, and came up in 70 s
# against 68. GOGC in the environment wins (GOGC=100 for Go's default); GOMEMLIMIT was measured too: it kept the API
# servers collecting all the time (their start-up CPU nearly doubled).
LAB_GOGC = "50"

# The profile whose versions every lab ran before versions.json had profiles (its data has no profile.json).
UNRECORDED_PROFILE = "min"


class Lab:
    def __init__(self, state: Path | None = None, members: int | None = None, join: int | None = None,
                 profile: str | None = None):
        self.state = Path(state or os.environ.get("MCC_LAB_DIR") or ROOT / ".lab").resolve()
        saved = self._saved()
        count = members or saved.get("member_count") or 4
        self.members = topology.member_names(count)
        # Members past the first `join` run but are not joined to Karmada (a cluster to onboard).
        # Without --join, the saved number holds unless --members changed the lab's size.
        if join is None:
            join = saved.get("join_count", count) if members is None else count
        self.joined = self.members[:max(0, min(join, count))]
        self.profile = self._choose_profile(profile)
        self.versions = build.load_versions(self.profile)
        self.bindir = self.state / "bin"
        self._pki = None
        self._procs = {}  # processes started by this invocation: their exit status is known exactly
        self._kwok_written = False

    # ---- files -------------------------------------------------------------------------------
    def _saved(self) -> dict:
        f = self.state / "lab.json"
        return json.loads(f.read_text()) if f.exists() else {}

    @property
    def profile_file(self) -> Path:
        """The version profile the lab's etcd data was written with."""
        return self.state / "profile.json"

    def _data_profile(self) -> dict:
        f = self.profile_file
        if f.exists():
            return json.loads(f.read_text())
        if (self.state / "etcd").exists():
            # A lab started before versions.json had profiles ran the versions of the `min` profile.
            return {"profile": UNRECORDED_PROFILE, "versions": build.load_versions(UNRECORDED_PROFILE)}
        return {}

    def _choose_profile(self, requested: str | None) -> str:
        """The profile asked for; else the running lab's (so start/stop/status/up act on what runs); else the default."""
        if requested or os.environ.get(build.PROFILE_ENV):
            return build.profile_name(requested)
        data = self._data_profile()
        if data.get("profile") in build.load_profiles()["profiles"] and self.running_ids():
            return data["profile"]
        return build.profile_name()

    def running_ids(self) -> list:
        """Components with a live PID file, whatever the member count or profile they were started with."""
        pid_dir = self.state / "pids"
        ids = [f.name[:-4].replace("__", "/") for f in pid_dir.glob("*.pid")] if pid_dir.exists() else []
        return sorted(cid for cid in ids if self.pid(cid))

    def _settle_profile(self) -> None:
        """Data written by other versions is not reused: versions may only move forward on etcd and the
        API servers' storage, and a switch between profiles is a test of a fresh install."""
        data = self._data_profile()
        has_data = (self.state / "etcd").exists()
        if has_data and data.get("versions") != self.versions:
            what = "the {0} profile ({1})".format(data["profile"], _versions_text(data["versions"]))
            if self.running_ids() and data["profile"] == self.profile:
                raise LabError("the lab in {0} runs {1}, not the versions {2} now gives that profile; stop it "
                               "(`make lab-down`) first".format(self.state, what, build.VERSIONS_FILE.name))
            if self.running_ids():
                raise LabError("the lab in {0} runs {1}; stop it (`make lab-down`) before starting the {2} profile, "
                               "or ask for the running one ({3}={4})".format(
                                   self.state, what, self.profile, build.PROFILE_ENV, data["profile"]))
            log("the lab's etcd data was written by {0}: starting the {1} profile with fresh data".format(
                what, self.profile))
            shutil.rmtree(self.state / "etcd")
        text = json.dumps({"profile": self.profile, "versions": self.versions}, indent=2) + "\n"
        if not self.profile_file.exists() or self.profile_file.read_text() != text:
            self.profile_file.write_text(text)

    @property
    def pki(self) -> dict:
        if self._pki is None:
            self._pki = pki.ensure(self.state / "pki")
        return self._pki

    def binary(self, name: str) -> str:
        return str(self.bindir / name)

    @property
    def kubeconfig(self) -> Path:
        return self.state / "kubeconfig"

    @property
    def automation_kubeconfig(self) -> Path:
        return self.state / "kubeconfig-automation"

    def inventory(self) -> Path:
        """The Ansible inventory of the lab that was last brought up (lab.json), else inventories/lab."""
        try:
            return Path(json.loads((self.state / "lab.json").read_text())["inventory"])
        except (OSError, ValueError, KeyError):
            return LAB_INVENTORY

    def admin_kubeconfig(self, cluster: str) -> Path:
        return self.state / cluster / "admin.kubeconfig"

    def kwok_config(self) -> Path:
        """KWOK's configuration: the stages that make nodes Ready and pods Running/Ready/Completed/deleted.

        KWOK up to v0.7 used these stages when its configuration had none; v0.8 exits with "no stages found".
        They come from the KWOK module of the profile's version (what v0.7 built in)."""
        path = self.state / "kwok.yaml"
        if self._kwok_written:
            return path
        src = build.module_dir("sigs.k8s.io/kwok", self.versions["kwok"]) / "kustomize" / "stage"
        # No KwokConfiguration document: without one KWOK applies its defaults (v0.8 leaves the play-stage
        # parallelism of a given but empty one at 0 and exits).
        docs = []
        for name in ("node/fast/node-initialize.yaml", "node/heartbeat/node-heartbeat.yaml", "pod/fast/pod-ready.yaml",
                     "pod/fast/pod-complete.yaml", "pod/fast/pod-delete.yaml"):
            docs.append((src / name).read_text())
        text = "---\n".join(d if d.endswith("\n") else d + "\n" for d in docs)
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
        self._kwok_written = True
        return path

    def webhook_cert_dir(self) -> Path:
        d = self.state / KARMADA / "webhook-certs"
        d.mkdir(parents=True, exist_ok=True)
        for src, dst in (("serving_crt", "tls.crt"), ("serving_key", "tls.key")):
            target = d / dst
            data = Path(self.pki[src]).read_bytes()
            if not target.exists() or target.read_bytes() != data:
                target.write_bytes(data)
        return d

    def clusters(self) -> list:
        return [KARMADA, *self.members]

    def context(self, cluster: str) -> str:
        return KARMADA_CONTEXT if cluster == KARMADA else cluster

    def write_kubeconfigs(self) -> None:
        """One admin kubeconfig per cluster (for the components) and one with every context (for users)."""
        ca = Path(self.pki["ca_crt"]).read_text()
        import base64

        def b64(text):
            return base64.b64encode(text.encode()).decode()

        user = {"name": "lab-admin", "user": {
            "client-certificate-data": b64(Path(self.pki["admin_crt"]).read_text()),
            "client-key-data": b64(Path(self.pki["admin_key"]).read_text())}}
        entries = []
        for i, c in enumerate(self.clusters()):
            ctx = self.context(c)
            entries.append(({"name": ctx, "cluster": {"server": topology.apiserver_url(i),
                                                      "certificate-authority-data": b64(ca)}},
                            {"name": ctx, "context": {"cluster": ctx, "user": "lab-admin"}}))
            single = {"apiVersion": "v1", "kind": "Config", "clusters": [entries[-1][0]],
                      "contexts": [entries[-1][1]], "users": [user], "current-context": ctx}
            path = self.admin_kubeconfig(c)
            path.parent.mkdir(parents=True, exist_ok=True)
            _write_private(path, yaml.safe_dump(single))
        full = {"apiVersion": "v1", "kind": "Config", "clusters": [e[0] for e in entries],
                "contexts": [e[1] for e in entries], "users": [user], "current-context": KARMADA_CONTEXT}
        _write_private(self.kubeconfig, yaml.safe_dump(full))

    # ---- processes --------------------------------------------------------------------------
    def pidfile(self, comp_id: str) -> Path:
        return self.state / "pids" / (comp_id.replace("/", "__") + ".pid")

    def logfile(self, comp_id: str) -> Path:
        return self.state / "logs" / (comp_id.replace("/", "__") + ".log")

    def pid(self, comp_id: str):
        """The live PID of a component we started, or None (stale PID files are ignored)."""
        f = self.pidfile(comp_id)
        if not f.exists():
            return None
        try:
            pid = int(f.read_text().split()[0])
            os.kill(pid, 0)
        except (ValueError, ProcessLookupError, PermissionError):
            return None
        try:  # the PID may have been reused by an unrelated process
            cmdline = Path("/proc/{0}/cmdline".format(pid)).read_bytes().split(b"\0")[0].decode()
        except OSError:
            return None
        expected = f.read_text().split(maxsplit=1)[1].strip() if len(f.read_text().split()) > 1 else ""
        if expected and cmdline != expected:
            return None
        if Path("/proc/{0}/stat".format(pid)).read_text().split()[2] == "Z":
            return None
        return pid

    def start(self, comp) -> bool:
        if self.pid(comp.id):
            return False
        logf = open(self.logfile(comp.id), "ab")
        logf.write("\n==== start {0} ====\n{1}\n".format(time.ctime(), " ".join(comp.argv)).encode())
        logf.flush()
        env = process_env(os.environ, comp.env)
        proc = subprocess.Popen(comp.argv, stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=env, start_new_session=True, cwd=str(self.state))
        logf.close()
        self.pidfile(comp.id).write_text("{0} {1}\n".format(proc.pid, comp.argv[0]))
        self._procs[comp.id] = proc
        return True

    def exited(self, comp_id: str):
        """The exit status if the component is known to have stopped, else None."""
        proc = self._procs.get(comp_id)
        if proc is not None:
            return proc.poll()
        return None if self.pid(comp_id) else "unknown"

    def stop(self, comp_id: str, timeout: float = 15) -> bool:
        pid = self.pid(comp_id)
        if pid:
            _terminate([pid], timeout)
        self.pidfile(comp_id).unlink(missing_ok=True)
        return bool(pid)

    def healthy(self, comp) -> bool:
        if not comp.health:
            return self.pid(comp.id) is not None
        if comp.health.startswith("tcp://"):
            host, port = comp.health[len("tcp://"):].rsplit(":", 1)
            try:
                socket.create_connection((host, int(port)), timeout=2).close()
                return True
            except OSError:
                return False
        return _get(comp.health, self._ssl(comp.verify_tls)) == 200

    def _ssl(self, verify: bool = True):
        ctx = ssl.create_default_context(cafile=self.pki["ca_crt"])
        if not verify:  # a health probe on 127.0.0.1 of a server with an in-memory self-signed certificate
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        ctx.load_cert_chain(self.pki["admin_crt"], self.pki["admin_key"])
        return ctx

    def check_inotify(self, comps) -> None:
        """Fail before starting anything if the components not running yet would exceed the user's inotify
        instances: API servers then only log and retry, but karmada-webhook exits ("too many open files")."""
        try:
            limit = int(INOTIFY_LIMIT.read_text())
        except (OSError, ValueError):
            return
        needed = sum(c.inotify for c in comps if not self.pid(c.id))
        held = _inotify_instances_of_user()
        if held + needed > limit:
            raise LabError(inotify_advice(
                "this lab ({0} members) needs about {1} more inotify instances and this user's processes hold {2} "
                "of the {3} allowed".format(len(self.members), needed, held, limit), held + needed))

    def wait_healthy(self, comps, timeout: float = 120) -> None:
        pending = list(comps)
        deadline = time.monotonic() + timeout
        while pending and time.monotonic() < deadline:
            for comp in list(pending):
                status = self.exited(comp.id)
                if status is not None:
                    tail = _tail(self.logfile(comp.id))
                    hint = ""
                    if "too many open files" in tail:
                        hint = "\n" + inotify_advice("{0} ran out of inotify instances or file descriptors".format(
                            comp.id), _inotify_instances_of_user())
                    raise LabError("{0} exited ({1}); see {2}:\n{3}{4}".format(
                        comp.id, status, self.logfile(comp.id), tail, hint))
                if self.healthy(comp):
                    pending.remove(comp)
            if pending:
                time.sleep(0.3)
        if pending:
            raise LabError("not healthy after {0}s: {1}".format(timeout, ", ".join(c.id for c in pending)))

    # ---- kubectl ----------------------------------------------------------------------------
    def kubectl(self, cluster: str, *args, input=None, check=True, timeout=120):
        cmd = [self.binary("kubectl"), "--kubeconfig", str(self.kubeconfig), "--context", self.context(cluster), *args]
        proc = subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=timeout, check=False)
        if check and proc.returncode != 0:
            raise LabError("kubectl --context {0} {1}: {2}{3}".format(
                self.context(cluster), " ".join(args), proc.stdout, proc.stderr))
        return proc.stdout

    def apply_files(self, cluster: str, files) -> None:
        # One kubectl for all the files: with 16 members, a process per file was 240 kubectl start-ups.
        # It keeps the time a kubectl per file had: each CRD costs the API server seconds of CPU, and at
        # 12 members on 2 cores one member's 11 CRD files took longer than a single 120 s.
        files = list(files)
        args = [a for f in files for a in ("-f", str(f))]
        if args:
            self.kubectl(cluster, *APPLY, *args, timeout=120 * len(files))

    def apply_docs(self, cluster: str, docs) -> None:
        self.kubectl(cluster, *APPLY, "-f", "-", input=yaml.safe_dump_all(docs))

    # ---- up / down / status -----------------------------------------------------------------
    def components(self):
        return topology.all_components(self)

    def up(self) -> None:
        started = time.monotonic()
        topology.ensure_dirs(self)
        self._settle_profile()
        log("profile {0}: {1}".format(self.profile, _versions_text(self.versions)))
        paths = build.build(profile=self.profile)
        build.link_into(self.bindir, paths)
        crds = paths["crds"]
        self.write_kubeconfigs()
        comps = {c.id: c for c in self.components()}
        for cid in self.stray_ids():  # members of a larger lab before: --members shrinks it
            if self.stop(cid):
                log("stopped " + cid)
        self.check_inotify(comps.values())

        def start_all(ids):
            for cid in ids:
                if self.start(comps[cid]):
                    log("started " + cid)
            self.wait_healthy([comps[cid] for cid in ids])

        start_all(["etcd/etcd"])
        start_all([c + "/kube-apiserver" for c in self.clusters()])
        start_all([c + "/kube-controller-manager" for c in self.clusters()]
                  + [m + "/kube-scheduler" for m in self.members])

        # Karmada's own API objects, then its controllers.
        self.bootstrap_karmada(crds)
        start_all(["karmada/karmada-aggregated-apiserver", "karmada/karmada-webhook"])
        self.kubectl(KARMADA, "wait", "--for=condition=Available", "--timeout=90s",
                     "apiservice/v1alpha1.cluster.karmada.io")
        start_all(["karmada/karmada-controller-manager", "karmada/karmada-scheduler"])

        # Members: CRDs before the Argo Rollouts controller (it checks Istio CRDs only at start).
        with ThreadPoolExecutor(max_workers=len(self.members)) as pool:
            list(pool.map(lambda m: self.bootstrap_member(m, crds), self.members))
        start_all([m + "/kwok" for m in self.members] + [m + "/rollouts-controller" for m in self.members])

        self.remove_stray_clusters()
        if self.joined:
            with ThreadPoolExecutor(max_workers=len(self.joined)) as pool:
                list(pool.map(self.join, self.joined))
        self.wait_clusters_ready()
        self.ensure_automation_identity()
        self.write_info()
        log("up in {0:.0f}s; kubeconfig: {1}; inventory: {2}".format(time.monotonic() - started, self.kubeconfig,
                                                                     self.inventory()))

    def bootstrap_karmada(self, crds: Path) -> None:
        karmada_src = build.module_dir("github.com/karmada-io/karmada", self.versions["karmada"])
        ca_b64 = _b64file(self.pki["ca_crt"])
        self.kubectl(KARMADA, "create", "namespace", "karmada-system", check=False)
        self.kubectl(KARMADA, "create", "namespace", "karmada-cluster", check=False)
        self.apply_files(KARMADA, sorted((crds / "karmada").glob("*.yaml")))
        # Templates of these kinds live in Karmada, so it needs their CRDs too.
        self.apply_files(KARMADA, self.app_crds(crds))
        webhooks = (karmada_src / "artifacts/deploy/webhook-configuration.yaml").read_text()
        webhooks = webhooks.replace("{{caBundle}}", ca_b64).replace(
            "https://karmada-webhook.karmada-system.svc:443/",
            "https://127.0.0.1:{0}/".format(topology.port(0, 45)))
        self.kubectl(KARMADA, *APPLY, "-f", "-", input=webhooks)
        api_file = karmada_src / "artifacts/deploy/karmada-aggregated-apiserver-apiservice.yaml"
        api = list(yaml.safe_load_all(api_file.read_text().replace("{{caBundle}}", ca_b64)))
        for doc in api:
            if doc["kind"] == "APIService":
                doc["spec"]["service"]["port"] = topology.port(0, 44)
            if doc["kind"] == "Service":
                doc["spec"]["externalName"] = "localhost"
        self.apply_docs(KARMADA, api)
        self.apply_files(KARMADA, [karmada_src / "artifacts/deploy/cluster-proxy-admin-rbac.yaml"])

    def app_crds(self, crds: Path) -> list:
        """The CRD files of the kinds apps use: Argo Rollouts', ISTIO_CRDS, the Gateway API's but GATEWAY_UNUSED."""
        istio = self.state / "istio-crds-{0}.yaml".format(crds.name)  # one per set of versions (profile)
        if not istio.exists():
            docs = [d for d in _load_docs(crds / "istio" / "istio.yaml")
                    if d.get("metadata", {}).get("name") in ISTIO_CRDS]
            if len(docs) != len(ISTIO_CRDS):
                raise LabError("{0}: expected the CRDs {1}, found {2}".format(
                    crds / "istio" / "istio.yaml", ", ".join(ISTIO_CRDS), len(docs)))
            _write_docs(istio, docs)
        gateway = [f for f in sorted((crds / "gateway").glob("*.yaml"))
                   if not any(f.name.endswith("_{0}.yaml".format(k)) for k in GATEWAY_UNUSED)]
        return [self._schemaless(f, crds) for f in sorted((crds / "argo").glob("*.yaml"))] + [istio] + \
            [self._schemaless(f, crds) for f in gateway]

    def _schemaless(self, path: Path, crds: Path) -> Path:
        """``path``, or a copy of it in the lab's state (one per set of versions) whose SCHEMALESS_CRDS accept
        any object in every version."""
        copy = self.state / "crds-{0}".format(crds.name) / path.name
        if copy.exists():
            return copy
        docs = _load_docs(path)
        trimmed = False
        for doc in docs:
            if doc.get("kind") == "CustomResourceDefinition" and doc["metadata"].get("name") in SCHEMALESS_CRDS:
                for version in doc["spec"].get("versions") or []:
                    version["schema"] = {"openAPIV3Schema": dict(ANY_OBJECT)}
                trimmed = True
        if not trimmed:
            return path
        _write_docs(copy, docs)
        return copy

    def bootstrap_member(self, member: str, crds: Path) -> None:
        self.apply_files(member, self.app_crds(crds))
        self.kubectl(member, "create", "namespace", "argo-rollouts", check=False)
        nodes = [{
            "apiVersion": "v1", "kind": "Node",
            "metadata": {"name": "{0}-node-{1}".format(member.replace("k8s-master-", ""), i),
                         "annotations": {"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
                         "labels": {"type": "kwok", "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
                                    "kubernetes.io/hostname": "{0}-node-{1}".format(member, i),
                                    "topology.kubernetes.io/region": member}},
            "spec": {},
            "status": {"allocatable": {"cpu": "32", "memory": "256Gi", "pods": "110"},
                       "capacity": {"cpu": "32", "memory": "256Gi", "pods": "110"}},
        } for i in (1, 2)]
        self.apply_docs(member, nodes)

    def join(self, member: str) -> None:
        existing = self.kubectl(KARMADA, "get", "clusters", member, "-o", "json", check=False).strip()
        if existing:
            # A lab made before its ports moved (MCC_LAB_BASE_PORT) keeps the old address in its Cluster.
            endpoint = topology.apiserver_url(self.clusters().index(member))
            if json.loads(existing).get("spec", {}).get("apiEndpoint") != endpoint:
                log("{0}: apiEndpoint moved to {1}".format(member, endpoint))
                self.kubectl(KARMADA, "patch", "clusters", member, "--type", "merge",
                             "-p", json.dumps({"spec": {"apiEndpoint": endpoint}}))
            return
        log("joining " + member)
        subprocess.run([self.binary("karmadactl"), "join", member,
                        "--kubeconfig", str(self.kubeconfig), "--karmada-context", KARMADA_CONTEXT,
                        "--cluster-kubeconfig", str(self.kubeconfig), "--cluster-context", member],
                       check=True, capture_output=True, text=True, timeout=180)

    def cluster_names(self) -> list:
        """The names of the Clusters in Karmada."""
        items = json.loads(self.kubectl(KARMADA, "get", "clusters", "-o", "json"))["items"]
        return [c["metadata"]["name"] for c in items]

    def remove_stray_clusters(self, timeout: float = 300, interval: float = 2) -> None:
        """Delete from Karmada the Clusters of members a larger lab had (``--members 4 up`` after 16): their processes
        are stopped, so they would stay NotReady in Karmada, and every stage would name them. Karmada takes a minute
        or two to let a stopped member's Cluster go; one still there after ``timeout`` seconds is named in a warning,
        and ``up`` goes on."""
        stray = topology.stray_clusters(self.cluster_names(), self.members)
        if not stray:
            return
        log("removing from Karmada the clusters of members this lab no longer runs: " + ", ".join(stray))
        self.kubectl(KARMADA, "delete", "clusters", *stray, "--wait=false")
        deadline = time.monotonic() + timeout
        while True:
            left = [n for n in self.cluster_names() if n in stray]
            if not left:
                return
            if time.monotonic() > deadline:
                log("warning: Karmada still has the clusters {0} after {1:.0f}s; they go once Karmada has cleaned them "
                    "up (`kubectl get clusters`)".format(", ".join(left), timeout))
                return
            time.sleep(interval)

    def wait_clusters_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while True:
            out = self.kubectl(KARMADA, "get", "clusters", "-o", "json")
            ready = {c["metadata"]["name"] for c in json.loads(out)["items"]
                     if any(x["type"] == "Ready" and x["status"] == "True"
                            for x in c.get("status", {}).get("conditions", []))}
            if set(self.joined) <= ready:
                return
            if time.monotonic() > deadline:
                raise LabError("clusters not Ready after {0}s: {1}".format(timeout, sorted(set(self.joined) - ready)))
            time.sleep(1)

    def ensure_automation_identity(self, timeout: float = 60) -> None:
        """The automation ServiceAccount in Karmada, its RBAC in Karmada and every member, its kubeconfig.

        Applies docs/rbac/ as users would; idempotent. Waits until the token works through Karmada's
        cluster proxy in every member (Karmada's unified-auth controller lets each member's
        karmada-impersonator act as the ServiceAccount once its ClusterRole grants clusters/proxy).
        """
        started = time.monotonic()
        karmada_docs = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "istio-system"}}]
        for name in ("karmada-clusterrole.yml", "karmada-bindings.yml", "karmada-join.yml"):
            karmada_docs += [d for d in yaml.safe_load_all((RBAC_DIR / name).read_text()) if d]
        self.apply_docs(KARMADA, karmada_docs)
        member_docs = []
        for name in ("member-clusterrole.yml", "member-binding.yml"):
            member_docs += [d for d in yaml.safe_load_all((RBAC_DIR / name).read_text()) if d]
        # Only joined members: joining a cluster (playbooks/onboard.yml) gives it these too.
        with ThreadPoolExecutor(max_workers=max(1, len(self.joined))) as pool:
            list(pool.map(lambda m: self.apply_docs(m, member_docs), self.joined))

        deadline = time.monotonic() + timeout
        while True:  # Karmada's token controller fills the Secret in
            token = self.kubectl(KARMADA, "get", "secret", "-n", AUTOMATION_NAMESPACE, AUTOMATION_TOKEN_SECRET,
                                 "-o", "jsonpath={.data.token}").strip()
            if token:
                break
            if time.monotonic() > deadline:
                raise LabError("no token in secret {0}/{1} after {2}s (is the serviceaccount-token controller of "
                               "Karmada's kube-controller-manager running?)".format(
                                   AUTOMATION_NAMESPACE, AUTOMATION_TOKEN_SECRET, timeout))
            time.sleep(0.5)
        import base64
        config = {"apiVersion": "v1", "kind": "Config",
                  "clusters": [{"name": KARMADA_CONTEXT, "cluster": {
                      "server": topology.apiserver_url(0), "certificate-authority-data": _b64file(self.pki["ca_crt"])}}],
                  "users": [{"name": "multicluster-canary", "user": {"token": base64.b64decode(token).decode()}}],
                  "contexts": [{"name": KARMADA_CONTEXT,
                                "context": {"cluster": KARMADA_CONTEXT, "user": "multicluster-canary"}}],
                  "current-context": KARMADA_CONTEXT}
        text = yaml.safe_dump(config)
        path = self.automation_kubeconfig
        if not path.exists() or path.read_text() != text:
            _write_private(path, text)

        def proxied(member):
            cmd = [self.binary("kubectl"), "--kubeconfig", str(path), "get", "--raw",
                   "/apis/cluster.karmada.io/v1alpha1/clusters/{0}/proxy/apis/apiregistration.k8s.io/v1/"
                   "apiservices".format(member)]
            while True:
                proc = subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=False)
                if proc.returncode == 0:
                    return
                if time.monotonic() > deadline:
                    raise LabError("the automation identity cannot read {0} through Karmada's cluster proxy after "
                                   "{1}s: {2}".format(member, timeout, proc.stderr.strip()))
                time.sleep(0.5)

        with ThreadPoolExecutor(max_workers=max(1, len(self.joined))) as pool:
            list(pool.map(proxied, self.joined))
        log("automation identity ready in {0:.1f}s; kubeconfig: {1}".format(time.monotonic() - started, path))

    def write_info(self) -> None:
        # "members" are the joined ones (what the tests and the inventory use); "unjoined" run with a
        # context in the kubeconfig but are not in Karmada.
        info = {"kubeconfig": str(self.kubeconfig), "members": self.joined, "member_count": len(self.members),
                "join_count": len(self.joined), "unjoined": [m for m in self.members if m not in self.joined],
                "karmada_context": KARMADA_CONTEXT, "bin": str(self.bindir),
                "automation_kubeconfig": str(self.automation_kubeconfig),
                "profile": self.profile, "versions": self.versions,
                # the Ansible inventory of the joined members (inventories/lab for the default four)
                "inventory": str(write_inventory(self))}
        (self.state / "lab.json").write_text(json.dumps(info, indent=2) + "\n")

    def down(self, purge: bool = False, timeout: float = 20) -> list:
        """Stop every process this lab started: SIGTERM to all at once, SIGKILL to what is left."""
        ids = [c.id for c in self.components()] + self.stray_ids()
        running = {cid: self.pid(cid) for cid in ids}
        running = {cid: pid for cid, pid in running.items() if pid}
        _terminate(running.values(), timeout)
        for cid in ids:
            self.pidfile(cid).unlink(missing_ok=True)
        if purge:
            for sub in ("etcd", "lab.json", "inventory", self.profile_file.name):
                p = self.state / sub
                if p.is_dir():
                    shutil.rmtree(p)
                elif p.exists():
                    p.unlink()
        return sorted(running)

    def stray_ids(self) -> list:
        """Components with a PID file that this lab does not have (a lab started with more members)."""
        known = {c.id for c in self.components()}
        pid_dir = self.state / "pids"
        if not pid_dir.exists():
            return []
        return sorted(cid for cid in (f.name[:-4].replace("__", "/") for f in pid_dir.glob("*.pid")) if cid not in known)

    def status(self) -> list:
        rows = []
        for comp in self.components():
            pid = self.pid(comp.id)
            state = "stopped"
            if pid:
                state = "healthy" if self.healthy(comp) else "running (not healthy)"
            rows.append((comp.id, pid, state, _rss_kib(pid) if pid else 0))
        return rows

    def component(self, comp_id: str):
        for comp in self.components():
            if comp.id == comp_id:
                return comp
        raise LabError("no component {0!r}; try one of: {1}".format(
            comp_id, ", ".join(c.id for c in self.components())))


def _load_docs(path: Path) -> list:
    """The YAML documents of a (large, upstream) file, empty ones left out; libyaml's loader when there is one."""
    return [d for d in yaml.load_all(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) if d]


def _write_docs(path: Path, docs: list) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.dump_all(docs, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper)))


def process_env(environ, extra) -> dict:
    """A lab process's environment: ``environ`` with the component's ``extra``, and GOGC=LAB_GOGC unless either
    says GOGC."""
    env = dict(environ, **extra)
    env.setdefault("GOGC", LAB_GOGC)
    return env


LAB_INVENTORY = ROOT / "inventories" / "lab"


def inventory_hosts(joined) -> dict:
    """The hosts.yml of a lab whose joined members are ``joined``."""
    return {"all": {"children": {
        "karmada": {"hosts": {"karmada-apiserver": None}},
        "members": {"hosts": {m: None for m in joined}},
    }}}


def write_inventory(lab: Lab, tracked: Path = LAB_INVENTORY) -> Path:
    """The Ansible inventory of the lab's joined members; returns its directory.

    ``inventories/lab`` (tracked by git) lists the default lab: the four members. A lab with other members
    joined gets an inventory of its own in its state directory (``.lab/inventory``): its hosts.yml, and links to
    ``inventories/lab``'s group_vars and host_vars (their paths, ``{{ inventory_dir }}/../../.lab``, reach the
    same files from there while the state directory is the checkout's ``.lab``, as it is unless ``MCC_LAB_DIR``
    moves it). So a 16-member bench never rewrites a file git tracks.
    """
    hosts = inventory_hosts(lab.joined)
    text = "# Written by `make lab-up` (tools/lab): the local federation.\n" + yaml.safe_dump(hosts, sort_keys=False)
    own = lab.state / "inventory"
    if list(lab.joined) == topology.member_names(len(topology.MEMBER_NAMES)):
        if not (tracked / "hosts.yml").exists() or yaml.safe_load((tracked / "hosts.yml").read_text()) != hosts:
            tracked.mkdir(parents=True, exist_ok=True)
            (tracked / "hosts.yml").write_text(text)
        if own.exists():
            shutil.rmtree(own)
        return tracked
    own.mkdir(parents=True, exist_ok=True)
    (own / "hosts.yml").write_text(text)
    for name in ("group_vars", "host_vars"):
        link = own / name
        if not link.is_symlink():
            if link.exists():
                shutil.rmtree(link)
            link.symlink_to(os.path.relpath(tracked / name, own))
    return own


def inotify_advice(what: str, wanted: int) -> str:
    return ("{0}. The limit is fs.inotify.max_user_instances (now {1}); raise it with `sudo sysctl "
            "fs.inotify.max_user_instances={2}` (persist it in /etc/sysctl.d/), or run fewer members or labs."
            .format(what, INOTIFY_LIMIT.read_text().strip(), max(512, 1 << (max(wanted, 1) - 1).bit_length())))


def _inotify_instances_of_user() -> int:
    """inotify instances held by this user's processes (the limit counts per user, not per process)."""
    uid, count = os.getuid(), 0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if proc.stat().st_uid != uid:
                continue
            for fd in (proc / "fd").iterdir():
                if os.readlink(fd) == "anon_inode:inotify":
                    count += 1
        except OSError:  # gone, or not ours to read
            continue
    return count


def _versions_text(versions: dict) -> str:
    return ", ".join("{0} {1}".format(k, v) for k, v in versions.items())


def _write_private(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(0o600)


def _b64file(path) -> str:
    import base64
    return base64.b64encode(Path(path).read_bytes()).decode()


def _terminate(pids, timeout: float) -> None:
    """SIGTERM every process group at once, SIGKILL what is left after ``timeout``, wait until all are gone."""
    pids = list(pids)
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, None)):
        for pid in pids:
            if _alive(pid):
                try:
                    os.killpg(pid, sig)
                except ProcessLookupError:
                    pass
        deadline = None if wait is None else time.monotonic() + wait
        while any(_alive(p) for p in pids) and (deadline is None or time.monotonic() < deadline):
            time.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return Path("/proc/{0}/stat".format(pid)).read_text().split()[2] != "Z"
    except OSError:
        return False


def _get(url: str, ctx) -> int:
    try:
        with urllib.request.urlopen(url, context=ctx if url.startswith("https") else None, timeout=3) as r:
            return r.status
    except Exception as e:  # noqa: BLE001 - any failure means "not yet"
        return getattr(e, "code", 0) or 0


def _rss_kib(pid: int) -> int:
    """Resident memory of a process and its children, in KiB."""
    total = 0
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            for line in Path("/proc/{0}/status".format(p)).read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
            children = Path("/proc/{0}/task/{0}/children".format(p)).read_text().split()
            todo += [int(c) for c in children]
        except OSError:
            continue
    return total


def pss_kib(pid: int) -> int:
    """Proportional set size of a process and its children, in KiB: unlike RSS, pages shared between
    processes (the same binary run 17 times) count once in a sum over the lab."""
    total = 0
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            for line in Path("/proc/{0}/smaps_rollup".format(p)).read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
            todo += [int(c) for c in Path("/proc/{0}/task/{0}/children".format(p)).read_text().split()]
        except OSError:
            continue
    return total


def _tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


if __name__ == "__main__":  # pragma: no cover
    sys.exit("use: python -m tools.lab")
