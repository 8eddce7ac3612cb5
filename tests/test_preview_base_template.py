"""The base PodTemplate merge (flytek8s pod_helper.go ``MergeWithBasePodTemplate`` /
``MergeBasePodSpecOntoTemplate``, imdario/mergo v0.3.13 with WithOverride and WithAppendSlice), case by case
from pod_helper_test.go at flyte v1.16.8."""

import copy

import pytest
from flyteidl.core import tasks_pb2

from flytekitplugins.resources.platform import K8sConfig, Platform, TaskResources, TaskResourceSet
from flytekitplugins.resources.preview.flytek8s import merge_base_pod_spec, mergo_merge
from flytekitplugins.resources.preview.propeller import build_pods

TASK1 = {"name": "task-1", "image": "task-image"}
TASK2 = {"name": "task-2", "image": "task-image"}
INIT1 = {"name": "task-init-1", "image": "task-init-image"}
INIT2 = {"name": "task-init-2", "image": "task-init-image"}
TLOG = "/dev/template-termination-log"
ILOG = "/dev/template-init-termination-log"
ENV = [{"name": "FOO", "value": "BAR"}]
INIT_ENV = [{"name": "INIT_FOO", "value": "INIT_BAR"}]


def _c(name, image, **kw):
    return {"name": name, "image": image, **kw}


# TestMergeBasePodSpecsOntoTemplate, every case but the three nil ones (a JSON pod always has a spec)
MERGE_CASES = [
    ("template and base with no overlap",
     {"schedulerName": "templateScheduler"}, {"serviceAccountName": "baseServiceAccount"}, "", "",
     {"schedulerName": "templateScheduler", "serviceAccountName": "baseServiceAccount"}),
    ("template and base with overlap",
     {"schedulerName": "templateScheduler"},
     {"schedulerName": "baseScheduler", "serviceAccountName": "baseServiceAccount"}, "", "",
     {"schedulerName": "baseScheduler", "serviceAccountName": "baseServiceAccount"}),
    ("template with default containers and base with no containers",
     {"containers": [_c("default", "default-image")], "initContainers": [_c("default-init", "default-init-image")]},
     {"schedulerName": "baseScheduler"}, "", "",
     {"schedulerName": "baseScheduler"}),
    ("template with no default containers and base containers",
     {}, {"containers": [TASK1], "initContainers": [INIT1], "schedulerName": "baseScheduler"}, "", "",
     {"containers": [TASK1], "initContainers": [INIT1], "schedulerName": "baseScheduler"}),
    ("template and base with matching containers",
     {"containers": [_c("task-1", "default-task-image", terminationMessagePath=TLOG)],
      "initContainers": [_c("task-init-1", "default-task-init-image", terminationMessagePath=ILOG)]},
     {"containers": [TASK1], "initContainers": [INIT1], "schedulerName": "baseScheduler"}, "", "",
     {"containers": [_c("task-1", "task-image", terminationMessagePath=TLOG)],
      "initContainers": [_c("task-init-1", "task-init-image", terminationMessagePath=ILOG)],
      "schedulerName": "baseScheduler"}),
    ("template and base with no matching containers",
     {"containers": [_c("not-matching", "default-task-image", terminationMessagePath=TLOG)],
      "initContainers": [_c("not-matching-init", "default-task-init-image", terminationMessagePath=ILOG)]},
     {"containers": [TASK1], "initContainers": [INIT1], "schedulerName": "baseScheduler"}, "", "",
     {"containers": [TASK1], "initContainers": [INIT1], "schedulerName": "baseScheduler"}),
    ("template with default containers and base with containers",
     {"containers": [_c("default", "default-task-image", terminationMessagePath=TLOG)],
      "initContainers": [_c("default-init", "default-task-init-image", terminationMessagePath=ILOG)]},
     {"containers": [TASK1, TASK2], "initContainers": [INIT1, INIT2], "schedulerName": "baseScheduler"}, "", "",
     {"containers": [_c("task-1", "task-image", terminationMessagePath=TLOG),
                     _c("task-2", "task-image", terminationMessagePath=TLOG)],
      "initContainers": [_c("task-init-1", "task-init-image", terminationMessagePath=ILOG),
                         _c("task-init-2", "task-init-image", terminationMessagePath=ILOG)],
      "schedulerName": "baseScheduler"}),
    ("template with primary containers and base with containers",
     {"containers": [_c("primary", "default-task-image", terminationMessagePath=TLOG)],
      "initContainers": [_c("primary-init", "default-task-init-image", terminationMessagePath=ILOG)]},
     {"containers": [TASK1, TASK2], "initContainers": [INIT1, INIT2], "schedulerName": "baseScheduler"},
     "task-1", "task-init-1",
     {"containers": [_c("task-1", "task-image", terminationMessagePath=TLOG), TASK2],
      "initContainers": [_c("task-init-1", "task-init-image", terminationMessagePath=ILOG), INIT2],
      "schedulerName": "baseScheduler"}),
    ("template with default container with env vars, base with default container",
     {"containers": [_c("default", "default-task-image", env=ENV)],
      "initContainers": [_c("default-init", "default-task-init-image", env=INIT_ENV)]},
     {"containers": [_c("default", "task-image")], "initContainers": [_c("default-init", "task-init-image")]},
     "primary", "primary-init",
     {"containers": [_c("default", "task-image", env=ENV)],
      "initContainers": [_c("default-init", "task-init-image", env=INIT_ENV)]}),
    ("template with primary container with env vars, base with primary container",
     {"containers": [_c("primary", "default-task-image", env=ENV)],
      "initContainers": [_c("primary-init", "default-task-init-image", env=INIT_ENV)]},
     {"containers": [_c("primary", "task-image")], "initContainers": [_c("primary-init", "task-init-image")]},
     "primary", "primary-init",
     {"containers": [_c("primary", "task-image", env=ENV)],
      "initContainers": [_c("primary-init", "task-init-image", env=INIT_ENV)]}),
]


@pytest.mark.parametrize("name, template, base, primary, primary_init, expected", MERGE_CASES,
                         ids=[c[0] for c in MERGE_CASES])
def test_merge_base_pod_spec_onto_template(name, template, base, primary, primary_init, expected):
    before = copy.deepcopy((template, base))
    assert merge_base_pod_spec(template, base, primary, primary_init) == expected
    assert (template, base) == before  # inputs are not changed


@pytest.mark.parametrize(
    "dst, src, expected",
    [
        # mergo WithOverride: a non-empty source value replaces; an empty one ("", 0, false, null) never does
        ({"a": "x", "b": "y"}, {"a": "z", "b": ""}, {"a": "z", "b": "y"}),
        ({"hostNetwork": True}, {"hostNetwork": False}, {"hostNetwork": True}),
        # ... except pointer fields in the v1 API, whose 0 is a value: terminationGracePeriodSeconds is *int64
        ({"terminationGracePeriodSeconds": 30}, {"terminationGracePeriodSeconds": 0},
         {"terminationGracePeriodSeconds": 0}),
        # WithAppendSlice: lists are the destination's then the source's (tolerations are not deduplicated)
        ({"tolerations": [{"key": "a"}]}, {"tolerations": [{"key": "a"}, {"key": "b"}]},
         {"tolerations": [{"key": "a"}, {"key": "a"}, {"key": "b"}]}),
        # maps and structs merge key by key, the source's keys winning
        ({"nodeSelector": {"a": "1", "b": "2"}}, {"nodeSelector": {"b": "3"}}, {"nodeSelector": {"a": "1", "b": "3"}}),
        ({"securityContext": {"runAsUser": 1000, "fsGroup": 2000}}, {"securityContext": {"runAsUser": 0}},
         {"securityContext": {"runAsUser": 0, "fsGroup": 2000}}),
    ],
    ids=["override-non-empty", "false-never-overrides", "pointer-zero-overrides", "append-slice", "map-per-key",
         "pointer-struct-recursive"],
)
def test_mergo_semantics(dst, src, expected):
    assert mergo_merge(copy.deepcopy(dst), src) == expected


def _platform(template, default_name="base", **k8s):
    manifest = {"apiVersion": "v1", "kind": "PodTemplate", "metadata": {"name": "base"}, "template": template}
    return Platform(k8s=K8sConfig(default_pod_template_name=default_name, **k8s),
                    task_resources=TaskResources(defaults=TaskResourceSet(), limits=TaskResourceSet()),
                    pod_templates={"base": manifest})


def _task(pod_template_name=""):
    t = tasks_pb2.TaskTemplate(type="python-task")
    t.id.name = "wf.t"
    t.container.image = "img"
    t.container.resources.requests.add(name=tasks_pb2.Resources.CPU, value="1")
    if pod_template_name:
        t.metadata.pod_template_name = pod_template_name
    return t


def test_merge_with_base_pod_template_exists():
    # TestMergeWithBasePodTemplate "BasePodTemplateExists": the primary template's fields reach the primary
    # container, and the template's labels are kept where the pod has none of its own
    template = {"metadata": {"labels": {"fooKey": "bazValue", "barKey": "bazValue"}},
                "spec": {"containers": [{"name": "primary", "terminationMessagePath": "/dev/primary-termination-log"}],
                         "tolerations": [{"key": "team", "operator": "Exists"}]}}
    (built,) = build_pods(_task(), _platform(template))
    pod = built.pod
    (container,) = pod["spec"]["containers"]
    assert container["terminationMessagePath"] == "/dev/primary-termination-log"
    assert container["image"] == "img"  # the pod's own values win
    assert pod["metadata"]["labels"] == {"fooKey": "bazValue", "barKey": "bazValue"}
    assert pod["spec"]["tolerations"] == [{"key": "team", "operator": "Exists"}]
    merged = [f for f in built.findings if f.code == "propeller.base-template"]
    assert {f.field for f in merged} >= {"tolerations", "containers[primary].terminationMessagePath"}
    assert all("'base'" in f.message for f in merged)


def test_merge_with_base_pod_template_does_not_exist():
    # TestMergeWithBasePodTemplate "BasePodTemplateDoesNotExist": nothing changes; here a warning says so
    # when the task names a template that was not given
    (built,) = build_pods(_task("missing"), _platform({"spec": {"schedulerName": "x"}}, default_name=""))
    assert "schedulerName" not in built.pod["spec"]
    (warning,) = [f for f in built.findings if f.code == "propeller.pod-template-unknown"]
    assert warning.level == "warning" and "'missing'" in warning.message


def test_base_template_tolerations_come_before_flytes_and_gpu_terms_after_the_merge():
    # ApplyFlytePodConfiguration: UpdatePod, then MergeWithBasePodTemplate (template lists first), then
    # ApplyGPUNodeSelectors on the merged spec, so the device requirement is ANDed into the template's terms
    template = {"spec": {
        "tolerations": [{"key": "tmpl", "operator": "Exists"}],
        "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchExpressions": [{"key": "pool", "operator": "In", "values": ["gpu"]}]}]}}}}}
    t = _task()
    t.container.resources.limits.add(name=tasks_pb2.Resources.GPU, value="1")
    t.extended_resources.gpu_accelerator.device = "nvidia-tesla-a100"
    platform = _platform(template, default_tolerations=({"key": "flyte", "operator": "Exists"},))
    (built,) = build_pods(t, platform)
    spec = built.pod["spec"]
    assert [tol["key"] for tol in spec["tolerations"]] == ["tmpl", "flyte", "k8s.amazonaws.com/accelerator"]
    (term,) = spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert [e["key"] for e in term["matchExpressions"]] == ["pool", "k8s.amazonaws.com/accelerator"]
