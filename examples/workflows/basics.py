"""CPU and memory: requests, limits, a (request, limit) pair, a map task and a node override."""

import typing

from flytekit import Resources, map_task, task, workflow


@task(requests=Resources(cpu="500m", mem="1Gi"), limits=Resources(cpu="1", mem="2Gi"))
def prepare(n: int) -> typing.List[int]:
    return list(range(n))


# flytekit's own docstring example: ints work (stock flytekit cannot serialize this task)
@task(requests=Resources(cpu=1, mem=1024**3))
def square(x: int) -> int:
    return x * x


# a single value sets request AND limit; a pair sets them separately
@task(resources=Resources(cpu=("1", "2"), mem="4Gi", ephemeral_storage="10Gi"))
def total(xs: typing.List[int]) -> int:
    return sum(xs)


@workflow
def pipeline(n: int = 10) -> int:
    xs = prepare(n=n)
    squares = map_task(square)(x=xs).with_overrides(limits=Resources(cpu="2", mem="2Gi"))
    return total(xs=squares).with_overrides(resources=Resources(cpu=("2", "4"), mem="8Gi"))
