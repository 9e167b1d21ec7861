"""Build the lab's binaries from the Go module proxy, cached by version.

Nothing upstream is vendored into the repository: every component is fetched
with ``go mod download`` / ``go install`` at the versions pinned in
``versions.json`` and built into ``~/.cache/multicluster-canary/lab/components/<name>@<version>/``.
A second run with the same versions finds the binaries and does nothing.

``versions.json`` holds named profiles of versions that build and run together: ``min`` (the
oldest versions the collection supports, the file's ``default``) and ``latest`` (the newest the Go
proxy serves that build together). ``MCC_LAB_PROFILE`` (or ``--profile``) picks one.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
VERSIONS_FILE = HERE / "versions.json"
PROFILE_ENV = "MCC_LAB_PROFILE"
VERSION_KEYS = ("kubernetes", "etcd", "karmada", "kwok", "argo_rollouts", "istio_api", "gateway_api")

K8S_BINARIES = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl")
KARMADA_BINARIES = (
    "karmada-controller-manager",
    "karmada-scheduler",
    "karmada-aggregated-apiserver",
    "karmada-webhook",
    "karmadactl",
)
ARGO_BINARIES = ("rollouts-controller", "kubectl-argo-rollouts")
ALL_BINARIES = K8S_BINARIES + KARMADA_BINARIES + ARGO_BINARIES + ("etcd", "kwok")


def load_profiles() -> dict:
    """{"default": name, "profiles": {name: {component key: version}}}, checked."""
    data = json.loads(VERSIONS_FILE.read_text())
    profiles = data.get("profiles") or {}
    for name, versions in profiles.items():
        missing = [k for k in VERSION_KEYS if not versions.get(k)]
        if missing:
            raise ValueError("{0}: profile {1!r} has no version for {2}".format(VERSIONS_FILE, name, ", ".join(missing)))
    if data.get("default") not in profiles:
        raise ValueError("{0}: default profile {1!r} is not one of {2}".format(
            VERSIONS_FILE, data.get("default"), ", ".join(sorted(profiles))))
    return data


def profile_name(requested: str | None = None) -> str:
    """The profile asked for (argument, else $MCC_LAB_PROFILE), else the default one; unknown names fail."""
    data = load_profiles()
    name = requested or os.environ.get(PROFILE_ENV) or data["default"]
    if name not in data["profiles"]:
        raise ValueError("unknown lab profile {0!r} (--profile or {1}): choose one of {2} ({3})".format(
            name, PROFILE_ENV, ", ".join(sorted(data["profiles"])), VERSIONS_FILE.name))
    return name


def load_versions(profile: str | None = None) -> dict:
    return dict(load_profiles()["profiles"][profile_name(profile)])


def cache_root() -> Path:
    base = os.environ.get("MCC_LAB_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "multicluster-canary", "lab"
    )
    return Path(base)


def _log(msg: str) -> None:
    print(f"[lab build {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def _go(args, cwd=None, env=None) -> str:
    full_env = dict(os.environ)
    full_env.setdefault("GOFLAGS", "-buildvcs=false")
    full_env["CGO_ENABLED"] = "0"
    if env:
        full_env.update(env)
    proc = subprocess.run(["go", *args], cwd=cwd, env=full_env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"go {' '.join(args)} failed in {cwd}:\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout


def module_dir(path: str, version: str) -> Path:
    """Download one module (read-only, in the module cache) and return its directory."""
    out = _go(["mod", "download", "-json", f"{path}@{version}"], cwd="/")
    return Path(json.loads(out)["Dir"])


def _write_wrapper(workdir: Path, module: str, go_mod_body: str, files: dict) -> None:
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "go.mod").write_text(f"module {module}\n\ngo 1.23\n\n{go_mod_body}")
    for name, text in files.items():
        (workdir / name).write_text(text)


def build_kubernetes(version: str, work: Path, bindir: Path) -> None:
    """k8s.io/kubernetes replaces its staging modules with local dirs; point them at the published ones."""
    kdir = module_dir("k8s.io/kubernetes", version)
    gomod = (kdir / "go.mod").read_text()
    # Pin only the staging modules kubernetes requires: the proxy does not serve every sample-* module.
    replaced = set(re.findall(r"^\s*(k8s\.io/[\w.-]+) => \./staging/", gomod, re.M))
    required = set(re.findall(r"^\s*(k8s\.io/[\w.-]+) v0\.0\.0", gomod, re.M))
    staging = sorted(replaced & required)
    staging_version = "v0." + version.split(".", 1)[1]
    requires = "\n".join(f"\t{m} {staging_version}" for m in staging)
    replaces = "\n".join(f"\t{m} => {m} {staging_version}" for m in staging)
    body = f"require (\n\tk8s.io/kubernetes {version}\n{requires}\n)\n\nreplace (\n{replaces}\n)\n"
    tools = "//go:build tools\n\npackage tools\n\nimport (\n" + "".join(
        f'\t_ "k8s.io/kubernetes/cmd/{b}"\n' for b in K8S_BINARIES
    ) + ")\n"
    wdir = work / "kubernetes"
    _write_wrapper(wdir, "lab.local/kubernetes", body, {"tools.go": tools})
    # The checksum database does not answer for every staging module here (404 for
    # k8s.io/endpointslice@v0.32.3); the module proxy's copies are still pinned in go.sum.
    _go(["mod", "tidy"], cwd=wdir, env={"GONOSUMDB": "k8s.io"})
    major, minor = version.lstrip("v").split(".")[:2]
    ldflags = " ".join(
        f"-X k8s.io/{pkg}/version.{k}={v}"
        for pkg in ("component-base", "client-go/pkg")
        for k, v in (("gitVersion", version), ("gitMajor", major), ("gitMinor", minor),
                     ("gitTreeState", "clean"), ("buildDate", "1970-01-01T00:00:00Z"))
    )
    _go(["build", "-trimpath", "-ldflags", f"-s -w {ldflags}", "-o", str(bindir) + "/",
         *[f"k8s.io/kubernetes/cmd/{b}" for b in K8S_BINARIES]], cwd=wdir, env={"GONOSUMDB": "k8s.io"})


def build_etcd(version: str, work: Path, bindir: Path) -> None:
    """etcd's server module replaces its siblings with ../ paths; a wrapper main pins published ones."""
    # server/v3's own requirements pin its siblings; tidy resolves them from the proxy.
    body = f"require go.etcd.io/etcd/server/v3 {version}\n"
    main = 'package main\n\nimport (\n\t"os"\n\n\t"go.etcd.io/etcd/server/v3/etcdmain"\n)\n\nfunc main() { etcdmain.Main(os.Args) }\n'
    wdir = work / "etcd"
    _write_wrapper(wdir, "lab.local/etcd", body, {"main.go": main})
    _go(["mod", "tidy"], cwd=wdir)
    _go(["build", "-trimpath", "-ldflags", "-s -w", "-o", str(bindir / "etcd"), "."], cwd=wdir)


KARMADA_CMDS = {  # binary name -> directory under cmd/
    "karmada-controller-manager": "controller-manager",
    "karmada-scheduler": "scheduler",
    "karmada-aggregated-apiserver": "aggregated-apiserver",
    "karmada-webhook": "webhook",
    "karmadactl": "karmadactl",
}


def build_karmada(version: str, work: Path, bindir: Path) -> None:
    """Karmada has no replaces, but the proxy refuses its version list, which ``go install pkg@v``
    reads for deprecations: build from a wrapper module that pins the version instead."""
    pkgs = [f"github.com/karmada-io/karmada/cmd/{d}" for d in KARMADA_CMDS.values()]
    tools = "//go:build tools\n\npackage tools\n\nimport (\n" + "".join(f'\t_ "{p}"\n' for p in pkgs) + ")\n"
    wdir = work / "karmada"
    _write_wrapper(wdir, "lab.local/karmada", f"require github.com/karmada-io/karmada {version}\n",
                   {"tools.go": tools})
    _go(["mod", "tidy"], cwd=wdir)
    for name, d in KARMADA_CMDS.items():
        _go(["build", "-trimpath", "-ldflags", "-s -w", "-o", str(bindir / name),
             f"github.com/karmada-io/karmada/cmd/{d}"], cwd=wdir)


def build_kwok(version: str, bindir: Path) -> None:
    _go(["install", "-trimpath", "-ldflags", "-s -w", f"sigs.k8s.io/kwok/cmd/kwok@{version}"],
        env={"GOBIN": str(bindir)})


def build_argo(version: str, work: Path, bindir: Path) -> None:
    """Argo Rollouts' go.mod has replaces, so build inside a writable copy of the module."""
    src = module_dir("github.com/argoproj/argo-rollouts", version)
    wdir = work / "argo-rollouts"
    if wdir.exists():
        shutil.rmtree(wdir, ignore_errors=True)
    shutil.copytree(src, wdir)
    for p in [wdir, *wdir.rglob("*")]:
        if not p.is_symlink():
            p.chmod(p.stat().st_mode | 0o200)
    # The plugin embeds the dashboard's built UI; the lab never serves it.
    static = wdir / "ui" / "dist" / "app"
    if not static.exists():
        static.mkdir(parents=True)
        (static / "index.html").write_text("<html><body>dashboard not built in the lab</body></html>\n")
    ldflags = f"-s -w -X github.com/argoproj/argo-rollouts/utils/version.version={version.lstrip('v')}"
    _go(["build", "-trimpath", "-ldflags", ldflags, "-o", str(bindir) + "/",
         "./cmd/rollouts-controller", "./cmd/kubectl-argo-rollouts"], cwd=wdir)


def fetch_crds(versions: dict, crddir: Path) -> None:
    """Collect upstream CRDs from the downloaded modules (never from the repo)."""
    crddir.mkdir(parents=True, exist_ok=True)
    karmada = module_dir("github.com/karmada-io/karmada", versions["karmada"])
    argo = module_dir("github.com/argoproj/argo-rollouts", versions["argo_rollouts"])
    istio = module_dir("istio.io/api", versions["istio_api"])
    gw = module_dir("sigs.k8s.io/gateway-api", versions["gateway_api"])
    for sub in ("karmada", "argo", "istio", "gateway"):
        (crddir / sub).mkdir(exist_ok=True)
    for f in sorted((karmada / "charts/karmada/_crds/bases").rglob("*.yaml")):
        shutil.copyfile(f, crddir / "karmada" / f.name)
    for f in sorted((argo / "manifests/crds").glob("*-crd.yaml")):
        shutil.copyfile(f, crddir / "argo" / f.name)
    shutil.copyfile(istio / "kubernetes/customresourcedefinitions.gen.yaml", crddir / "istio" / "istio.yaml")
    for f in sorted((gw / "config/crd/standard").glob("*.yaml")):
        shutil.copyfile(f, crddir / "gateway" / f.name)


STEPS = (  # (component, version key, builder, binaries)
    ("etcd", "etcd", build_etcd, ("etcd",)),
    ("kwok", "kwok", lambda version, _work, bindir: build_kwok(version, bindir), ("kwok",)),
    ("argo-rollouts", "argo_rollouts", build_argo, ARGO_BINARIES),
    ("karmada", "karmada", build_karmada, KARMADA_BINARIES),
    ("kubernetes", "kubernetes", build_kubernetes, K8S_BINARIES),
)
CRD_KEYS = ("karmada", "argo_rollouts", "istio_api", "gateway_api")


def component_dir(name: str, version: str) -> Path:
    return cache_root() / "components" / f"{name}@{version}"


def crds_dir(versions: dict) -> Path:
    return cache_root() / "crds" / "-".join(versions[k] for k in CRD_KEYS)


def build(force: bool = False, profile: str | None = None) -> dict:
    """Build what is missing; return {binary name: path} and the CRD directory under key 'crds'."""
    versions = load_versions(profile)
    # One work directory per build, so a build of another profile running at the same time keeps its own.
    work = cache_root() / "work" / str(os.getpid())
    paths, timings = {}, {}
    for name, key, fn, outputs in STEPS:
        bindir = component_dir(name, versions[key])
        if force or not all((bindir / o).exists() for o in outputs):
            bindir.mkdir(parents=True, exist_ok=True)
            _log(f"building {name} {versions[key]}")
            start = time.monotonic()
            fn(versions[key], work, bindir)
            timings[name] = round(time.monotonic() - start, 1)
            _log(f"built {name} in {timings[name]}s")
        paths.update({o: bindir / o for o in outputs})
    crds = crds_dir(versions)
    if force or not (crds / "istio" / "istio.yaml").exists():
        fetch_crds(versions, crds)
    paths["crds"] = crds
    if timings:
        with open(cache_root() / "build-times.jsonl", "a") as fh:
            fh.write(json.dumps({"at": time.time(), "versions": versions, "seconds": timings}) + "\n")
    shutil.rmtree(work, ignore_errors=True)
    return paths


def link_into(target: Path, paths: dict) -> None:
    """Make the binaries reachable at .lab/bin (symlinks into the cache)."""
    target.mkdir(parents=True, exist_ok=True)
    for b in ALL_BINARIES:
        link = target / b
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(paths[b])


if __name__ == "__main__":
    for k, v in sorted(build(force="--force" in sys.argv).items()):
        print(k, v)
