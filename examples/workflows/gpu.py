"""Accelerators by name and count, MIG partitions, shared memory."""

from flytekit import Resources, task, workflow

from flytekitplugins.resources import TPU_V5E


# type and count in one string: the count is the GPU resource, the type the task's accelerator
@task(resources=Resources(gpu="A100:2", cpu="8", mem="64Gi"), shared_memory="16Gi")
def train(epochs: int) -> float:
    return 0.1 * epochs


# a MIG partition counts one GPU unless told otherwise
@task(limits=Resources(gpu="H100 MIG 3g.40gb", mem="32Gi"), requests=Resources(cpu="4", mem="32Gi"))
def evaluate(loss: float) -> float:
    return 1 - loss


# flyte 2 spellings work too ("A100 80G", "L40s"); shared_memory=True sizes /dev/shm to the node
@task(resources=Resources(gpu="L4:1", cpu="2", mem="16Gi"), shared_memory=True)
def embed(text: str) -> int:
    return len(text)


@task(limits=Resources(gpu="4"), accelerator=TPU_V5E.slice_2x2)
def tpu_step(x: int) -> int:
    return x


@workflow
def gpu_pipeline(epochs: int = 3) -> float:
    loss = train(epochs=epochs)
    embed(text="hello").with_overrides(resources=Resources(gpu="A100 80G:1", mem="32Gi"))
    tpu_step(x=epochs)
    return evaluate(loss=loss)
