#!/usr/bin/python3
"""deploy/k8s: the manifests are valid Kubernetes objects (field names and
types checked against python3-kubernetes' OpenAPI models; kustomize builds
them), they agree with each other and with uopd (probes on the KServe v2
health endpoints, ports that uopd listens on, GPUs requested, HPA on a
metric uopd exports), and the real uopd starts with exactly the command
lines the Deployment and the KServe ServingRuntime give it.

`kubectl apply --dry-run=client` cannot run here: it asks an API server for
the resource list even in client mode, and the tests run offline.
"""
import json
import os
import shutil
import subprocess
import sys
import unittest

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import testlib  # noqa: E402

K8S = testlib.repo_path("deploy/k8s")
KSERVE = os.path.join(K8S, "kserve")

try:
    import kubernetes.client as k8s_models
except ImportError:  # python3-kubernetes comes with ./uop deps
    k8s_models = None

# apiVersion/kind -> python3-kubernetes model. autoscaling/v2 is v2beta2's
# schema promoted unchanged (Kubernetes 1.23); the Debian package predates it.
MODELS = {
    ("v1", "Namespace"): "V1Namespace",
    ("v1", "Service"): "V1Service",
    ("v1", "ConfigMap"): "V1ConfigMap",
    ("apps/v1", "Deployment"): "V1Deployment",
    ("autoscaling/v2", "HorizontalPodAutoscaler"): "V2beta2HorizontalPodAutoscaler",
}


def load_docs(*paths):
    docs = []
    for path in paths:
        with open(path) as f:
            for doc in yaml.safe_load_all(f):
                if doc is not None:
                    docs.append(doc)
    return docs


def manifests(directory):
    """The documents of every resource a kustomization.yaml lists."""
    with open(os.path.join(directory, "kustomization.yaml")) as f:
        kustomization = yaml.safe_load(f)
    return load_docs(*(os.path.join(directory, r) for r in kustomization["resources"]))


def by_kind(docs, kind):
    found = [d for d in docs if d.get("kind") == kind]
    if len(found) != 1:
        raise AssertionError("expected one %s, found %d" % (kind, len(found)))
    return found[0]


def schema_errors(data, type_name, path="$"):
    """Fields of `data` that the OpenAPI model `type_name` does not have, or
    whose JSON type is wrong. Lists every problem, not just the first."""
    errors = []
    if type_name.startswith("list["):
        if not isinstance(data, list):
            return ["%s: expected a list, got %r" % (path, data)]
        for i, item in enumerate(data):
            errors += schema_errors(item, type_name[5:-1], "%s[%d]" % (path, i))
        return errors
    if type_name.startswith("dict("):
        if not isinstance(data, dict):
            return ["%s: expected a map, got %r" % (path, data)]
        inner = type_name[5:-1].split(", ", 1)[1]
        for k, v in data.items():
            errors += schema_errors(v, inner, "%s.%s" % (path, k))
        return errors
    scalar = {"str": (str,), "int": (int,), "bool": (bool,), "float": (int, float)}
    if type_name in scalar:
        ok = isinstance(data, scalar[type_name]) and not (
            type_name == "int" and isinstance(data, bool))
        return [] if ok else ["%s: expected %s, got %r" % (path, type_name, data)]
    if type_name in ("object", "datetime"):  # IntOrString, quantities, free-form
        return []
    model = getattr(k8s_models, type_name)
    if not isinstance(data, dict):
        return ["%s: expected a %s object, got %r" % (path, type_name, data)]
    by_json = {json_name: attr for attr, json_name in model.attribute_map.items()}
    for key, value in data.items():
        if key not in by_json:
            errors.append("%s: %s has no field '%s'" % (path, type_name, key))
            continue
        errors += schema_errors(value, model.openapi_types[by_json[key]], "%s.%s" % (path, key))
    return errors


def required_errors(data, type_name):
    """Deserializing through the generated client raises for a missing
    required field (the models validate their constructors)."""
    client = k8s_models.ApiClient()
    try:
        client._ApiClient__deserialize(data, type_name)
    except ValueError as e:
        return [str(e)]
    return []


class SchemaTest(unittest.TestCase):
    def test_every_document_has_identity(self):
        for doc in manifests(K8S) + manifests(KSERVE):
            self.assertTrue(doc.get("apiVersion") and doc.get("kind"), doc)
            self.assertTrue(doc.get("metadata", {}).get("name"), doc)

    @unittest.skipIf(k8s_models is None, "python3-kubernetes missing (./uop deps installs it)")
    def test_core_objects_match_the_kubernetes_schema(self):
        checked = 0
        for doc in manifests(K8S):
            model = MODELS.get((doc["apiVersion"], doc["kind"]))
            if model is None:
                continue  # CRDs (ServiceMonitor) are checked structurally below
            self.assertEqual(schema_errors(doc, model) + required_errors(doc, model), [],
                             "%s/%s" % (doc["kind"], doc["metadata"]["name"]))
            checked += 1
        self.assertEqual(checked, 5)

    @unittest.skipIf(k8s_models is None, "python3-kubernetes missing (./uop deps installs it)")
    def test_schema_check_catches_mistakes(self):
        deployment = by_kind(manifests(K8S), "Deployment")
        broken = json.loads(json.dumps(deployment))
        probe = broken["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]
        probe["httpGet"]["paht"] = probe["httpGet"].pop("path")
        broken["spec"]["replicas"] = "one"
        errors = schema_errors(broken, "V1Deployment")
        self.assertEqual(len(errors), 2, errors)
        self.assertIn("has no field 'paht'", errors[0] + errors[1])
        del broken["spec"]["selector"]
        self.assertTrue(required_errors(broken, "V1Deployment"))

    def test_servingruntime_and_inferenceservice_fields(self):
        docs = manifests(KSERVE)
        runtime = by_kind(docs, "ServingRuntime")
        self.assertEqual(runtime["apiVersion"], "serving.kserve.io/v1alpha1")
        spec = runtime["spec"]
        self.assertLessEqual(set(spec), {"annotations", "supportedModelFormats",
                                         "protocolVersions", "containers", "multiModel",
                                         "disabled", "volumes", "nodeSelector", "tolerations"})
        self.assertIn({"name": "onnx", "version": "1", "autoSelect": True, "priority": 1},
                      spec["supportedModelFormats"])
        self.assertEqual(spec["protocolVersions"], ["v2", "grpc-v2"])
        [container] = spec["containers"]
        self.assertEqual(container["name"], "kserve-container")
        self.assertEqual(spec["annotations"]["prometheus.kserve.io/port"],
                         flag(container["args"], "metrics-port"))

        isvc = by_kind(docs, "InferenceService")
        self.assertEqual(isvc["apiVersion"], "serving.kserve.io/v1beta1")
        model = isvc["spec"]["predictor"]["model"]
        self.assertEqual(model["runtime"], runtime["metadata"]["name"])
        self.assertIn(model["modelFormat"]["name"],
                      [f["name"] for f in spec["supportedModelFormats"]])
        self.assertEqual(model["protocolVersion"], "v2")
        self.assertEqual(model["resources"]["limits"]["nvidia.com/gpu"], "1")

    @unittest.skipIf(shutil.which("kubectl") is None, "kubectl missing")
    def test_kustomize_builds_both_overlays(self):
        # kustomize does not follow the symlinks of Bazel's runfiles: a copy.
        scratch = os.path.join(testlib.tmpdir("kustomize"), "k8s")
        shutil.copytree(K8S, scratch, symlinks=False)
        for directory, kinds in ((scratch, {"Namespace", "Deployment", "Service", "ServiceMonitor",
                                        "HorizontalPodAutoscaler", "ConfigMap"}),
                                 (os.path.join(scratch, "kserve"),
                                  {"ServingRuntime", "InferenceService"})):
            r = subprocess.run(["kubectl", "kustomize", directory], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, timeout=120)
            self.assertEqual(r.returncode, 0, r.stderr)
            built = [d for d in yaml.safe_load_all(r.stdout) if d]
            self.assertEqual({d["kind"] for d in built}, kinds)
            for d in built:
                if d["kind"] != "Namespace":
                    self.assertEqual(d["metadata"].get("namespace"), "uop", d["kind"])


def flag(argv, name):
    prefix = "--%s=" % name
    values = [a[len(prefix):] for a in argv if a.startswith(prefix)]
    return values[-1] if values else None


class ConsistencyTest(unittest.TestCase):
    def setUp(self):
        docs = manifests(K8S)
        self.deployment = by_kind(docs, "Deployment")
        self.pod = self.deployment["spec"]["template"]["spec"]
        [self.container] = self.pod["containers"]
        self.service = by_kind(docs, "Service")
        self.monitor = by_kind(docs, "ServiceMonitor")
        self.hpa = by_kind(docs, "HorizontalPodAutoscaler")
        self.adapter = by_kind(docs, "ConfigMap")
        self.ports = {p["name"]: p["containerPort"] for p in self.container["ports"]}

    def test_ports_are_the_ones_uopd_is_told_to_use(self):
        args = self.container["args"]
        self.assertEqual(self.ports, {"http": int(flag(args, "http-port")),
                                      "grpc": int(flag(args, "grpc-port")),
                                      "metrics": int(flag(args, "metrics-port"))})
        for p in self.service["spec"]["ports"]:
            self.assertIn(p["targetPort"], self.ports)
        selector = self.service["spec"]["selector"]
        labels = self.deployment["spec"]["template"]["metadata"]["labels"]
        self.assertLessEqual(selector.items(), labels.items())

    def test_probes_use_the_kserve_health_endpoints(self):
        c = self.container
        self.assertEqual(c["readinessProbe"]["httpGet"]["path"], "/v2/health/ready")
        self.assertEqual(c["livenessProbe"]["httpGet"]["path"], "/v2/health/live")
        self.assertEqual(c["startupProbe"]["httpGet"]["path"], "/v2/health/live")
        for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
            self.assertEqual(c[probe]["httpGet"]["port"], "http", probe)

    def test_resources_request_a_gpu_and_the_sandbox_is_tight(self):
        res = self.container["resources"]
        self.assertEqual(res["requests"]["nvidia.com/gpu"], res["limits"]["nvidia.com/gpu"])
        self.assertIn("cpu", res["requests"])
        self.assertIn("memory", res["requests"])
        sc = self.container["securityContext"]
        self.assertIs(sc["readOnlyRootFilesystem"], True)
        self.assertIs(sc["allowPrivilegeEscalation"], False)
        self.assertEqual(sc["capabilities"]["drop"], ["ALL"])
        self.assertIs(self.pod["securityContext"]["runAsNonRoot"], True)
        mounts = {m["mountPath"]: m for m in self.container["volumeMounts"]}
        self.assertIs(mounts[flag(self.container["args"], "model-repository")]["readOnly"], True)
        cache = flag(self.container["args"], "kernel-cache-dir")
        self.assertTrue(any(cache.startswith(p + "/") and not m.get("readOnly")
                            for p, m in mounts.items()), "the kernel cache must be writable")

    def test_grace_period_outlasts_the_drain(self):
        drain = int(flag(self.container["args"], "exit-timeout-secs"))
        self.assertGreater(self.pod["terminationGracePeriodSeconds"], drain)

    def test_servicemonitor_scrapes_the_metrics_port(self):
        spec = self.monitor["spec"]
        self.assertLessEqual(spec["selector"]["matchLabels"].items(),
                             self.service["metadata"]["labels"].items())
        [endpoint] = spec["endpoints"]
        self.assertIn(endpoint["port"], [p["name"] for p in self.service["spec"]["ports"]])
        self.assertEqual(self.ports[endpoint["port"]], self.ports["metrics"])
        self.assertEqual(endpoint["path"], "/metrics")

    def test_hpa_scales_the_deployment_on_a_metric_the_adapter_serves(self):
        spec = self.hpa["spec"]
        self.assertEqual(spec["scaleTargetRef"]["name"], self.deployment["metadata"]["name"])
        [metric] = spec["metrics"]
        name = metric["pods"]["metric"]["name"]
        rules = yaml.safe_load(self.adapter["data"]["config.yaml"])["rules"]
        self.assertIn(name, [r["name"]["as"] for r in rules])
        served = [r for r in rules if r["name"]["as"] == name][0]
        self.assertIn(name, served["seriesQuery"])
        self.assertIn(name, testlib.exported_metric_names(), "uopd does not export " + name)


class CommandLineTest(unittest.TestCase):
    """The real uopd with the manifests' command lines."""

    def run_container(self, container, replace, ports):
        argv = container["command"] + container["args"]
        mapped = []
        for a in argv:
            for old, new in replace.items():
                a = a.replace(old, new)
            mapped.append(a)
        mapped[0] = mapped[0].replace("/usr/bin/uopd", testlib.uopd_binary())
        u = testlib.Uopd(mapped[1:], exact=True, binary=mapped[0])
        u.start()
        try:
            u.wait_ready()
            self.assertEqual((u.http_port, u.grpc_port, u.metrics_port), ports, u.output())
            probe = container["readinessProbe"]["httpGet"]
            port = probe["port"]
            if isinstance(port, str):
                port = {p["name"]: p["containerPort"] for p in container["ports"]}[port]
            self.assertEqual(testlib.http_get(port, probe["path"])[0], 200)
            status, out = testlib.http_get(ports[0], "/v2/models/add/infer", method="POST",
                                           body=testlib.add_infer_body(),
                                           headers={"Content-Type": "application/json"})
            self.assertEqual(status, 200, out)
            self.assertEqual(json.loads(out)["outputs"][0]["data"], [11, 22, 33, 44])
            self.assertEqual(testlib.http_get(ports[2], "/metrics")[0], 200)
        finally:
            rc = u.stop()
        self.assertEqual(rc, 0, u.output())

    @unittest.skipUnless(testlib.in_private_network(),
                         "needs a private network namespace (unshare) for ports 8080/9000")
    def test_servingruntime_command_line_serves_on_kserve_ports(self):
        runtime = by_kind(manifests(KSERVE), "ServingRuntime")
        [container] = runtime["spec"]["containers"]
        # KServe's storage initializer puts the model repository at
        # /mnt/models; this test's /mnt is a private tmpfs.
        self.assertEqual(flag(container["args"], "model-repository"), "/mnt/models")
        os.makedirs("/mnt/models")
        testlib.copy_models("/mnt/models", ["add", "mlp"])
        ports = (container["ports"][0]["containerPort"], int(flag(container["args"], "grpc-port")),
                 int(runtime["spec"]["annotations"]["prometheus.kserve.io/port"]))
        self.assertEqual(ports[:2], (8080, 9000))
        self.run_container(container, {}, ports)

    @unittest.skipUnless(testlib.in_private_network(),
                         "needs a private network namespace (unshare) for ports 8000-8002")
    def test_deployment_command_line_serves_on_its_ports(self):
        [container] = by_kind(manifests(K8S), "Deployment")["spec"]["template"]["spec"][
            "containers"]
        scratch = testlib.tmpdir("deployment")
        models = testlib.copy_models(os.path.join(scratch, "models"), ["add"])
        ports = tuple(p["containerPort"] for p in container["ports"])
        self.run_container(container, {"=/models": "=" + models,
                                       "=/cache/": "=" + scratch + "/cache/"},
                           (ports[0], ports[1], ports[2]))


if __name__ == "__main__":
    testlib.reexec_in_private_network(private_mnt=True)
    testlib.main()
