"""A pod's effective requests and limits: containers, init containers, sidecars, pod-level resources, overhead."""

import pytest

from flytekitplugins.resources.errors import ResourceValidationError
from flytekitplugins.resources.k8s.podresources import (
    add_into,
    aggregate,
    default_requests_from_limits,
    is_pod_level_resource,
    max_into,
    pod_level,
    pod_limits,
    pod_namespace,
    pod_requests,
    read_pod,
)
from flytekitplugins.resources.quantity import Quantity


def ctr(name, requests=None, limits=None, **extra):
    res = {}
    if requests is not None:
        res["requests"] = requests
    if limits is not None:
        res["limits"] = limits
    return {"name": name, "resources": res, **extra}


def shown(values):
    return {k: str(v) for k, v in values.items()}


def test_add_and_max_keep_the_first_value_as_go_does():
    total = {"cpu": Quantity.parse("1")}
    add_into(total, {"cpu": Quantity.parse("500m"), "memory": Quantity.parse("1Gi")})
    assert shown(total) == {"cpu": "1500m", "memory": "1Gi"}
    first = Quantity.parse("1000m")
    peak = {"cpu": first}
    max_into(peak, {"cpu": Quantity.parse("1"), "memory": Quantity.parse("1Mi")})
    assert peak["cpu"] is first and shown(peak) == {"cpu": "1", "memory": "1Mi"}


@pytest.mark.parametrize("containers, init, expected", [
    # containers summed
    ([ctr("a", {"cpu": "1"}), ctr("b", {"cpu": "500m", "memory": "1Gi"})], [], {"cpu": "1500m", "memory": "1Gi"}),
    # an init container is a floor, not added
    ([ctr("a", {"cpu": "1"})], [ctr("i", {"cpu": "2"})], {"cpu": "2"}),
    ([ctr("a", {"cpu": "3"})], [ctr("i", {"cpu": "2"})], {"cpu": "3"}),
    # a sidecar (restartPolicy: Always) is added to the sum, and to every init container after it
    ([ctr("a", {"cpu": "1"})], [ctr("s", {"cpu": "1"}, restartPolicy="Always"), ctr("i", {"cpu": "3"})],
     {"cpu": "4"}),
    ([ctr("a", {"cpu": "1"})], [ctr("i", {"cpu": "3"}), ctr("s", {"cpu": "1"}, restartPolicy="Always")],
     {"cpu": "3"}),
])
def test_aggregate_is_aggregate_container_requests(containers, init, expected):
    _, cs = read_pod({"spec": {"containers": containers, "initContainers": init}}, "pod")
    assert shown(aggregate(cs, "requests")) == expected


def test_read_pod_stores_values_as_the_api_server_does():
    pod = {"metadata": {"namespace": "ns"}, "spec": {"containers": [ctr("a", {"cpu": "2n"}, {"cpu": "1"})]}}
    spec, (c,) = read_pod(pod, "pod")
    assert shown(c.requests) == {"cpu": "1m"}
    assert pod["spec"]["containers"][0]["resources"]["requests"] == {"cpu": "1m"}  # written back
    assert [(kind, name, str(b), str(a)) for kind, name, b, a in c.rounded] == [("requests", "cpu", "2n", "1m")]
    assert (c.label, c.init, c.sidecar) == ("containers[a]", False, False)
    assert pod_namespace(pod) == "ns" and pod_namespace({}) is None

    untouched = {"spec": {"containers": [ctr("a", {"cpu": "2n"})]}}
    _, (c,) = read_pod(untouched, "pod", write=False)
    assert shown(c.requests) == {"cpu": "1m"} and untouched["spec"]["containers"][0]["resources"]["requests"] == \
        {"cpu": "2n"}


def test_default_requests_from_limits():
    _, cs = read_pod({"spec": {"containers": [ctr("a", None, {"cpu": "1", "memory": "1Gi"}),
                                              ctr("b", {"cpu": "2"}, {"cpu": "3"})]}}, "pod")
    added = default_requests_from_limits(cs)
    assert [(c.name, n, str(q)) for c, n, q in added] == [("a", "cpu", "1"), ("a", "memory", "1Gi")]
    assert shown(cs[1].requests) == {"cpu": "2"}


def test_pod_requests_and_limits_with_pod_level_resources_and_overhead():
    spec = {"containers": [ctr("a", {"cpu": "1", "memory": "1Gi"}, {"cpu": "2", "memory": "0"})],
            "resources": {"requests": {"cpu": "4"}, "limits": {"memory": "8Gi"}}}
    spec_, cs = read_pod({"spec": spec}, "pod")
    level_requests, level_limits = pod_level(spec_, "pod")
    overhead = {"cpu": Quantity.parse("100m"), "memory": Quantity.parse("10Mi")}
    assert shown(pod_requests(cs, level_requests, overhead)) == {"cpu": "4100m", "memory": "1034Mi"}
    assert shown(pod_limits(cs, level_limits, True, overhead)) == {"cpu": "2100m", "memory": "8202Mi"}
    # without pod-level resources set, a zero limit gets no overhead
    assert shown(pod_limits(cs, {}, False, overhead)) == {"cpu": "2100m", "memory": "0"}
    assert pod_level({"containers": []}, "pod") == (None, None)


@pytest.mark.parametrize("name, supported", [("cpu", True), ("memory", True), ("hugepages-2Mi", True),
                                             ("ephemeral-storage", False), ("nvidia.com/gpu", False)])
def test_pod_level_resources(name, supported):
    assert is_pod_level_resource(name) is supported


@pytest.mark.parametrize("pod, message", [
    ([], "pod: a pod must be a mapping (a v1 Pod manifest), not list"),
    ({"spec": {"containers": {}}}, "pod: spec.containers: must be a list, not dict {}"),
    ({"spec": {"containers": [{"resources": {"requests": {"cpu": "x"}}}]}},
     "pod: spec.containers[0].resources.requests.cpu: 'x' is not a valid Kubernetes quantity"),
])
def test_a_malformed_pod_names_the_key(pod, message):
    with pytest.raises(ResourceValidationError) as e:
        read_pod(pod, "pod")
    assert str(e.value).startswith(message)
