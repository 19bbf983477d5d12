#!/usr/bin/python3
"""The Grafana dashboard and the Prometheus rules against real data: uopd
serves examples/models under load (loadgen over gRPC with dynamic batching,
plus HTTP requests), Debian's Prometheus scrapes it every second on loopback
with deploy/prometheus's rules loaded, and then every panel query (Grafana
variables set to "all") must succeed and return at least one series, and
every rule expression must evaluate without error.
"""
import json
import os
import shutil
import subprocess
import sys
import time
import unittest
import urllib.parse

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import testlib  # noqa: E402

DASHBOARD = testlib.repo_path("deploy/grafana/uopd-dashboard.json")
RULES = testlib.repo_path("deploy/prometheus/uopd.rules.yml")
LOADGEN = testlib.repo_path("tests/load/loadgen")
if not os.path.exists(LOADGEN):  # run by hand
    LOADGEN = testlib.repo_path("bazel-bin/tests/load/loadgen")
PROMETHEUS = shutil.which("prometheus")


def grafana_to_promql(expr):
    """What Grafana sends for the dashboard's variables set to "All"."""
    return (expr.replace("${datasource}", "")
            .replace("$__rate_interval", "15s").replace("$__interval", "5s")
            .replace("$instance", ".*").replace("$model", ".*"))


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@unittest.skipIf(PROMETHEUS is None, "prometheus missing (./uop deps installs it)")
class DashboardQueriesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = testlib.tmpdir("dashboard-queries")
        models = testlib.copy_models(os.path.join(cls.dir, "models"), ["add", "mlp"])
        cls.uopd = testlib.Uopd(["--model-repository=" + models,
                                 "--kernel-cache-dir=" + os.path.join(cls.dir, "kernels")])
        cls.uopd.start()
        cls.prometheus = None
        try:
            cls.uopd.wait_ready()
            cls.port = 9090 if testlib.in_private_network() else free_port()
            config = {
                "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                "rule_files": [RULES],
                "scrape_configs": [{"job_name": "uopd", "static_configs": [
                    {"targets": ["127.0.0.1:%d" % cls.uopd.metrics_port]}]}],
            }
            with open(os.path.join(cls.dir, "prometheus.yml"), "w") as f:
                yaml.safe_dump(config, f)
            cls.prometheus_log = open(os.path.join(cls.dir, "prometheus.log"), "w")
            cls.prometheus = subprocess.Popen(
                [PROMETHEUS, "--config.file=" + os.path.join(cls.dir, "prometheus.yml"),
                 "--storage.tsdb.path=" + os.path.join(cls.dir, "data"),
                 "--web.listen-address=127.0.0.1:%d" % cls.port],
                stdout=cls.prometheus_log, stderr=subprocess.STDOUT)
            cls.load()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.prometheus is not None and cls.prometheus.poll() is None:
            cls.prometheus.terminate()
            cls.prometheus.wait(30)
        cls.uopd.stop()

    @classmethod
    def load(cls):
        """Waits for Prometheus to scrape uopd, then 6 s of load so every
        rate() window holds several scrapes of busy counters."""
        def scraped():
            r = cls.query("uop_build_info")
            return r is not None and r["data"]["result"]
        if not testlib.wait_until(scraped, 60, 0.25):
            with open(os.path.join(cls.dir, "prometheus.log")) as f:
                raise AssertionError("Prometheus never scraped uopd:\n" + f.read()[-3000:])
        for _ in range(20):
            status, body = testlib.http_get(cls.uopd.http_port, "/v2/models/add/infer",
                                            method="POST", body=testlib.add_infer_body(),
                                            headers={"Content-Type": "application/json"})
            assert status == 200, body
        r = subprocess.run([LOADGEN, "--target=127.0.0.1:%d" % cls.uopd.grpc_port, "--model=mlp",
                            "--concurrency=4", "--seconds=6", "--warmup-seconds=0"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           timeout=120)
        assert r.returncode == 0, r.stdout
        cls.loadgen_summary = r.stdout.strip()
        time.sleep(2)  # the last scrapes after the load

    @classmethod
    def query(cls, expr):
        status, body = testlib.http_get(
            cls.port, "/api/v1/query?" + urllib.parse.urlencode({"query": expr}))
        if status == 0:
            return None
        return json.loads(body)

    def check(self, title, expr, need_series=True):
        r = self.query(expr)
        self.assertIsNotNone(r, "Prometheus did not answer")
        self.assertEqual(r.get("status"), "success", "%s: %s\n%s" % (title, expr, r))
        if need_series:
            self.assertTrue(r["data"]["result"], "%s returned no series: %s\n(load: %s)" % (
                title, expr, self.loadgen_summary))
        return r["data"]["result"]

    def test_every_panel_query_returns_series(self):
        with open(DASHBOARD) as f:
            dashboard = json.load(f)
        checked = 0
        for panel in dashboard["panels"]:
            for target in panel.get("targets", []):
                with self.subTest(panel=panel["title"], ref=target["refId"]):
                    self.check(panel["title"], grafana_to_promql(target["expr"]))
                    checked += 1
        self.assertGreaterEqual(checked, 20)

    def test_dashboard_variables_find_values(self):
        with open(DASHBOARD) as f:
            variables = json.load(f)["templating"]["list"][1:]
        for v in variables:
            selector = grafana_to_promql(v["definition"])[len("label_values("):].rsplit(",", 1)[0]
            self.check(v["name"], selector)

    def test_load_shows_up_in_the_numbers(self):
        [mlp] = self.check("mlp requests", 'sum(nv_inference_request_success{model="mlp"})')
        self.assertGreater(float(mlp["value"][1]), 100)
        [batch] = self.check("mlp mean batch", 'sum(rate(uop_inference_batch_size_sum{model="mlp"}[1m])) / sum(rate(uop_inference_batch_size_count{model="mlp"}[1m]))')
        self.assertGreaterEqual(float(batch["value"][1]), 1)

    def test_every_rule_evaluates_on_real_data(self):
        with open(RULES) as f:
            rules = [r for g in yaml.safe_load(f)["groups"] for r in g["rules"]]
        for rule in rules:
            name = rule.get("record") or rule.get("alert")
            with self.subTest(rule=name):
                # Alerts stay quiet on a healthy server; recording rules
                # produce series for every model.
                result = self.check(name, rule["expr"], need_series=False)
                if "alert" in rule:
                    self.assertEqual(result, [], "%s fires on a healthy uopd" % name)
        def recorded():
            r = self.query("model:nv_inference_request_success:rate5m")
            return r is not None and len(r["data"]["result"]) >= 2
        self.assertTrue(testlib.wait_until(recorded, 10, 0.5),
                        "recording rules did not produce per-model series")


if __name__ == "__main__":
    testlib.reexec_in_private_network()
    testlib.main()
