"""Plugin tasks' replica pods (flyteplugins plugins/k8s ray, kfoperators/pytorch, dask at flyte v1.16.8), from
tasks serialized by the real flytekit plugins."""

import importlib

import pytest
from flytekit import Resources, task

from flytekitplugins.resources.platform import K8sConfig, Platform, TaskResources, TaskResourceSet
from flytekitplugins.resources.preview.flytek8s import merge_overlay_pod_spec
from flytekitplugins.resources.preview.propeller import build_pods
from flytekitplugins.resources.quantity import Quantity

from .helpers import idl


def _platform(defaults=None, limits=None, **k8s):
    def trs(d):
        return TaskResourceSet(**{k: Quantity.parse(v) for k, v in (d or {}).items()})

    return Platform(k8s=K8sConfig(**k8s), task_resources=TaskResources(defaults=trs(defaults), limits=trs(limits)))


def _pods(entity, platform=None):
    template = idl(entity).template.to_flyte_idl()
    built = build_pods(template, platform or _platform(), interruptible=template.metadata.interruptible)
    return {b.role.split(" ")[0]: b for b in built}, template


def _plugin(package):
    """The plugin's task module as it is now in sys.modules: other tests re-import plugin modules, and a config
    class from an older copy fails the plugin's own isinstance checks."""
    pytest.importorskip(package)
    return importlib.import_module(package + ".task")


def _container(built, name):
    (c,) = [c for c in built.pod["spec"]["containers"] if c["name"] == name]
    return c


# MergeOverlayPodSpecOntoBase, TestMergeOverlayPodSpecOntoBase (pod_helper_test.go)
@pytest.mark.parametrize(
    "base, overlay, expected",
    [
        # "nil overlay" / "empty overlay": nothing changes
        ({"containers": [{"name": "a", "image": "x"}]}, {}, {"containers": [{"name": "a", "image": "x"}]}),
        # "merge containers by name": the overlay's fields win; the base's other containers are kept
        ({"containers": [{"name": "a", "image": "x"}, {"name": "b", "image": "y"}]},
         {"containers": [{"name": "a", "image": "z"}]},
         {"containers": [{"name": "a", "image": "z"}, {"name": "b", "image": "y"}]}),
        # "overlay containers that are not in the base are dropped"
        ({"containers": [{"name": "a", "image": "x"}]}, {"containers": [{"name": "c", "image": "z"}]},
         {"containers": [{"name": "a", "image": "x"}]}),
        # spec fields are merged (override) and lists appended
        ({"containers": [{"name": "a"}], "tolerations": [{"key": "t1"}]},
         {"schedulerName": "s", "tolerations": [{"key": "t2"}]},
         {"containers": [{"name": "a"}], "schedulerName": "s", "tolerations": [{"key": "t1"}, {"key": "t2"}]}),
        # resources merge per key: an overlay request does not touch the base's limit
        ({"containers": [{"name": "a", "resources": {"requests": {"cpu": "1"}, "limits": {"cpu": "1"}}}]},
         {"containers": [{"name": "a", "resources": {"requests": {"cpu": "4"}}}]},
         {"containers": [{"name": "a", "resources": {"requests": {"cpu": "4"}, "limits": {"cpu": "1"}}}]}),
    ],
    ids=["empty", "by-name", "unmatched-dropped", "spec-fields", "resources-per-key"],
)
def test_merge_overlay_pod_spec(base, overlay, expected):
    assert merge_overlay_pod_spec(base, overlay) == expected


def test_ray_head_and_workers_from_the_task_pod():
    ray = _plugin("flytekitplugins.ray")

    @task(task_config=ray.RayJobConfig(
        head_node_config=ray.HeadNodeConfig(requests=Resources(cpu="4", mem="8Gi")),
        worker_node_config=[ray.WorkerNodeConfig(group_name="gpu", replicas=3)]),
        requests=Resources(cpu="1", mem="1Gi"), limits=Resources(cpu="2", mem="2Gi"))
    def t() -> None: ...

    pods, _ = _pods(t, _platform(limits={"cpu": "2", "memory": "4Gi"}))
    assert set(pods) == {"ray-submitter", "ray-head", "ray-worker"}
    # ray.go constructRayJob: the submitter is the task's pod as is
    assert _container(pods["ray-submitter"], "primary")["resources"]["requests"] == {"cpu": "1", "memory": "1Gi"}
    # buildHeadPodTemplate: renamed, no args, MY_POD_IP and the three Ray ports
    head = _container(pods["ray-head"], "ray-head")
    assert head["args"] == [] and [p["containerPort"] for p in head["ports"]] == [6379, 10001, 8265]
    assert {"name": "MY_POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}} in head["env"]
    # the head group's pod spec (flytekit sets its limits to its requests) is merged after the platform's
    # clamps: 4 cpus and 8Gi over a 2-cpu, 4Gi platform limit, unclamped
    assert head["resources"] == {"requests": {"cpu": "4", "memory": "8Gi"}, "limits": {"cpu": "4", "memory": "8Gi"}}
    codes = {(f.code, f.field) for f in pods["ray-head"].findings}
    assert ("propeller.replica-resources-unchecked", "containers[ray-head].requests.cpu") in codes
    # buildWorkerPodTemplate: ray-worker, the preStop hook, the group's replica count in the role
    worker = _container(pods["ray-worker"], "ray-worker")
    assert worker["lifecycle"]["preStop"]["exec"]["command"] == ["/bin/sh", "-c", "ray stop"]
    assert pods["ray-worker"].role == "ray-worker gpu x3"


def test_pytorch_replicas_get_their_own_resources_defaulted_and_clamped():
    kf = _plugin("flytekitplugins.kfpytorch")

    @task(task_config=kf.PyTorch(
        master=kf.Master(requests=Resources(cpu="1")),
        worker=kf.Worker(replicas=4, requests=Resources(cpu="16"), image="ghcr.io/example/worker:v2")),
        requests=Resources(cpu="2", mem="1Gi"))
    def t() -> None: ...

    pods, template = _pods(t, _platform(defaults={"cpu": "1", "memory": "1Gi"}, limits={"cpu": "8", "memory": "8Gi"}))
    assert template.type == "pytorch" and template.task_type_version == 1
    assert set(pods) == {"master", "worker"}
    # common_operator.go ToReplicaSpecWithOverrides: the replica's resources replace the node's overrides,
    # ApplyK8sResourceOverrides clamps 16 to the 8-cpu platform limit; the container is named "pytorch"
    worker = _container(pods["worker"], "pytorch")
    assert worker["resources"]["requests"]["cpu"] == "8" and worker["resources"]["limits"]["cpu"] == "8"
    assert worker["image"] == "ghcr.io/example/worker:v2"
    assert {"name": "FLYTE_INTERNAL_WORKER_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}} in \
        worker["env"]
    assert pods["worker"].role == "worker x4" and pods["master"].role == "master x1"
    master = _container(pods["master"], "pytorch")
    assert master["resources"]["requests"]["cpu"] == "1"  # the master's own request replaces the task's 2
    assert master["resources"]["requests"]["memory"] == "1Gi"  # and the task's memory stays


def test_elastic_pytorch_has_no_master():
    kf = _plugin("flytekitplugins.kfpytorch")

    @task(task_config=kf.PyTorch(worker=kf.Worker(replicas=2)), requests=Resources(cpu="1"))
    def t() -> None: ...

    # flytekit's Elastic needs torch installed to serialize; its template is the PyTorch one plus elasticConfig
    template = idl(t).template.to_flyte_idl()
    template.custom.update({"elasticConfig": {"minReplicas": 2, "maxReplicas": 2, "nprocPerNode": 4}})
    roles = [b.role for b in build_pods(template, _platform())]
    assert roles == ["worker x2"]  # pytorch.go: the master replica is removed when an elastic policy is set


def test_dask_worker_scheduler_and_runner():
    dask = _plugin("flytekitplugins.dask")

    @task(task_config=dask.Dask(
        scheduler=dask.Scheduler(requests=Resources(cpu="1", mem="2Gi")),
        workers=dask.WorkerGroup(number_of_workers=5, limits=Resources(cpu="2500m", mem="4Gi"))),
        requests=Resources(cpu="1", mem="1Gi"), interruptible=True)
    def t() -> None: ...

    interruptible = {"key": "spot", "operator": "Exists"}
    pods, _ = _pods(t, _platform(interruptible_tolerations=(interruptible,)))
    assert set(pods) == {"dask-job-runner", "dask-scheduler", "dask-worker"}
    # dask.go createWorkerSpec: the group's limits, the request from the limit, --nthreads rounded up
    worker = _container(pods["dask-worker"], "dask-worker")
    assert worker["resources"] == {"requests": {"cpu": "2500m", "memory": "4Gi"},
                                   "limits": {"cpu": "2500m", "memory": "4Gi"}}
    assert worker["args"] == ["dask-worker", "--name", "$(DASK_WORKER_NAME)", "--nthreads", "3",
                              "--memory-limit", "4Gi"]
    assert pods["dask-worker"].pod["spec"]["restartPolicy"] == "Always"
    assert pods["dask-worker"].role == "dask-worker x5"
    # only the workers are interruptible: the scheduler and the job runner are built with interruptible=False
    assert interruptible in pods["dask-worker"].pod["spec"]["tolerations"]
    for role in ("dask-scheduler", "dask-job-runner"):
        assert interruptible not in (pods[role].pod["spec"].get("tolerations") or [])
    assert _container(pods["dask-scheduler"], "scheduler")["args"] == ["dask-scheduler"]
    assert pods["dask-job-runner"].pod["spec"]["restartPolicy"] == "Never"
