"""Three tasks for the preflight demo: one the namespace's LimitRange refuses, one no node group can run,
and one that passes."""

from flytekit import Resources, task, workflow


# fits a general node, within every rule
@task(requests=Resources(cpu="1", mem="2Gi"))
def prepare(n: int) -> int:
    return n


# under the platform's 96Gi limit, but the namespace's LimitRange allows 32Gi per container
@task(requests=Resources(cpu="4", mem="48Gi"))
def aggregate(n: int) -> int:
    return n * 2


# 8 A100s in one pod: allowed by the policy, but the largest A100 node has 4
@task(resources=Resources(gpu="A100:8", cpu="16", mem="24Gi"))
def train(n: int) -> float:
    return n / 2


@workflow
def pipeline(n: int = 3) -> float:
    return train(n=aggregate(n=prepare(n=n)))
