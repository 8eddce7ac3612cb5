"""What the platform changes: a limit above the platform's, set alone, is lowered when the task runs."""

from flytekit import Resources, task, workflow


# only limits: flyteadmin checks requests at registration, so this registers, and each execution's
# limit is lowered to the platform's (task_resources.limits in examples/platform/flyte.yaml)
@task(limits=Resources(cpu="4", mem="200Gi"))
def aggregate(n: int) -> int:
    return n


@workflow
def reduce(n: int = 1) -> int:
    # a node override is not checked by flyteadmin; flytepropeller clamps it to the platform limit
    return aggregate(n=n).with_overrides(requests=Resources(mem="150Gi"))
