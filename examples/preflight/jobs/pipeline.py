"""Three tasks for the preflight demo: one the namespace's LimitRange refuses, one no node group can run once
its daemonsets are counted, and one that passes."""

from flytekit import Resources, task, workflow


# fits a general node, within every rule
@task(requests=Resources(cpu="1", mem="2Gi"))
def prepare(n: int) -> int:
    return n


# under the platform's 96Gi limit, but the namespace's LimitRange allows 32Gi per container
@task(requests=Resources(cpu="4", mem="48Gi"))
def aggregate(n: int) -> int:
    return n * 2


# one L4 and 7600m of an L4 node's 7910m cpus: it would fit an empty node, but the daemonsets every GPU node
# runs (cluster/daemonsets.yaml) take 350m of them
@task(resources=Resources(gpu="L4:1", cpu="7600m", mem="24Gi"))
def train(n: int) -> float:
    return n / 2


@workflow
def pipeline(n: int = 3) -> float:
    return train(n=aggregate(n=prepare(n=n)))
