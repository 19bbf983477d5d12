#!/usr/bin/python3
"""uopd's /ui in headless Chromium (Debian's chromium, DevTools protocol):
the page loads with no console errors, shows the loaded models as READY
and the compiled kernels, opens a kernel's generated source, and draws a
timeline from the flight recorder. A screenshot goes to the test's
undeclared outputs (and to $UOP_UI_SCREENSHOT when set, for docs/).
"""
import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import testlib  # noqa: E402
from cdp import Browser, find_chromium  # noqa: E402

LOADGEN = testlib.repo_path("tests/load/loadgen")
if not os.path.exists(LOADGEN):  # run by hand
    LOADGEN = testlib.repo_path("bazel-bin/tests/load/loadgen")


@unittest.skipIf(find_chromium() is None, "chromium missing (./uop deps installs it)")
class WebUiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = testlib.tmpdir("web-ui")
        models = testlib.copy_models(os.path.join(cls.dir, "models"), ["add", "mlp"])
        cls.uopd = testlib.Uopd(["--model-repository=" + models, "--kernel-cache-dir=-"])
        cls.uopd.start()
        try:
            cls.uopd.wait_ready()
            # Recorder on, then traffic: the page has launches and spans to show.
            status, body = testlib.http_get(cls.uopd.http_port, "/ui/api/recording?on=1",
                                            method="POST", body=b"")
            assert status == 200, body
            r = subprocess.run([LOADGEN, "--target=127.0.0.1:%d" % cls.uopd.grpc_port,
                                "--model=mlp", "--concurrency=2", "--seconds=1",
                                "--warmup-seconds=0"], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, timeout=60)
            assert r.returncode == 0, r.stdout
            cls.browser = Browser()
            cls.browser.navigate("http://127.0.0.1:%d/ui" % cls.uopd.http_port)
            assert cls.browser.wait_for("document.body.dataset.loaded === 'true'"), \
                "the page never finished loading its data: %s" % cls.browser.errors
        except BaseException:
            cls.uopd.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.browser.close()
        cls.uopd.stop()

    def rows(self, table):
        return self.browser.evaluate(
            "[...document.querySelectorAll('#%s tbody tr')].map(r => "
            "[...r.cells].map(c => c.textContent))" % table)

    def test_1_models_are_shown_ready(self):
        models = {r[0]: r for r in self.rows("models")}
        self.assertEqual(set(models), {"add", "mlp"})
        self.assertEqual(models["mlp"][2], "READY")
        self.assertIn("x[64] → y[16]", models["mlp"][5])
        self.assertEqual(self.browser.evaluate("document.getElementById('ready').textContent"),
                         "ready")

    def test_2_kernels_and_their_source(self):
        kernels = self.rows("kernels")
        self.assertGreater(len(kernels), 0)
        self.assertTrue(all(k[2] == "CPU:0" for k in kernels))
        measured = [k for k in kernels if k[9]]
        self.assertTrue(measured, "no kernel shows launches from the flight recorder")
        # A kernel that ran (the MLP's): its source and pipeline.
        index = kernels.index(measured[0])
        self.browser.evaluate("document.querySelectorAll('#kernels tbody tr')[%d].click()" % index)
        self.assertTrue(self.browser.wait_for(
            "document.getElementById('kernel-source').textContent.includes('define')"))
        self.assertFalse(self.browser.evaluate("document.getElementById('kernel-detail').hidden"))
        steps = self.browser.evaluate(
            "[...document.querySelectorAll('#kernel-steps summary')].map(s => s.textContent)")
        self.assertGreaterEqual(len(steps), 6, steps)
        self.assertIn("kernel AST (scheduler)", steps[0])
        self.assertIn("lowered (index math, loops)", " ".join(steps))
        # Open the lowered graph, as an operator would (and for the screenshot).
        self.browser.evaluate("document.querySelectorAll('#kernel-steps details')[3].open = true")

    def test_3_devices_and_timeline(self):
        devices = self.rows("devices")
        self.assertEqual(devices[0][0], "CPU:0")
        self.assertTrue(self.browser.wait_for(
            "/busy \\d+\\.\\d% of the last 2 s/.test(document.getElementById('busy').textContent)",
            timeout=10), self.browser.evaluate("document.getElementById('busy').textContent"))
        self.browser.evaluate("document.getElementById('load-trace').click()")
        self.assertTrue(self.browser.wait_for(
            "/^[1-9]\\d* spans/.test(document.getElementById('timeline-info').textContent)"),
            self.browser.evaluate("document.getElementById('timeline-info').textContent"))
        href = self.browser.evaluate("document.getElementById('dl-perfetto').href")
        self.assertIn("/ui/api/trace?format=perfetto&download=1", href)
        self.assertTrue(self.rows("recent"))

    def test_4_no_console_errors_and_a_screenshot(self):
        self.browser.pump(2.5)  # one more refresh cycle
        self.assertEqual(self.browser.errors, [])
        png = self.browser.screenshot()
        self.assertEqual(png[:8], b"\x89PNG\r\n\x1a\n")
        for path in (os.path.join(os.environ.get("TEST_UNDECLARED_OUTPUTS_DIR", self.dir),
                                  "ui.png"), os.environ.get("UOP_UI_SCREENSHOT")):
            if path:
                with open(path, "wb") as f:
                    f.write(png)


if __name__ == "__main__":
    testlib.main()
