"""Helpers the deploy/ tests share: paths inside Bazel's runfiles, the real
uopd as a child process, a private network namespace for fixed ports, plain
HTTP, and a unittest main that writes JUnit XML where Bazel asks for it
(XML_OUTPUT_FILE), so every test case is counted on its own.

    import testlib
    class MyTest(unittest.TestCase):
        def test_something(self):
            with testlib.Uopd(["--model-repository=" + repo]) as u:
                u.wait_ready()
                status, body = testlib.http_get(u.http_port, "/v2/health/ready")
    if __name__ == "__main__":
        testlib.main()

Standard library only (plus python3-yaml where a test imports it): the
tests run under Debian's /usr/bin/python3.
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET

_LISTENING = re.compile(r"uopd: listening grpc=\S*:(\d+) http=\S*:(\d+) metrics=\S*:(\d+)")


def repo_path(path):
    """`path` (relative to the repository root) in the test's runfiles, or
    in the source tree when run by hand."""
    srcdir = os.environ.get("TEST_SRCDIR")
    if srcdir:
        return os.path.join(srcdir, os.environ.get("TEST_WORKSPACE", "uop"), path)
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.join(os.path.dirname(os.path.dirname(here)), path)


def uopd_binary():
    """The uopd built by Bazel (a data dependency of every test using it)."""
    path = repo_path("server/uopd")
    if not os.path.exists(path):  # run by hand: the bazel-bin copy
        path = repo_path("bazel-bin/server/uopd")
    return path


def tmpdir(name):
    base = os.environ.get("TEST_TMPDIR") or "/tmp"
    path = os.path.join(base, name)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


def copy_models(dest, names=None):
    """A copy of examples/models (only `names`, when given) at `dest`."""
    src = repo_path("examples/models")
    for name in sorted(os.listdir(src)):
        if names is not None and name not in names:
            continue
        if os.path.isdir(os.path.join(src, name)):
            shutil.copytree(os.path.join(src, name), os.path.join(dest, name))
    return dest


def http_get(port, path, timeout=10, method="GET", body=None, headers=None):
    """(status, body bytes) of one request to 127.0.0.1:`port`; status 0
    when nothing answered."""
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), data=body,
                                 method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except (urllib.error.URLError, ConnectionError, socket.timeout):
        return 0, b""


def wait_until(predicate, timeout, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


class Uopd:
    """The real uopd as a child process. `argv` is the whole command line
    after the binary unless `exact` is False, in which case loopback
    addresses and kernel-chosen ports come first (the flags in `argv` may
    override them)."""

    def __init__(self, argv, exact=False, binary=None, env=None):
        self.binary = binary or uopd_binary()
        prefix = [] if exact else ["--address=127.0.0.1", "--grpc-port=0", "--http-port=0",
                                   "--metrics-port=0"]
        self.argv = [self.binary] + prefix + list(argv)
        self.env = env
        self.proc = None
        self.lines = []
        self.grpc_port = self.http_port = self.metrics_port = 0
        self._cv = threading.Condition()

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self, timeout=60):
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     env=self.env, text=True)
        threading.Thread(target=self._read, daemon=True).start()
        if not self._wait_line(lambda l: _LISTENING.search(l), timeout):
            raise AssertionError("uopd did not start listening:\n" + self.output())
        m = next(_LISTENING.search(l) for l in self.lines if _LISTENING.search(l))
        self.grpc_port, self.http_port, self.metrics_port = (int(g) for g in m.groups())

    def _read(self):
        for line in self.proc.stdout:
            with self._cv:
                self.lines.append(line.rstrip("\n"))
                self._cv.notify_all()
        with self._cv:
            self._cv.notify_all()

    def _wait_line(self, match, timeout):
        deadline = time.monotonic() + timeout
        with self._cv:
            while True:
                if any(match(l) for l in self.lines):
                    return True
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    return any(match(l) for l in self.lines)
                self._cv.wait(min(left, 0.2))

    def wait_ready(self, timeout=120):
        """Until uopd printed "uopd: ready"; fails with its output otherwise."""
        if not self._wait_line(lambda l: l == "uopd: ready", timeout):
            raise AssertionError("uopd did not become ready:\n" + self.output())

    def output(self):
        with self._cv:
            return "\n".join(self.lines)

    def stop(self, sig=signal.SIGTERM, timeout=60):
        """Sends `sig` and returns the exit status (killing it after `timeout`)."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("uopd did not exit within %ss of %s:\n%s" %
                                 (timeout, sig.name, self.output()))


def _namespace_setup(private_mnt):
    setup = "ip link set lo up"
    if private_mnt:
        setup += " && mount -t tmpfs uop-test /mnt"
    return setup


def private_network_available(private_mnt=False):
    """True when `unshare -rn` works here (a user + network namespace; with
    `private_mnt`, a mount namespace with a scratch tmpfs on /mnt too)."""
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return False
    flags = "-rnm" if private_mnt else "-rn"
    try:
        return subprocess.run(["unshare", flags, "sh", "-c", _namespace_setup(private_mnt)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def reexec_in_private_network(private_mnt=False):
    """Runs this test again inside its own network namespace (loopback up),
    so fixed ports (8080, 9000, 8000-8002) are free whatever else runs on
    the machine; with `private_mnt`, /mnt is an empty tmpfs of its own
    (KServe's /mnt/models can then exist as written). Returns True inside
    the namespace, False (doing nothing) when namespaces are not available
    or UOP_TEST_NETNS=0; never returns otherwise."""
    if os.environ.get("UOP_TEST_NETNS") == "1":
        return True
    # UOP_TEST_NETNS=0 runs on the host's network (to test that path).
    if os.environ.get("UOP_TEST_NETNS") == "0" or not private_network_available(private_mnt):
        return False
    env = dict(os.environ, UOP_TEST_NETNS="1")
    cmd = ["unshare", "-rnm" if private_mnt else "-rn", "sh", "-c",
           _namespace_setup(private_mnt) + ' && exec "$@"', "sh",
           sys.executable, os.path.abspath(sys.argv[0])] + sys.argv[1:]
    os.execvpe("unshare", cmd, env)


def in_private_network():
    return os.environ.get("UOP_TEST_NETNS") == "1"


class _Result(unittest.TextTestResult):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.cases = []  # (test id, outcome, message, seconds)
        self._start = 0.0

    def startTest(self, test):
        self._start = time.monotonic()
        super().startTest(test)

    def _record(self, test, outcome, message=""):
        self.cases.append((test.id(), outcome, message, time.monotonic() - self._start))

    def addSuccess(self, test):
        super().addSuccess(test)
        self._record(test, "pass")

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._record(test, "failure", self._exc_info_to_string(err, test))

    def addError(self, test, err):
        super().addError(test, err)
        self._record(test, "error", self._exc_info_to_string(err, test))

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:  # the test itself then gets no addSuccess
            outcome = "failure" if issubclass(err[0], test.failureException) else "error"
            self._record(test, outcome, "%s: %s" % (subtest.id(),
                                                    self._exc_info_to_string(err, test)))

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._record(test, "skipped", reason)


def _write_junit(path, result):
    suites = ET.Element("testsuites")
    suite = ET.SubElement(suites, "testsuite", name=os.path.basename(sys.argv[0]),
                          tests=str(len(result.cases)),
                          failures=str(len(result.failures)), errors=str(len(result.errors)))
    for test_id, outcome, message, seconds in result.cases:
        cls, _, name = test_id.rpartition(".")
        case = ET.SubElement(suite, "testcase", name=name, classname=cls,
                             time="%.3f" % seconds, status="run")
        if outcome in ("failure", "error"):
            ET.SubElement(case, outcome, message=message.splitlines()[-1][:200]).text = message
        elif outcome == "skipped":
            ET.SubElement(case, "skipped", message=message)
    ET.ElementTree(suites).write(path, encoding="utf-8", xml_declaration=True)


def main():
    """unittest.main with a JUnit XML report in $XML_OUTPUT_FILE."""
    test_filter = [a for a in sys.argv[1:] if not a.startswith("-")]
    loader = unittest.TestLoader()
    module = sys.modules["__main__"]
    suite = (loader.loadTestsFromNames(test_filter, module) if test_filter
             else loader.loadTestsFromModule(module))
    runner = unittest.TextTestRunner(resultclass=_Result, verbosity=2, stream=sys.stderr)
    result = runner.run(suite)
    out = os.environ.get("XML_OUTPUT_FILE")
    if out:
        _write_junit(out, result)
    if result.testsRun == 0:
        print("no test ran", file=sys.stderr)
        sys.exit(1)
    sys.exit(0 if result.wasSuccessful() else 1)


_EXPORTED = None


def grpc_call(port, method, request=b""):
    """One unary KServe v2 call with serialized `request` bytes (no stubs
    needed: e.g. ServerLive takes an empty message)."""
    import grpc  # python3-grpcio
    with grpc.insecure_channel("127.0.0.1:%d" % port) as channel:
        call = channel.unary_unary("/inference.GRPCInferenceService/" + method,
                                   request_serializer=lambda b: b,
                                   response_deserializer=lambda b: b)
        return call(request, timeout=10)


def add_infer_body():
    """A KServe v2 JSON inference request for examples/models/add."""
    import json
    return json.dumps({"inputs": [
        {"name": "A", "shape": [4], "datatype": "FP32", "data": [1, 2, 3, 4]},
        {"name": "B", "shape": [4], "datatype": "FP32", "data": [10, 20, 30, 40]}]}).encode()


def exported_metric_names():
    """Every metric name a real uopd exposes once it has served requests
    (families and their _bucket/_sum/_count samples): what rules, alerts,
    dashboards and the HPA may use. Started once per test process."""
    global _EXPORTED
    if _EXPORTED is not None:
        return _EXPORTED
    models = copy_models(tmpdir("exported-models"), ["add", "mlp"])
    with Uopd(["--model-repository=" + models, "--kernel-cache-dir=-"]) as u:
        u.wait_ready()
        grpc_call(u.grpc_port, "ServerLive")
        status, body = http_get(u.http_port, "/v2/models/add/infer", method="POST",
                                body=add_infer_body(),
                                headers={"Content-Type": "application/json"})
        if status != 200:
            raise AssertionError("inference failed: %d %s" % (status, body))
        status, text = http_get(u.metrics_port, "/metrics")
    names = set()
    for line in text.decode().splitlines():
        if line.startswith("# TYPE "):
            names.add(line.split()[2])
        elif line and not line.startswith("#"):
            names.add(re.split(r"[{ ]", line, 1)[0])
    _EXPORTED = names
    return names
