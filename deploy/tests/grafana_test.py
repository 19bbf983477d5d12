#!/usr/bin/python3
"""deploy/grafana: the dashboard is well-formed Grafana JSON (unique ids,
panels that do not overlap, every query on the templated Prometheus data
source, only defined variables), it covers what operators asked for, and
every series its queries read is one a real uopd exports.
"""
import json
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import testlib  # noqa: E402
from promql import metric_names  # noqa: E402

DASHBOARD = testlib.repo_path("deploy/grafana/uopd-dashboard.json")
GRAFANA_VARIABLES = {"__rate_interval", "__interval", "__range"}


def load():
    with open(DASHBOARD) as f:
        return json.load(f)


def queries(dashboard):
    """(panel title, expr) of every query of every panel."""
    return [(p["title"], t["expr"]) for p in dashboard["panels"] for t in p.get("targets", [])]


class DashboardTest(unittest.TestCase):
    def setUp(self):
        self.d = load()
        self.panels = [p for p in self.d["panels"] if p["type"] != "row"]

    def test_identity_and_schema_basics(self):
        self.assertEqual(self.d["uid"], "uopd-overview")
        self.assertGreaterEqual(self.d["schemaVersion"], 36)
        ids = [p["id"] for p in self.d["panels"]]
        self.assertEqual(len(ids), len(set(ids)), "panel ids must be unique")
        for p in self.panels:
            self.assertIn(p["type"], ("timeseries", "stat"), p["title"])
            self.assertTrue(p.get("description"), p["title"] + " needs a description")
            self.assertTrue(p["targets"], p["title"])
            for t in p["targets"]:
                self.assertEqual(t["datasource"], {"type": "prometheus", "uid": "${datasource}"})
                self.assertTrue(t["refId"] and t["expr"], p["title"])

    def test_panels_fit_the_grid_without_overlapping(self):
        cells = {}
        for p in self.d["panels"]:
            g = p["gridPos"]
            self.assertLessEqual(g["x"] + g["w"], 24, p["title"])
            for x in range(g["x"], g["x"] + g["w"]):
                for y in range(g["y"], g["y"] + g["h"]):
                    self.assertNotIn((x, y), cells, "%s overlaps %s" % (p["title"],
                                                                        cells.get((x, y))))
                    cells[(x, y)] = p["title"]

    def test_queries_use_only_defined_variables(self):
        defined = {v["name"] for v in self.d["templating"]["list"]} | GRAFANA_VARIABLES
        self.assertEqual(self.d["templating"]["list"][0]["type"], "datasource")
        for title, expr in queries(self.d):
            for var in re.findall(r"\$\{?(\w+)", expr):
                self.assertIn(var, defined, "%s: $%s" % (title, var))

    def test_covers_what_operators_asked_for(self):
        used = set()
        for _, expr in queries(self.d):
            used |= metric_names(expr)
        wanted = {
            "request rate and errors": {"nv_inference_request_success",
                                        "nv_inference_request_failure"},
            "latency quantiles": {"uop_inference_request_duration_seconds_bucket"},
            "queue vs compute time": {"uop_inference_queue_duration_seconds_sum",
                                      "uop_inference_compute_duration_seconds_sum"},
            "batch sizes": {"uop_inference_batch_size_bucket"},
            "compile time and cache hits": {"uop_model_load_duration_seconds",
                                            "uop_kernel_cache_hits_total",
                                            "uop_kernel_compiles_total"},
            "device utilization and memory": {"uop_device_busy_seconds_total",
                                              "uop_device_memory_bytes"},
        }
        for topic, names in wanted.items():
            self.assertLessEqual(names, used, topic)

    def test_every_query_reads_series_uopd_exports(self):
        exported = testlib.exported_metric_names()
        for title, expr in queries(self.d):
            names = metric_names(expr)
            self.assertTrue(names, title)
            self.assertEqual(names - exported, set(), title)
        for v in self.d["templating"]["list"][1:]:
            # label_values(<series selector>, <label>): the label is no series.
            selector = re.fullmatch(r"label_values\((.*),\s*\w+\)", v["definition"]).group(1)
            self.assertEqual(metric_names(selector) - exported, set(), v["name"])


if __name__ == "__main__":
    testlib.main()
