"""Build the pinned cluster binaries from source through the Go module proxy.

Nothing here downloads a release archive: every binary is compiled from its Go
module, pinned below, into a per-version cache outside the repository
(``$VIDEOJOB_TOOLS_CACHE/bin/<tool>-<version>/``). A finished build leaves a
``.complete`` stamp, so an interrupted build is redone rather than trusted.

This module uses only the standard library: it runs before any virtualenv exists
(``hack/tools.py`` loads it by path).

    hack/tools.py build [TOOL ...]
    hack/tools.py path BINARY
    hack/tools.py status
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

KUBERNETES_VERSION = "v1.34.4"
ETCD_VERSION = "v3.6.8"
MINIO_VERSION = "v0.0.0-20260212201848-7aac2a2c5b7c"
HELM_VERSION = "v3.22.0"
KWOK_VERSION = "v0.8.0"
COREDNS_VERSION = "v1.15.0"  # cluster DNS for in-cluster workloads
KUEUE_VERSION = "v0.17.0"  # job queueing, admits renderer Jobs by their queue-name label
# The chart's best-practice linter (kube-linter's module host is refused by the Go module proxy here).
KUBE_SCORE_VERSION = "v1.20.0"

# The main module's go directive sets GODEBUG defaults; wrappers copy upstream's.
MIN_GO = (1, 24)
GO_PROXY_DEFAULT = "https://proxy.golang.org"

KUBERNETES_COMMANDS = (
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kubelet",
    "kube-proxy",
    "kubectl",
)


class ToolError(RuntimeError):
    """A build or lookup failed; the message is one line a newcomer can act on."""


@dataclasses.dataclass(frozen=True)
class Tool:
    name: str
    version: str
    binaries: tuple[str, ...]

    @property
    def slug(self) -> str:
        return f"{self.name}-{self.version}"


TOOLS: dict[str, Tool] = {
    tool.name: tool
    for tool in (
        Tool("etcd", ETCD_VERSION, ("etcd",)),
        Tool("kubernetes", KUBERNETES_VERSION, KUBERNETES_COMMANDS),
        Tool("minio", MINIO_VERSION, ("minio",)),
        Tool("helm", HELM_VERSION, ("helm",)),
        Tool("kwok", KWOK_VERSION, ("kwok",)),
        Tool("coredns", COREDNS_VERSION, ("coredns",)),
        Tool("kueue", KUEUE_VERSION, ("kueue",)),
        Tool("kube-score", KUBE_SCORE_VERSION, ("kube-score",)),
    )
}
# Tools that `go install module/package@version` builds as they are (no wrapper module needed).
GO_INSTALL_PACKAGES = {
    "minio": "github.com/minio/minio",
    "helm": "helm.sh/helm/v3/cmd/helm",
    "kwok": "sigs.k8s.io/kwok/cmd/kwok",
    "coredns": "github.com/coredns/coredns",
    "kueue": "sigs.k8s.io/kueue/cmd/kueue",
    "kube-score": "github.com/zegl/kube-score/cmd/kube-score",
}
BINARY_TO_TOOL = {binary: tool for tool in TOOLS.values() for binary in tool.binaries}


def cache_root() -> Path:
    explicit = os.environ.get("VIDEOJOB_TOOLS_CACHE")  # not VIDEOJOB_CACHE: the renderer's scene-cache setting
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "videojob"


def tool_dir(tool: Tool) -> Path:
    return cache_root() / "bin" / tool.slug


def _user_supplied(binary: str) -> Path | None:
    """Binaries the user brings: $KUBEBUILDER_ASSETS, $VIDEOJOB_BIN_DIR, or PATH when asked."""
    for variable in ("VIDEOJOB_BIN_DIR", "KUBEBUILDER_ASSETS"):
        directory = os.environ.get(variable)
        if directory and (Path(directory) / binary).is_file():
            return Path(directory) / binary
    if os.environ.get("VIDEOJOB_TOOLS_FROM_PATH") == "1":
        found = shutil.which(binary)
        if found:
            return Path(found)
    return None


def find_binary(binary: str) -> Path | None:
    supplied = _user_supplied(binary)
    if supplied:
        return supplied
    tool = BINARY_TO_TOOL.get(binary)
    if tool is None:
        raise ToolError(f"unknown binary {binary!r}; known: {', '.join(sorted(BINARY_TO_TOOL))}")
    candidate = tool_dir(tool) / binary
    if (tool_dir(tool) / ".complete").exists() and candidate.is_file():
        return candidate
    return None


def require_binary(binary: str) -> Path:
    found = find_binary(binary)
    if found is None:
        tool = BINARY_TO_TOOL[binary]
        raise ToolError(
            f"{binary} {tool.version} is not built yet: run `hack/tools.py build {tool.name}` "
            f"(or point KUBEBUILDER_ASSETS at a directory that has it)"
        )
    return found


# --- the Go toolchain -------------------------------------------------------------


def go_executable() -> str:
    go = shutil.which("go")
    if go is None:
        raise ToolError(
            "Go toolchain not found on PATH: install Go >= 1.24 (Debian: golang-go from "
            "bookworm-backports, or the official tarball), or set KUBEBUILDER_ASSETS to a "
            "directory holding prebuilt etcd, kube-apiserver and kubectl"
        )
    output = subprocess.run([go, "env", "GOVERSION"], capture_output=True, text=True).stdout
    match = re.match(r"go(\d+)\.(\d+)", output.strip())
    if match and (int(match[1]), int(match[2])) < MIN_GO:
        raise ToolError(f"Go {output.strip()} is too old: these builds need go{MIN_GO[0]}.{MIN_GO[1]} or newer")
    return go


def go_environment() -> dict[str, str]:
    """A contained Go environment: its module and build caches live in our cache root."""
    root = cache_root() / "go"
    env = dict(os.environ)
    env.update(
        CGO_ENABLED="0",
        GOFLAGS="-mod=mod -trimpath",
        GOMODCACHE=env.get("VIDEOJOB_GOMODCACHE", str(root / "mod")),
        GOCACHE=env.get("VIDEOJOB_GOCACHE", str(root / "build")),
        GOTOOLCHAIN="local",
        GOWORK="off",
    )
    env.setdefault("GOPROXY", f"{GO_PROXY_DEFAULT},direct")
    return env


def _proxy_url() -> str:
    proxy = go_environment()["GOPROXY"].split(",")[0].split("|")[0]
    return proxy if proxy.startswith("http") else GO_PROXY_DEFAULT


def fetch_upstream_gomod(module: str, version: str) -> str:
    url = f"{_proxy_url()}/{module}/@v/{version}.mod"
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            return response.read().decode()
    except OSError as error:
        raise ToolError(f"cannot read {module}@{version}'s go.mod from the Go module proxy ({url}): {error}") from error


def staging_modules(upstream_gomod: str) -> list[str]:
    """The k8s.io modules that upstream replaces with its ./staging copies."""
    return sorted(set(re.findall(r"^\s*(k8s\.io/[\w.-]+)\s*=>\s*\./staging/", upstream_gomod, re.M)))


def go_directives(upstream_gomod: str) -> str:
    lines = [line for line in upstream_gomod.splitlines() if re.match(r"^(go|godebug) ", line)]
    return "\n".join(lines)


def kubernetes_wrapper_gomod(version: str, upstream_gomod: str) -> str:
    """A wrapper module: upstream's ./staging replaces become the published v0.x releases."""
    staging_version = "v0" + version[2:]  # v1.34.4 -> v0.34.4
    replaces = "\n".join(f"\t{module} => {module} {staging_version}" for module in staging_modules(upstream_gomod))
    return (
        "module videojob.dev/build/kubernetes\n\n"
        f"{go_directives(upstream_gomod)}\n\n"
        f"require k8s.io/kubernetes {version}\n\n"
        f"replace (\n{replaces}\n)\n"
    )


def etcd_wrapper_gomod(version: str, upstream_gomod: str) -> str:
    return (
        "module videojob.dev/build/etcd\n\n"
        f"{go_directives(upstream_gomod)}\n\n"
        f"require go.etcd.io/etcd/server/v3 {version}\n"
    )


def kubernetes_ldflags(version: str) -> str:
    major, minor = version.lstrip("v").split(".")[:2]
    values = {
        "gitVersion": version,
        "gitMajor": major,
        "gitMinor": minor,
        "gitTreeState": "clean",
        "buildDate": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    flags = ["-s", "-w"]
    for package in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        flags += [f"-X {package}.{key}={value}" for key, value in values.items()]
    return " ".join(flags)


# --- running go with progress ----------------------------------------------------


def _run_go(args: list[str], *, cwd: Path, env: dict[str, str], label: str) -> None:
    """Run a go command, printing a progress line every 20 s; on failure raise with its tail."""
    started = time.monotonic()
    packages = 0
    tail: list[str] = []
    last_report = started
    with subprocess.Popen(args, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            tail = [*tail, line.rstrip()][-30:]
            if not line.startswith(("go: ", "#")):
                packages += 1
            now = time.monotonic()
            if now - last_report >= 20:
                print(f"  {label}: {packages} packages, {now - started:.0f}s", flush=True)
                last_report = now
        returncode = proc.wait()
    if returncode != 0:
        joined = "\n    ".join(tail)
        raise ToolError(f"{label} failed (exit {returncode}); last lines of the Go output:\n    {joined}")


def _build_wrapped(tool: Tool, gomod: str, packages: list[str], ldflags: str, workdir: Path, output: str) -> None:
    env = go_environment()
    (workdir / "go.mod").write_text(gomod)
    # No `go mod tidy`: the wrapper has no Go files; -mod=mod records the sums the build needs.
    _run_go([go_executable(), "mod", "download"], cwd=workdir, env=env, label=f"{tool.slug} download")
    args = [go_executable(), "build", "-v", "-ldflags", ldflags, "-o", output, *packages]
    _run_go(args, cwd=workdir, env=env, label=f"{tool.slug} build")


def _go_install(tool: Tool, package: str, out: Path) -> None:
    env = go_environment() | {"GOBIN": str(out)}
    args = [go_executable(), "install", "-v", "-ldflags", "-s -w", f"{package}@{tool.version}"]
    _run_go(args, cwd=out, env=env, label=f"{tool.slug} build")


def build(tool: Tool, *, force: bool = False) -> Path:
    destination = tool_dir(tool)
    if (destination / ".complete").exists() and not force:
        return destination
    started = time.monotonic()
    print(f"building {tool.slug} from source ({', '.join(tool.binaries)})", flush=True)
    staging = Path(
        tempfile.mkdtemp(prefix=f".{tool.slug}-", dir=destination.parent if destination.parent.exists() else None)
    )
    try:
        if tool.name == "kubernetes":
            upstream = fetch_upstream_gomod("k8s.io/kubernetes", tool.version)
            packages = [f"k8s.io/kubernetes/cmd/{command}" for command in tool.binaries]
            _build_wrapped(
                tool,
                kubernetes_wrapper_gomod(tool.version, upstream),
                packages,
                kubernetes_ldflags(tool.version),
                staging,
                str(staging / "out") + os.sep,
            )
        elif tool.name == "etcd":
            upstream = fetch_upstream_gomod("go.etcd.io/etcd/server/v3", tool.version)
            _build_wrapped(
                tool,
                etcd_wrapper_gomod(tool.version, upstream),
                ["go.etcd.io/etcd/server/v3"],
                f"-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA={tool.version}",
                staging,
                str(staging / "out" / "etcd"),
            )
        elif tool.name in GO_INSTALL_PACKAGES:
            (staging / "out").mkdir()
            _go_install(tool, GO_INSTALL_PACKAGES[tool.name], staging / "out")
        missing = [binary for binary in tool.binaries if not (staging / "out" / binary).is_file()]
        if missing:
            raise ToolError(f"{tool.slug}: the build finished but produced no {', '.join(missing)}")
        if destination.exists():
            shutil.rmtree(destination)
        (staging / "out").rename(destination)
        (destination / ".complete").write_text(
            json.dumps({"version": tool.version, "seconds": round(time.monotonic() - started)})
        )
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    print(f"built {tool.slug} in {time.monotonic() - started:.0f}s -> {destination}", flush=True)
    return destination


def ensure(names: list[str] | None = None, *, force: bool = False) -> None:
    """Build what is missing; binaries the user supplied are used as they are."""
    unknown = sorted(set(names or ()) - set(TOOLS))
    if unknown:
        raise ToolError(f"unknown tool {', '.join(unknown)}; known: {', '.join(TOOLS)}")
    cache_root().joinpath("bin").mkdir(parents=True, exist_ok=True)
    for name in names or list(TOOLS):
        tool = TOOLS[name]
        if force or not all(_user_supplied(binary) for binary in tool.binaries):
            build(tool, force=force)


def _disk_usage(path: Path) -> int:
    if not path.exists():
        return 0
    return sum(entry.stat().st_size for entry in path.rglob("*") if entry.is_file() and not entry.is_symlink())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hack/tools.py", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    build_parser = commands.add_parser("build", help="build the pinned binaries that are missing")
    build_parser.add_argument("tools", nargs="*", metavar="TOOL", help=f"any of: {', '.join(TOOLS)} (default: all)")
    build_parser.add_argument("--force", action="store_true", help="rebuild even when cached")
    path_parser = commands.add_parser("path", help="print the path of a built binary")
    path_parser.add_argument("binary")
    commands.add_parser("status", help="show what is built and the cache size")
    args = parser.parse_args(argv)
    try:
        if args.command == "build":
            ensure(args.tools, force=args.force)
        elif args.command == "path":
            print(require_binary(args.binary))
        else:
            for tool in TOOLS.values():
                state = "built" if (tool_dir(tool) / ".complete").exists() else "missing"
                print(f"{tool.slug:55} {state}")
            for part in ("bin", "go/mod", "go/build"):
                print(f"cache {part:9} {_disk_usage(cache_root() / part) / 2**30:6.2f} GiB  ({cache_root() / part})")
    except ToolError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
