"""Pod templates built with the helpers: each returns a new template, so they compose safely."""

from flytekit import Resources, task, workflow

from flytekitplugins.resources import pod

# CPU pool with a toleration, an env var and scratch space on the primary container
batch = pod.with_node_selector(pod.pod_template(), {"pool": "batch"})
batch = pod.with_tolerations(batch, [{"key": "dedicated", "operator": "Equal", "value": "batch",
                                      "effect": "NoSchedule"}])
batch = pod.with_env(batch, {"OMP_NUM_THREADS": "4"})
batch = pod.with_resources(batch, limits=Resources(ephemeral_storage="20Gi"))

# four A100 80GB with flytepropeller's node affinity and tolerations, and a 32Gi /dev/shm
finetune_template = pod.with_shared_memory(pod.with_accelerator(pod.pod_template(), "A100 80G:4"), "32Gi")


# the task's resources merge into the template's primary container: per resource the task wins,
# the template's others (ephemeral storage here) are kept
@task(pod_template=batch, requests=Resources(cpu="4", mem="16Gi"), limits=Resources(mem="16Gi"))
def preprocess(n: int) -> int:
    return n


@task(pod_template=finetune_template, resources=Resources(cpu="16", mem="128Gi"))
def finetune(n: int) -> int:
    return n


@workflow
def templated(n: int = 1) -> int:
    return finetune(n=preprocess(n=n))
