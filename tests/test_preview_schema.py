"""Is the effective pod valid Kubernetes? ``preview.schema.validate_pod``, case by case.

The ``k8s.invalid`` rules come from kube-apiserver's validation, with cases from k8s.io/kubernetes:
``pkg/apis/core/validation/validation_test.go`` (TestValidateContainers, TestValidateInitContainers,
TestValidateVolumes), ``pkg/apis/core/v1/validation/validation_test.go`` (TestValidateResourceRequirements,
TestValidateContainerResourceName) and apimachinery's ``pkg/api/validate/content`` (TestIsDNS1123Label,
TestIsLabelKey). The ``k8s.schema`` cases need the optional kubernetes-validate package and skip without it.
"""

import copy
import subprocess
import sys

import pytest
from flyteidl.core import tasks_pb2

from flytekitplugins.resources.platform import K8sConfig, Platform, TaskResources, TaskResourceSet
from flytekitplugins.resources.preview import schema
from flytekitplugins.resources.preview.propeller import build_pods
from flytekitplugins.resources.preview.schema import validate_pod
from flytekitplugins.resources.quantity import Quantity, ResourceValidationError

TASK = "wf.t"
LABEL_REGEX_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and "
    "end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)


def _ctr(name="abc", requests=None, limits=None, mounts=None):
    c = {"name": name, "image": "image"}
    if requests is not None or limits is not None:
        c["resources"] = {}
        if requests is not None:
            c["resources"]["requests"] = requests
        if limits is not None:
            c["resources"]["limits"] = limits
    if mounts is not None:
        c["volumeMounts"] = mounts
    return c


def _pod(*containers, volumes=None, init=None, overhead=None):
    spec = {"containers": list(containers)}
    if volumes is not None:
        spec["volumes"] = volumes
    if init is not None:
        spec["initContainers"] = init
    if overhead is not None:
        spec["overhead"] = overhead
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": spec}


def _invalid(pod, **kw):
    """The k8s.invalid findings as (field, Kubernetes' error body), the task prefix and path checked and cut."""
    out = []
    for f in validate_pod(pod, task=TASK, **kw):
        if f.code != "k8s.invalid":
            continue
        prefix = f"task '{TASK}': {f.field}: "
        assert f.text().startswith(prefix), f.text()
        assert f.level == "error" and f.task == TASK
        out.append((f.field, f.text()[len(prefix) :]))
    return out


R = "spec.containers[0].resources"


# ------------------------------------------------------------------------------------------ resources
@pytest.mark.parametrize(
    "requests, limits, expected",
    [
        # core/v1/validation_test.go: TestValidateResourceRequirements successCase "Resources with Requests equal
        # to Limits"
        pytest.param({"cpu": "10", "memory": "10G"}, {"cpu": "10", "memory": "10G"}, [], id="requests-equal-limits"),
        # ... successCase "Resources with only Limits" (an extended resource with a limit alone is fine)
        pytest.param(None, {"cpu": "10", "memory": "10G", "my.org/resource": "10"}, [], id="only-limits"),
        # ... successCase "Resources with Requests Less Than Limits" (the extended resource equal)
        pytest.param({"cpu": "9", "memory": "9G", "my.org/resource": "9"},
                     {"cpu": "10", "memory": "10G", "my.org/resource": "9"}, [], id="requests-less-than-limits"),
        # ... successCase "Resources with only Requests": the kubelet-side v1 check accepts it, but kube-apiserver's
        # validateResourceRequirements refuses an extended-resource request without a limit
        pytest.param({"cpu": "10", "memory": "10G", "my.org/resource": "10"}, None,
                     [(f"{R}.limits.my.org/resource",
                       "Required value: Limit must be set for non overcommitable resources")],
                     id="only-requests-extended-needs-limit"),
        # ... errorCase "Resources with Requests Larger Than Limits": every name and value is in the messages
        pytest.param({"cpu": "10", "memory": "10G", "my.org/resource": "10m"},
                     {"cpu": "9", "memory": "9G", "my.org/resource": "9m"},
                     [(f"{R}.limits.my.org/resource", "Invalid value: 9m: must be an integer"),
                      (f"{R}.requests.cpu", 'Invalid value: "10": must be less than or equal to cpu limit of 9'),
                      (f"{R}.requests.memory",
                       'Invalid value: "10G": must be less than or equal to memory limit of 9G'),
                      (f"{R}.requests.my.org/resource", "Invalid value: 10m: must be an integer"),
                      (f"{R}.requests.my.org/resource",
                       'Invalid value: "10m": must be equal to my.org/resource limit of 9m')],
                     id="requests-larger-than-limits"),
        # ... errorCase "Invalid Resources with Requests" / "Invalid Resources with Limits": "my.org" is unqualified
        pytest.param({"my.org": "10m"}, None,
                     [(f"{R}.requests.my.org",
                       'Invalid value: "my.org": must be a standard resource type or fully qualified'),
                      (f"{R}.requests.my.org", 'Invalid value: "my.org": must be a standard resource for containers')],
                     id="invalid-resource-with-requests"),
        pytest.param(None, {"my.org": "9m"},
                     [(f"{R}.limits.my.org",
                       'Invalid value: "my.org": must be a standard resource type or fully qualified'),
                      (f"{R}.limits.my.org", 'Invalid value: "my.org": must be a standard resource for containers')],
                     id="invalid-resource-with-limits"),
        # validation_test.go: TestValidateContainers "Resource CPU invalid" (limits cpu -10)
        pytest.param(None, {"cpu": "-10", "memory": "0"},
                     [(f"{R}.limits.cpu", 'Invalid value: "-10": must be greater than or equal to 0')],
                     id="resource-cpu-invalid"),
        # ... "Resource Requests CPU invalid"
        pytest.param({"cpu": "-10", "memory": "0"}, None,
                     [(f"{R}.requests.cpu", 'Invalid value: "-10": must be greater than or equal to 0')],
                     id="resource-requests-cpu-invalid"),
        # ... "Resource Memory invalid"
        pytest.param(None, {"cpu": "0", "memory": "-10"},
                     [(f"{R}.limits.memory", 'Invalid value: "-10": must be greater than or equal to 0')],
                     id="resource-memory-invalid"),
        # ... "Request limit simple invalid" (Kubernetes reports it on ...resources.requests; we name the key)
        pytest.param({"cpu": "6", "memory": "3"}, {"cpu": "5", "memory": "3"},
                     [(f"{R}.requests.cpu", 'Invalid value: "6": must be less than or equal to cpu limit of 5')],
                     id="request-limit-simple-invalid"),
        # ... "Memory request limit multiple invalid"
        pytest.param({"cpu": "5", "memory": "4"}, {"cpu": "5", "memory": "3"},
                     [(f"{R}.requests.memory",
                       'Invalid value: "4": must be less than or equal to memory limit of 3')],
                     id="memory-request-limit-multiple-invalid"),
        # ... "invalid compute resource": "disk" fails both name rules
        pytest.param(None, {"disk": "10G"},
                     [(f"{R}.limits.disk",
                       'Invalid value: "disk": must be a standard resource type or fully qualified'),
                      (f"{R}.limits.disk", 'Invalid value: "disk": must be a standard resource for containers')],
                     id="invalid-compute-resource"),
        # ... "Invalid storage limit request": a quota name is no container resource
        pytest.param(None, {"attachable-volumes-aws-ebs": "10"},
                     [(f"{R}.limits.attachable-volumes-aws-ebs",
                       'Invalid value: "attachable-volumes-aws-ebs": '
                       "must be a standard resource type or fully qualified"),
                      (f"{R}.limits.attachable-volumes-aws-ebs",
                       'Invalid value: "attachable-volumes-aws-ebs": must be a standard resource for containers')],
                     id="invalid-storage-limit-request"),
        # ... successCase container "resources-request-limit-partials"
        pytest.param({"cpu": "9.5", "memory": "10G"}, {"cpu": "10", "my.org/resource": "10"}, [],
                     id="resources-request-limit-partials"),
        # the message prints Quantity.String(): "1.5" is 1500m (validateResourceRequirements: quantity.String())
        pytest.param({"cpu": "1.5"}, {"cpu": "1"},
                     [(f"{R}.requests.cpu", 'Invalid value: "1500m": must be less than or equal to cpu limit of 1')],
                     id="message-prints-canonical-quantity"),
        # a JSON number decodes as its text (Quantity.UnmarshalJSON)
        pytest.param({"cpu": 2}, {"cpu": 1},
                     [(f"{R}.requests.cpu", 'Invalid value: "2": must be less than or equal to cpu limit of 1')],
                     id="json-numbers"),
        # IsOvercommitAllowed is false for extended resources: request must equal the limit, even when lower
        pytest.param({"nvidia.com/gpu": "1"}, {"nvidia.com/gpu": "2"},
                     [(f"{R}.requests.nvidia.com/gpu",
                       'Invalid value: "1": must be equal to nvidia.com/gpu limit of 2')],
                     id="gpu-request-below-limit"),
        pytest.param({"nvidia.com/gpu": "1"}, {"nvidia.com/gpu": "1"}, [], id="gpu-equal"),
        # ValidateResourceQuantityValue: IsIntegerResourceName covers extended resources
        pytest.param(None, {"nvidia.com/gpu": "0.5"},
                     [(f"{R}.limits.nvidia.com/gpu", "Invalid value: 500m: must be an integer")],
                     id="gpu-not-whole"),
        # hugepages: not overcommitable (request = limit), and "HugePages require cpu or memory"
        pytest.param({"hugepages-2Mi": "1Gi"}, {"hugepages-2Mi": "1Gi"},
                     [(R, "Forbidden: HugePages require cpu or memory")], id="hugepages-without-cpu-or-memory"),
        pytest.param({"hugepages-2Mi": "1Gi", "memory": "1Gi"}, {"hugepages-2Mi": "1Gi"}, [],
                     id="hugepages-with-memory"),
        pytest.param({"hugepages-2Mi": "2Mi", "cpu": "1"}, {"hugepages-2Mi": "4Mi"},
                     [(f"{R}.requests.hugepages-2Mi",
                       'Invalid value: "2Mi": must be equal to hugepages-2Mi limit of 4Mi')],
                     id="hugepages-request-below-limit"),
        # core/v1 TestValidateContainerResourceName successCase "Namespaced resource": kubernetes.io/ is native,
        # so it may be overcommitted and need not be whole
        pytest.param({"kubernetes.io/resource-foo": "500m"}, None, [], id="namespaced-resource"),
    ],
)
def test_resource_requirements(requests, limits, expected):
    pod = _pod(_ctr(requests=requests, limits=limits))
    assert sorted(_invalid(pod)) == sorted(expected)


def test_undecodable_quantity_names_the_value():
    # Quantity.UnmarshalJSON refuses the pod outright; the finding names the field and the text
    (finding,) = _invalid(_pod(_ctr(requests={"memory": "2GB"})))
    assert finding[0] == f"{R}.requests.memory"
    assert finding[1].startswith('Invalid value: "2GB": ')


def test_overhead_is_checked_as_limits():
    # validation.go: validateOverhead reuses ValidateContainerResourceRequirements with Limits: overhead
    assert _invalid(_pod(_ctr(), overhead={"cpu": "-1"})) == [
        ("spec.overhead.limits.cpu", 'Invalid value: "-1": must be greater than or equal to 0')
    ]


@pytest.mark.parametrize(
    "name, ok",
    [
        # core/v1/validation_test.go: TestValidateContainerResourceName successCase
        pytest.param("cpu", True, id="CPU resource"),
        pytest.param("memory", True, id="Memory resource"),
        pytest.param("hugepages-2Mi", True, id="Hugepages resource"),
        pytest.param("kubernetes.io/resource-foo", True, id="Namespaced resource"),
        pytest.param("my.org/resource-bar", True, id="Extended Resource"),
        pytest.param("nvidia.com/gpu", True, id="nvidia-gpu"),
        pytest.param("ephemeral-storage", True, id="ephemeral-storage"),
        # ... errorCase
        pytest.param("cpu-core", False, id="Invalid standard resource"),
        pytest.param("kubernetes.io/", False, id="Invalid namespaced resource"),
        pytest.param("my.org-foo-resource", False, id="Invalid extended resource"),
        # a standard (quota) resource that is no container resource
        pytest.param("storage", False, id="storage-not-for-containers"),
        # content/kube_test.go: TestIsLabelKey errorCases, as resource names
        pytest.param("only/one/slash", False, id="label-key-only-one-slash"),
        pytest.param("Example.com/abc", False, id="label-key-uppercase-prefix"),
        pytest.param("example_com/abc", False, id="label-key-underscore-prefix"),
        pytest.param("example.com/", False, id="label-key-empty-name"),
        pytest.param("/simple", False, id="label-key-empty-prefix"),
        pytest.param("example.com/" + "a" * 64, False, id="label-key-name-too-long"),
        # ... successCases "example.com/Uppercase_Is_OK_123", "1.2.3.4/5678"
        pytest.param("example.com/Uppercase_Is_OK_123", True, id="label-key-uppercase-name-ok"),
        pytest.param("1.2.3.4/5678", True, id="label-key-numeric"),
    ],
)
def test_container_resource_names(name, ok):
    findings = _invalid(_pod(_ctr(limits={name: "1"})))
    named = [body for field, body in findings if field == f"{R}.limits.{name}" and body.startswith("Invalid value: ")]
    assert (not named) is ok, findings



# ------------------------------------------------------------------------------------------ names
@pytest.mark.parametrize(
    "containers, init, expected",
    [
        # validation_test.go: TestValidateContainers errorCases "zero-length name"
        pytest.param([_ctr("")], None, [("spec.containers[0].name", "Required value")], id="zero-length name"),
        # ... "name > 63 characters"
        pytest.param([_ctr("a" * 64)], None,
                     [("spec.containers[0].name", f'Invalid value: "{"a" * 64}": must be no more than 63 characters')],
                     id="name > 63 characters"),
        # ... "name not a DNS label"
        pytest.param([_ctr("a.b.c")], None,
                     [("spec.containers[0].name", 'Invalid value: "a.b.c": must not contain dots')],
                     id="name not a DNS label"),
        # ... "name not unique"
        pytest.param([_ctr("abc"), _ctr("abc")], None, [("spec.containers[1].name", 'Duplicate value: "abc"')],
                     id="name not unique"),
        # an upper-case name: IsDNS1123Label's regex message, word for word
        pytest.param([_ctr("ABC")], None, [("spec.containers[0].name", f'Invalid value: "ABC": {LABEL_REGEX_MSG}')],
                     id="uppercase-name"),
        # validateContainers: at least one container
        pytest.param([], None, [("spec.containers", "Required value")], id="no-containers"),
        # TestValidateInitContainers errorCases "empty name"
        pytest.param([_ctr("app")], [_ctr("")], [("spec.initContainers[0].name", "Required value")], id="empty name"),
        # ... "name collision with regular container"
        pytest.param([_ctr("app")], [_ctr("app")], [("spec.initContainers[0].name", 'Duplicate value: "app"')],
                     id="name collision with regular container"),
        # ... "duplicate names"
        pytest.param([_ctr("app")], [_ctr("init"), _ctr("init")],
                     [("spec.initContainers[1].name", 'Duplicate value: "init"')], id="duplicate names"),
        # TestValidateContainers successCase names: "abc-123", "123", "life-123"
        pytest.param([_ctr("abc-123"), _ctr("123"), _ctr("life-123")], [_ctr("init-1")], [], id="valid-names"),
    ],
)
def test_container_names(containers, init, expected):
    pod = _pod(*containers, init=init)
    assert _invalid(pod) == expected


# content/dns_test.go: TestIsDNS1123Label goodValues / badValues
# ------------------------------------------------------------------------------------------ volumes
@pytest.mark.parametrize(
    "volumes, mounts, expected",
    [
        pytest.param([{"name": "vol", "emptyDir": {}}], [{"name": "vol", "mountPath": "/vol"}], [], id="mount-ok"),
        # validation_test.go: TestValidateContainers errorCases "unknown volume name"
        pytest.param([], [{"name": "anything", "mountPath": "/foo"}],
                     [("spec.containers[0].volumeMounts[0].name", 'Not found: "anything"')], id="unknown volume name"),
        # TestValidateVolumes: dupsCase (two volumes named "abc": one Duplicate error)
        pytest.param([{"name": "abc", "emptyDir": {}}, {"name": "abc", "emptyDir": {}}], None,
                     [("spec.volumes[1].name", 'Duplicate value: "abc"')], id="dupsCase"),
        # ValidateVolumes: an invalid volume is not usable, so its mount is not found either
        pytest.param([{"name": "a.b", "emptyDir": {}}], [{"name": "a.b", "mountPath": "/x"}],
                     [("spec.volumes[0].name", 'Invalid value: "a.b": must not contain dots'),
                      ("spec.containers[0].volumeMounts[0].name", 'Not found: "a.b"')], id="invalid-volume-name"),
        # ValidateVolumes: a volume without a name
        pytest.param([{"emptyDir": {}}], None, [("spec.volumes[0].name", "Required value")], id="volume-without-name"),
        # ValidateVolumeMounts: mount paths are unique within a container; the path is required
        pytest.param([{"name": "a", "emptyDir": {}}, {"name": "b", "emptyDir": {}}],
                     [{"name": "a", "mountPath": "/x"}, {"name": "b", "mountPath": "/x"}],
                     [("spec.containers[0].volumeMounts[1].mountPath", 'Invalid value: "/x": must be unique')],
                     id="mountpath-not-unique"),
        pytest.param([{"name": "a", "emptyDir": {}}], [{"name": "a"}],
                     [("spec.containers[0].volumeMounts[0].mountPath", "Required value")], id="mountpath-required"),
        # ValidateVolumeMounts: an empty name is both required and not a volume
        pytest.param([{"name": "a", "emptyDir": {}}], [{"name": "", "mountPath": "/x"}],
                     [("spec.containers[0].volumeMounts[0].name", "Required value"),
                      ("spec.containers[0].volumeMounts[0].name", 'Not found: ""')], id="mount-without-name"),
    ],
)
def test_volumes_and_mounts(volumes, mounts, expected):
    assert _invalid(_pod(_ctr(mounts=mounts), volumes=volumes)) == expected


def test_init_container_mounts_are_checked():
    # validateInitContainers runs validateContainerCommon too
    pod = _pod(_ctr(), init=[_ctr("init", mounts=[{"name": "nope", "mountPath": "/x"}])])
    assert _invalid(pod) == [("spec.initContainers[0].volumeMounts[0].name", 'Not found: "nope"')]


# ------------------------------------------------------------------------------------------ the function
def test_message_names_task_and_node():
    pod = _pod(_ctr(requests={"cpu": "2"}, limits={"cpu": "1"}))
    (f,) = [f for f in validate_pod(pod, task=TASK, node="n0") if f.code == "k8s.invalid"]
    assert f.text() == (f"task '{TASK}', node 'n0': {R}.requests.cpu: Invalid value: \"2\": "
                         "must be less than or equal to cpu limit of 1")
    assert (f.task, f.node, f.field, f.before) == (TASK, "n0", f"{R}.requests.cpu", "2")


def test_without_task_the_pod_is_named():
    (f,) = [f for f in validate_pod(_pod(_ctr("A"))) if f.code == "k8s.invalid"]
    assert f.text().startswith("pod 'p': spec.containers[0].name: ")


def test_input_is_not_mutated():
    pod = _pod(_ctr(requests={"cpu": "2"}, limits={"cpu": "1"}), volumes=[{"name": "v", "emptyDir": {}}])
    before = copy.deepcopy(pod)
    validate_pod(pod, task=TASK)
    assert pod == before


@pytest.mark.parametrize("pod", [None, [], "pod", {"spec": "x"}, {"spec": {"containers": "x"}},
                                 {"spec": {"containers": [None, 5, {"name": 5, "resources": []}]}},
                                 {"spec": {"containers": [{"name": "a", "resources": {"limits": [], "requests": 5}}]}},
                                 {"spec": {"containers": [{"name": "a", "resources": {"limits": {"cpu": {}}}}]}}],
                         ids=["none", "list", "str", "spec-str", "containers-str", "odd-containers", "odd-resources",
                              "odd-quantity"])
def test_malformed_pods_give_findings_not_exceptions(pod):
    findings = validate_pod(pod, task=TASK)
    assert all(f.level == "error" and f.code in ("k8s.schema", "k8s.invalid") for f in findings)


@pytest.mark.parametrize("version", ["one", "1", "1.x", "", "1.31.4.1", None])
def test_malformed_kubernetes_version_is_refused(version):
    with pytest.raises(ResourceValidationError, match="kubernetes_version"):
        validate_pod(_pod(_ctr()), kubernetes_version=version)


def test_core_rules_without_the_schema_library(monkeypatch):
    monkeypatch.setattr(schema, "schema_available", lambda: False)
    pod = _pod(_ctr(requests={"cpu": "2"}, limits={"cpu": "1"}))
    pod["spec"]["containers"][0]["resourcez"] = {}
    codes = [f.code for f in validate_pod(pod, task=TASK)]
    assert codes == ["k8s.invalid"]


def test_module_import_does_not_import_the_library():
    code = (
        "import sys, flytekitplugins.resources.preview.schema as s; "
        "print('kubernetes_validate' in sys.modules or 'jsonschema' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ------------------------------------------------------------------------------------------ the schema
def _built_pod():
    R_ = tasks_pb2.Resources
    t = tasks_pb2.TaskTemplate(type="python-task")
    t.id.name = TASK
    t.container.image = "img"
    t.container.resources.requests.add(name=R_.CPU, value="1")
    t.container.resources.requests.add(name=R_.GPU, value="1")
    t.container.resources.limits.add(name=R_.MEMORY, value="2Gi")
    t.extended_resources.shared_memory.mount_name = "dshm"
    t.extended_resources.shared_memory.mount_path = "/dev/shm"
    q = Quantity.parse
    platform = Platform(
        k8s=K8sConfig(),
        task_resources=TaskResources(
            defaults=TaskResourceSet(cpu=q("1"), memory=q("1Gi")),
            limits=TaskResourceSet(cpu=q("4"), memory=q("8Gi"), gpu=q("2")),
        ),
    )
    (built,) = build_pods(t, platform)
    return built.pod


def _schema(pod, **kw):
    return [(f.field, f.message) for f in validate_pod(pod, task=TASK, **kw) if f.code == "k8s.schema"]


def test_built_pod_is_valid_kubernetes():
    pytest.importorskip("kubernetes_validate")
    pod = _built_pod()
    assert pod["spec"]["volumes"][0]["name"] == "dshm"  # the shm volume and mount are in it
    assert validate_pod(pod, task=TASK) == []


def test_schema_unknown_field_and_wrong_type():
    pytest.importorskip("kubernetes_validate")
    pod = _built_pod()
    pod["spec"]["containers"][0]["resourcez"] = {"limits": {}}
    pod["spec"]["restartPolicy"] = 5
    findings = [f for f in validate_pod(pod, task=TASK) if f.code == "k8s.schema"]
    assert [f.field for f in findings] == ["spec.containers[0].resourcez", "spec.restartPolicy"]  # all, not the first
    assert findings[0].text() == f"task '{TASK}': spec.containers[0].resourcez: unknown field \"resourcez\""
    assert findings[1].text().startswith(f"task '{TASK}': spec.restartPolicy: 5 is not of type 'string'")
    assert all(f.level == "error" and f.source.startswith("kubernetes-validate") for f in findings)


def test_schema_quantity_of_the_wrong_type():
    pytest.importorskip("kubernetes_validate")
    pod = _pod(_ctr(requests={"cpu": [1]}))
    assert [f for f, _ in _schema(pod)] == [f"{R}.requests.cpu"]
    assert _invalid(pod) == [(f"{R}.requests.cpu", "Invalid value: [1]: is not a quantity")]


@pytest.mark.parametrize(
    "version, unknown",
    [
        # a container restartPolicy (sidecar containers) is in the API from Kubernetes 1.28
        pytest.param("1.27", True, id="1.27"),
        pytest.param("1.28", False, id="1.28"),
        pytest.param("v1.31", False, id="v-prefix"),
        pytest.param("1.31.4", False, id="patch-version"),
    ],
)
def test_schema_follows_the_kubernetes_version(version, unknown):
    pytest.importorskip("kubernetes_validate")
    pod = _pod(_ctr("app"), init=[dict(_ctr("sidecar"), restartPolicy="Always")])
    assert bool(_schema(pod, kubernetes_version=version)) is unknown


@pytest.mark.parametrize("version", ["1.24", "1.99", "2.0"])
def test_schema_version_not_shipped_is_refused(version):
    pytest.importorskip("kubernetes_validate")
    with pytest.raises(ResourceValidationError, match="has no schema in the installed kubernetes-validate"):
        validate_pod(_pod(_ctr()), kubernetes_version=version)


def test_supported_versions_include_the_default():
    pytest.importorskip("kubernetes_validate")
    assert schema.DEFAULT_KUBERNETES_VERSION in schema.supported_kubernetes_versions()
