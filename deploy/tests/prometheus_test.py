#!/usr/bin/python3
"""deploy/prometheus: promtool accepts the scrape config and the rules, the
rule unit tests fire every alert (and a rule change that breaks an alert
fails them), and every series a rule reads is one uopd really exports.
"""
import os
import re
import shutil
import subprocess
import sys
import unittest

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import testlib  # noqa: E402
from promql import metric_names  # noqa: E402

PROM = testlib.repo_path("deploy/prometheus")
RULES = os.path.join(PROM, "uopd.rules.yml")
ALERTS = {"UopdDown", "UopdHighErrorRatio", "UopdP99LatencyHigh", "UopdQueueGrowing",
          "UopdDeviceMemoryPressure", "UopdModelNotReady", "UopdDeadlineMisses"}


def promtool(*args, cwd=None):
    r = subprocess.run(["promtool"] + list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=120, cwd=cwd)
    return r.returncode, r.stdout


def rules():
    with open(RULES) as f:
        return [r for g in yaml.safe_load(f)["groups"] for r in g["rules"]]


@unittest.skipIf(shutil.which("promtool") is None,
                 "promtool missing (./uop deps installs Debian's prometheus)")
class PromtoolTest(unittest.TestCase):
    def test_check_config(self):
        rc, out = promtool("check", "config", os.path.join(PROM, "prometheus.yml"))
        self.assertEqual(rc, 0, out)
        self.assertIn("1 rule files found", out)

    def test_check_rules(self):
        rc, out = promtool("check", "rules", RULES)
        self.assertEqual(rc, 0, out)

    def test_rule_unit_tests_pass(self):
        rc, out = promtool("test", "rules", os.path.join(PROM, "uopd.rules.test.yml"))
        self.assertEqual(rc, 0, out)
        self.assertIn("SUCCESS", out)

    def test_every_alert_has_a_firing_unit_test(self):
        with open(os.path.join(PROM, "uopd.rules.test.yml")) as f:
            tests = yaml.safe_load(f)["tests"]
        fired = {t["alertname"] for case in tests for t in case.get("alert_rule_test", [])
                 if t.get("exp_alerts")}
        self.assertEqual(fired, ALERTS)
        self.assertEqual({r["alert"] for r in rules() if "alert" in r}, ALERTS)

    def test_unit_tests_fail_when_an_alert_breaks(self):
        # Each alert's threshold raised out of reach: its unit test must fail.
        scratch = testlib.tmpdir("broken-rules")
        with open(RULES) as f:
            text = f.read()
        with open(os.path.join(PROM, "uopd.rules.test.yml")) as f:
            tests = f.read()
        cases = {"UopdHighErrorRatio": ("> 0.05", "> 0.5"),
                 "UopdModelNotReady": ("uop_model_ready == 0", "uop_model_ready == 2"),
                 "UopdDeviceMemoryPressure": ("ratio > 0.9", "ratio > 0.99")}
        for alert, (old, new) in cases.items():
            self.assertIn(old, text, alert)
            with open(os.path.join(scratch, "uopd.rules.yml"), "w") as f:
                f.write(text.replace(old, new))
            with open(os.path.join(scratch, "t.yml"), "w") as f:
                f.write(tests)
            rc, out = promtool("test", "rules", "t.yml", cwd=scratch)
            self.assertNotEqual(rc, 0, alert)
            self.assertIn(alert, out)


class MetricNamesTest(unittest.TestCase):
    def test_rules_read_only_series_uopd_exports(self):
        exported = testlib.exported_metric_names() | {"up"}
        used = set()
        for r in rules():
            used |= metric_names(r["expr"])
        self.assertTrue(used)
        self.assertEqual(used - exported, set())

    def test_extractor_finds_names_and_skips_labels_and_functions(self):
        self.assertEqual(
            metric_names('histogram_quantile(0.99, sum by (model, le) '
                         '(rate(uop_x_bucket{model=~"a|b"}[5m]))) / ignoring (kind) '
                         'uop_y{kind="total"} and on (instance) up == 0'),
            {"uop_x_bucket", "uop_y", "up"})


if __name__ == "__main__":
    testlib.main()
