#!/usr/bin/python3
"""deploy/systemd: the unit's sandbox says what the deployment promises
(dedicated user, only GPU device nodes, read-only models, one writable cache
dir), `systemd-analyze verify` accepts it, and its real command lines work:
ExecStart starts uopd, ExecStartPost returns once /v2/health/ready answers,
and SIGTERM stops it cleanly within TimeoutStopSec.
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import testlib  # noqa: E402
from unit_file import UnitFile  # noqa: E402

UNIT = testlib.repo_path("deploy/systemd/uopd.service")
WAIT_READY = testlib.repo_path("deploy/systemd/uopd-wait-ready")
SYSUSERS = testlib.repo_path("deploy/systemd/uopd.sysusers")
DROPIN = testlib.repo_path("deploy/systemd/uopd.service.d/gpus.conf.example")
GPU_NODE = re.compile(r"^/dev/(nvidiactl|nvidia-uvm|nvidia\d+|kfd|dri/renderD\d+)$")


def load(path):
    with open(path) as f:
        return UnitFile.parse(f.read())


def flag(argv, name):
    prefix = "--%s=" % name
    values = [a[len(prefix):] for a in argv if a.startswith(prefix)]
    return values[-1] if values else None


class UnitStructureTest(unittest.TestCase):
    def setUp(self):
        self.unit = load(UNIT)
        self.argv = self.unit.command("ExecStart", self.unit.environment())

    def svc(self, key, default=None):
        return self.unit.get("Service", key, default)

    def test_runs_as_dedicated_user_declared_by_sysusers(self):
        self.assertEqual(self.svc("User"), "uopd")
        self.assertEqual(self.svc("Group"), "uopd")
        self.assertIsNone(self.svc("DynamicUser"))
        with open(SYSUSERS) as f:
            entries = [l.split() for l in f if l.strip() and not l.startswith("#")]
        self.assertIn(["u", "uopd", "-"], [e[:3] for e in entries])

    def test_only_gpu_device_nodes_are_allowed(self):
        self.assertEqual(self.svc("DevicePolicy"), "closed")
        self.assertIsNone(self.svc("PrivateDevices"), "PrivateDevices hides the GPU nodes")
        for path in (UNIT, DROPIN):
            allowed = load(path).all("Service", "DeviceAllow")
            self.assertTrue(allowed, path)
            for entry in allowed:
                node, _, access = entry.partition(" ")
                self.assertRegex(node, GPU_NODE, "%s: %s is not a GPU node" % (path, entry))
                self.assertEqual(access, "rw", "%s: %s (no mknod 'm')" % (path, entry))

    def test_model_repository_is_read_only_and_cache_is_the_writable_dir(self):
        self.assertEqual(self.svc("ProtectSystem"), "strict")
        repo = flag(self.argv, "model-repository")
        self.assertEqual(repo, "/srv/uopd/models")
        read_only = [p.lstrip("-") for v in self.unit.all("Service", "ReadOnlyPaths")
                     for p in v.split()]
        self.assertIn(repo, read_only)
        self.assertEqual(self.unit.all("Service", "ReadWritePaths"), [])
        # poll (or none) only reads the repository; explicit mode would store
        # models submitted over the API in it.
        self.assertIn(flag(self.argv, "model-control-mode"), ("poll", "none"))
        cache = "/var/cache/" + self.svc("CacheDirectory")
        self.assertTrue(flag(self.argv, "kernel-cache-dir").startswith(cache + "/"))
        self.assertEqual(self.svc("ProtectHome"), "yes")
        self.assertEqual(self.svc("PrivateTmp"), "yes")

    def test_process_is_hardened(self):
        self.assertEqual(self.svc("NoNewPrivileges"), "yes")
        self.assertEqual(self.svc("CapabilityBoundingSet"), "")
        self.assertEqual(self.svc("AmbientCapabilities"), "")
        self.assertEqual(self.svc("SystemCallArchitectures"), "native")
        self.assertIn("@system-service", self.unit.all("Service", "SystemCallFilter"))
        # Kernels are compiled at run time and mapped executable.
        self.assertEqual(self.svc("MemoryDenyWriteExecute"), "no")
        families = set(self.svc("RestrictAddressFamilies").split())
        self.assertEqual(families, {"AF_UNIX", "AF_INET", "AF_INET6"})

    def test_readiness_waits_on_the_health_endpoint(self):
        self.assertEqual(self.svc("Type"), "exec")
        post = self.unit.command("ExecStartPost", self.unit.environment())
        self.assertEqual(post[0], "/usr/lib/uopd/uopd-wait-ready")
        self.assertEqual(post[1], flag(self.argv, "http-port"),
                         "the readiness check polls the port uopd serves HTTP on")
        with open(WAIT_READY) as f:
            self.assertIn("/v2/health/ready", f.read())
        start_timeout = int(self.svc("TimeoutStartSec"))
        self.assertGreater(start_timeout, int(post[2]), "systemd must outwait the check")

    def test_stop_is_graceful(self):
        self.assertEqual(self.svc("KillSignal"), "SIGTERM")
        self.assertEqual(self.svc("KillMode"), "mixed")
        drain = int(flag(self.argv, "exit-timeout-secs"))
        self.assertGreater(int(self.svc("TimeoutStopSec")), drain,
                           "SIGKILL must not cut the drain short")


@unittest.skipIf(shutil.which("systemd-analyze") is None,
                 "systemd-analyze missing (./uop deps installs systemd)")
class SystemdAnalyzeTest(unittest.TestCase):
    """`systemd-analyze verify` on an image root holding the unit and the
    files its Exec lines name (it checks they exist and are executable)."""

    def make_root(self, unit_text):
        root = testlib.tmpdir("sdroot")
        for d in ("usr/bin", "usr/lib/uopd", "etc/systemd/system", "usr/lib/systemd"):
            os.makedirs(os.path.join(root, d), exist_ok=True)
        # The distribution's units (targets the unit is wanted by).
        os.symlink("/lib/systemd/system", os.path.join(root, "usr/lib/systemd/system"))
        shutil.copy(testlib.uopd_binary(), os.path.join(root, "usr/bin/uopd"))
        shutil.copy(WAIT_READY, os.path.join(root, "usr/lib/uopd/uopd-wait-ready"))
        with open(os.path.join(root, "etc/systemd/system/uopd.service"), "w") as f:
            f.write(unit_text)
        return root

    def verify(self, unit_text):
        root = self.make_root(unit_text)
        r = subprocess.run(["systemd-analyze", "verify", "--root=" + root, "uopd.service"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           timeout=120)
        return r.returncode, r.stdout

    def test_verify_is_clean(self):
        with open(UNIT) as f:
            rc, out = self.verify(f.read())
        self.assertEqual((rc, out), (0, ""))

    def test_verify_catches_a_broken_unit(self):
        # The check above is only worth something if verify speaks up.
        with open(UNIT) as f:
            broken = f.read().replace("ProtectSystem=strict", "ProtectSytem=strict")
        rc, out = self.verify(broken)
        self.assertIn("Unknown key", out)

    def test_security_exposure_is_low(self):
        with open(UNIT) as f:
            root = self.make_root(f.read())
        r = subprocess.run(["systemd-analyze", "security", "--offline=true", "--root=" + root,
                            "--no-pager", "uopd.service"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           timeout=120)
        level = re.search(r"Overall exposure level for uopd.service: ([\d.]+)", r.stdout)
        self.assertIsNotNone(level, r.stdout)
        self.assertEqual(r.returncode, 0, r.stdout)
        # 0 (locked down) .. 10 (unprotected); a GPU daemon serving the
        # network cannot drop devices or sockets, 2 leaves room for neither.
        self.assertLess(float(level.group(1)), 2.0, r.stdout)


class UnitCommandsTest(unittest.TestCase):
    """The unit's own ExecStart/ExecStartPost with the install paths mapped
    into a scratch directory. In a private network namespace the default
    ports are used as written; without one the unit's $UOPD_ARGS (what
    /etc/default/uopd sets) moves gRPC and metrics off the shared ones."""

    def setUp(self):
        self.unit = load(UNIT)
        self.dir = testlib.tmpdir("unit")
        self.models = testlib.copy_models(os.path.join(self.dir, "models"), ["add", "mlp"])
        self.cache = os.path.join(self.dir, "cache")
        os.makedirs(self.cache)
        overrides = {}
        if os.environ.get("UOP_TEST_NETNS") != "1":
            overrides = {"UOPD_HTTP_PORT": str(free_port()),
                         "UOPD_ARGS": "--address=127.0.0.1 --grpc-port=0 --metrics-port=0"}
        self.env = self.unit.environment(overrides)

    def mapped(self, argv):
        out = []
        for a in argv:
            a = a.replace("/usr/bin/uopd", testlib.uopd_binary())
            a = a.replace("/usr/lib/uopd/uopd-wait-ready", WAIT_READY)
            a = a.replace("/srv/uopd/models", self.models)
            a = a.replace("/var/cache/uopd", self.cache)
            out.append(a)
        return out

    def test_start_waits_for_ready_and_sigterm_stops_cleanly(self):
        start = self.mapped(self.unit.command("ExecStart", self.env))
        post = self.mapped(self.unit.command("ExecStartPost", self.env))
        u = testlib.Uopd(start[1:], exact=True, binary=start[0])
        u.start()
        try:
            # Started right away, like systemd does: it must wait for READY.
            t0 = time.monotonic()
            r = subprocess.run(post, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, timeout=int(self.unit.get("Service", "TimeoutStartSec")))
            self.assertEqual(r.returncode, 0, r.stdout + u.output())
            port = int(self.env["UOPD_HTTP_PORT"])
            self.assertEqual(u.http_port, port)
            self.assertEqual(testlib.http_get(port, "/v2/health/ready")[0], 200)
            for model in ("add", "mlp"):
                self.assertEqual(testlib.http_get(port, "/v2/models/%s/ready" % model)[0], 200)
            self.assertLess(time.monotonic() - t0, 60)
            # The kernel cache is the writable directory the unit gives it.
            self.assertTrue(os.listdir(os.path.join(self.cache, "kernels")))
        finally:
            t0 = time.monotonic()
            rc = u.stop(signal.SIGTERM, timeout=int(self.unit.get("Service", "TimeoutStopSec")))
        self.assertEqual(rc, 0, u.output())
        self.assertIn("uopd: stopped", u.output())

    def test_wait_ready_times_out_on_a_silent_port(self):
        t0 = time.monotonic()
        r = subprocess.run([WAIT_READY, str(free_port()), "1"], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=30)
        self.assertEqual(r.returncode, 1)
        self.assertIn("not ready after 1s", r.stdout)
        self.assertLess(time.monotonic() - t0, 10)

    def test_wait_ready_rejects_a_bad_port(self):
        r = subprocess.run([WAIT_READY, "http"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, timeout=30)
        self.assertEqual(r.returncode, 2)
        self.assertIn("PORT must be a number, got 'http'", r.stdout)


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


if __name__ == "__main__":
    testlib.reexec_in_private_network()
    testlib.main()
