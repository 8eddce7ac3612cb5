"""1,000 tasks for the serialization benchmark, defined in an importable module as `pyflyte package`
loads them (flytekit does much slower work for tasks defined in __main__, which would hide the plugin's
share)."""

from flytekit import Resources, task


def work(a: int) -> int:
    return a


_CPUS, _MEMS = ["250m", "500m", "1", "2", "4"], ["512Mi", "1Gi", "2Gi", "4Gi", "8Gi"]

TASKS = [
    task(requests=Resources(cpu=_CPUS[i % 5], mem=_MEMS[i % 5]), limits=Resources(cpu="4", mem="8Gi", gpu=str(i % 2)))(
        work
    )
    for i in range(1000)
]


def _pod_template(i: int):
    from flytekit import PodTemplate
    from kubernetes.client import V1Container, V1PodSpec, V1Toleration

    return PodTemplate(
        pod_spec=V1PodSpec(
            containers=[V1Container(name="primary"), V1Container(name="sidecar", image="busybox")],
            tolerations=[V1Toleration(key="pool", operator="Equal", value=f"p{i % 3}", effect="NoSchedule")],
            node_selector={"pool": f"p{i % 3}"},
        ),
        labels={"team": "ml"},
    )


#: 300 tasks with a pod template (flytekit serializes these through kubernetes' ApiClient)
POD_TASKS = [
    task(requests=Resources(cpu=_CPUS[i % 5], mem=_MEMS[i % 5]), limits=Resources(cpu="4", mem="8Gi"),
         pod_template=_pod_template(i))(work)
    for i in range(300)
]
