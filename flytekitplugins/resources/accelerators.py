"""The accelerator catalog: GPU, TPU, Neuron and AMD models, their MIG profiles and TPU slices.

Every constant is a ``flytekit.extras.accelerators.BaseAccelerator`` and serializes like
flytekit's own (``A100`` -> device ``nvidia-tesla-a100``; ``A100.partition_1g_5gb`` ->
partition ``1g.5gb``). Each also knows its vendor's Kubernetes resource name.

A GPU request can name the model and the count in one string, as in Flyte 2
(``Resources(gpu="A100:2")``)::

    <gpu spec> ::= <count>
                 | <model> [":" <count>]
                 | <model> [" MIG"] " " <partition> [":" <count>]

``<model>`` is a catalog name or one of its spellings, matched case-insensitively
(``"A100 80G"``, ``"a100_80gb"``, ``"H100"``); ``<partition>`` is a MIG profile or TPU slice
the model has (``"H100 MIG 3g.40gb"``, ``"V5E 2x4"``). A MIG partition counts one GPU unless
a count is given. MIG profiles follow NVIDIA's MIG user guide and the GPU operator's
default configuration; TPU slices and chips per host follow GKE's documentation.
"""

from __future__ import annotations

import re
from typing import Dict, NamedTuple, Optional, Tuple

from flyteidl.core import tasks_pb2
from flytekit.extras.accelerators import BaseAccelerator

from .quantity import ResourceValidationError

__all__ = [
    "A10",
    "A10G",
    "A100",
    "A100_80GB",
    "B200",
    "CATALOG",
    "H100",
    "H200",
    "INFERENTIA2",
    "L4",
    "L40S",
    "MI250X",
    "MI300X",
    "MI325X",
    "RTX_PRO_6000",
    "T4",
    "TPU_V5E",
    "TPU_V5P",
    "TPU_V6E",
    "TRAINIUM1",
    "TRAINIUM2",
    "V100",
    "Accelerator",
    "AcceleratorModel",
    "GPUSpec",
    "accelerator_for_device",
    "find_model",
    "parse_gpu_spec",
    "resource_name_for",
]

NVIDIA_GPU = "nvidia.com/gpu"
GOOGLE_TPU = "google.com/tpu"
AWS_NEURON = "aws.amazon.com/neuron"
AMD_GPU = "amd.com/gpu"


class AcceleratorModel(NamedTuple):
    """One accelerator model: what Flyte calls it and what Kubernetes calls its devices."""

    name: str  #: the catalog name, e.g. "A100 80GB"
    device: str  #: the device string sent to Flyte (flytekit's, where flytekit has a constant)
    vendor: str  #: "NVIDIA", "Google", "AWS" or "AMD"
    resource_name: str  #: the Kubernetes extended resource, e.g. "nvidia.com/gpu"
    spellings: Tuple[str, ...] = ()  #: other names accepted in gpu="NAME:COUNT"
    partitions: Tuple[str, ...] = ()  #: MIG profiles or TPU slice topologies
    chips_per_host: Tuple[int, ...] = ()  #: TPU only: the chip counts one host (pod) can have

    @property
    def partition_kind(self) -> str:
        if not self.partitions:
            return ""
        return "TPU slice" if self.resource_name == GOOGLE_TPU else "MIG profile"


def _mig(*profiles: str) -> Tuple[str, ...]:
    return profiles


_V5E_SLICES = ("1x1", "2x2", "2x4", "4x4", "4x8", "8x8", "8x16", "16x16")
_V5P_SLICES = ("2x2x1", "2x2x2", "2x4x4", "4x4x4", "4x4x8", "4x8x8", "8x8x8", "8x8x16", "8x16x16", "16x16x16",
               "16x16x24")
_MIG_80GB = _mig("1g.10gb", "1g.10gb+me", "1g.20gb", "2g.20gb", "3g.40gb", "4g.40gb", "7g.80gb")

_MODELS = (
    AcceleratorModel("T4", "nvidia-tesla-t4", "NVIDIA", NVIDIA_GPU),
    AcceleratorModel("L4", "nvidia-l4", "NVIDIA", NVIDIA_GPU),
    AcceleratorModel("L40S", "nvidia-l40s", "NVIDIA", NVIDIA_GPU),
    AcceleratorModel("A10", "nvidia-a10", "NVIDIA", NVIDIA_GPU),
    AcceleratorModel("A10G", "nvidia-a10g", "NVIDIA", NVIDIA_GPU),
    AcceleratorModel("V100", "nvidia-tesla-v100", "NVIDIA", NVIDIA_GPU),
    AcceleratorModel("A100", "nvidia-tesla-a100", "NVIDIA", NVIDIA_GPU, ("A100 40GB", "A100 40G"),
                     _mig("1g.5gb", "1g.5gb+me", "1g.10gb", "2g.10gb", "3g.20gb", "4g.20gb", "7g.40gb")),
    AcceleratorModel("A100 80GB", "nvidia-a100-80gb", "NVIDIA", NVIDIA_GPU, ("A100 80G",), _MIG_80GB),
    AcceleratorModel("H100", "nvidia-h100", "NVIDIA", NVIDIA_GPU, ("H100 80GB", "H100 80G"), _MIG_80GB),
    AcceleratorModel("H200", "nvidia-h200", "NVIDIA", NVIDIA_GPU, ("H200 141GB",),
                     _mig("1g.18gb", "1g.18gb+me", "1g.35gb", "2g.35gb", "3g.71gb", "4g.71gb", "7g.141gb")),
    AcceleratorModel("B200", "nvidia-b200", "NVIDIA", NVIDIA_GPU, ("B200 180GB",),
                     _mig("1g.23gb", "1g.23gb+me", "1g.45gb", "2g.45gb", "3g.90gb", "4g.90gb", "7g.180gb")),
    AcceleratorModel("RTX PRO 6000", "nvidia-rtx-pro-6000", "NVIDIA", NVIDIA_GPU),
    AcceleratorModel("TPU v5e", "tpu-v5-lite-podslice", "Google", GOOGLE_TPU, ("V5E", "v5litepod"), _V5E_SLICES,
                     (1, 4, 8)),
    AcceleratorModel("TPU v5p", "tpu-v5p-slice", "Google", GOOGLE_TPU, ("V5P",), _V5P_SLICES, (4,)),
    AcceleratorModel("TPU v6e", "tpu-v6e-slice", "Google", GOOGLE_TPU, ("V6E",), _V5E_SLICES, (1, 4, 8)),
    AcceleratorModel("Inferentia2", "aws-neuron-inf2", "AWS", AWS_NEURON, ("Inf2",)),
    AcceleratorModel("Trainium1", "aws-neuron-trn1", "AWS", AWS_NEURON, ("Trn1", "Trainium")),
    AcceleratorModel("Trainium2", "aws-neuron-trn2", "AWS", AWS_NEURON, ("Trn2",)),
    AcceleratorModel("MI250X", "amd-mi250x", "AMD", AMD_GPU, ("Instinct MI250X",)),
    AcceleratorModel("MI300X", "amd-mi300x", "AMD", AMD_GPU, ("Instinct MI300X",)),
    AcceleratorModel("MI325X", "amd-mi325x", "AMD", AMD_GPU, ("Instinct MI325X",)),
)


#: extended resources that count whole accelerator devices (a request must equal its limit)
DEVICE_RESOURCE_NAMES = frozenset({NVIDIA_GPU, GOOGLE_TPU, AWS_NEURON, AMD_GPU, "aws.amazon.com/neuroncore",
                                   "aws.amazon.com/neurondevice", "habana.ai/gaudi"})


def is_device_resource(name: str) -> bool:
    """Whether a Kubernetes resource name counts accelerator devices (``nvidia.com/mig-1g.5gb`` too)."""
    return name in DEVICE_RESOURCE_NAMES or name.startswith("nvidia.com/mig-")


def _key(name: str) -> str:
    """Spellings that differ only in case, spaces, '-' or '_' are the same name."""
    return re.sub(r"[\s_\-]+", "", name).lower()


#: catalog name -> model
CATALOG: Dict[str, AcceleratorModel] = {m.name: m for m in _MODELS}
_BY_KEY: Dict[str, AcceleratorModel] = {}
for _m in _MODELS:
    for _spelling in (_m.name, *_m.spellings):
        _BY_KEY[_key(_spelling)] = _m
_BY_DEVICE: Dict[str, AcceleratorModel] = {m.device: m for m in _MODELS}


def find_model(name: str) -> Optional[AcceleratorModel]:
    """The model a name or spelling denotes (case-insensitive), or None."""
    return _BY_KEY.get(_key(name))


def _attribute_for(partition: str) -> str:
    prefix = "slice_" if "x" in partition and "g." not in partition else "partition_"
    return prefix + partition.replace(".", "_").replace("+", "_")


_UNSET = object()


class Accelerator(BaseAccelerator):
    """A catalog accelerator: a whole device, one of its partitions, or explicitly unpartitioned.

    ``H100.partitioned("3g.40gb")`` and ``H100.partition_3g_40gb`` are the same MIG partition;
    ``TPU_V5E.slice_2x4`` is a TPU slice. A partition the model does not have raises
    :class:`ResourceValidationError` listing the ones it has.
    """

    def __init__(self, model: AcceleratorModel, partition: object = _UNSET) -> None:
        self._model = model
        self._partition = partition  # _UNSET: no preference; None: unpartitioned; str: a partition

    @property
    def model(self) -> AcceleratorModel:
        return self._model

    @property
    def device(self) -> str:
        return self._model.device

    @property
    def resource_name(self) -> str:
        """The vendor's Kubernetes resource name (``nvidia.com/gpu``, ``google.com/tpu``, ...)."""
        return self._model.resource_name

    @property
    def partition(self) -> Optional[str]:
        """The MIG profile or TPU slice, or None."""
        return self._partition if isinstance(self._partition, str) else None

    def partitioned(self, partition: str) -> Accelerator:
        """This model's MIG profile or TPU slice ``partition``."""
        if partition not in self._model.partitions:
            raise ResourceValidationError(
                f"{self._model.name} has no {self._model.partition_kind or 'partition'} {partition!r}",
                field="accelerator",
                value=partition,
                hint=(f"use one of {', '.join(self._model.partitions)}" if self._model.partitions
                      else f"{self._model.name} cannot be partitioned"),
            )
        return Accelerator(self._model, partition)

    @property
    def unpartitioned(self) -> Accelerator:
        """A whole device, never a partition."""
        return Accelerator(self._model, None)

    def __getattr__(self, name: str) -> Accelerator:
        if name.startswith(("partition_", "slice_")) and not name.startswith("_"):
            for partition in self._model.partitions:
                if _attribute_for(partition) == name:
                    return self.partitioned(partition)
            kind = self._model.partition_kind or "partition"
            valid = ", ".join(_attribute_for(p) for p in self._model.partitions) or "none"
            raise AttributeError(
                f"{self._model.name} has no {kind} attribute {name!r}; valid: {valid} "
                f"(or .partitioned('<profile>'))"
            )
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __dir__(self):
        return sorted(set(super().__dir__()) | {_attribute_for(p) for p in self._model.partitions})

    def to_flyte_idl(self) -> tasks_pb2.GPUAccelerator:
        msg = tasks_pb2.GPUAccelerator(device=self.device)
        if self._partition is None:
            msg.unpartitioned = True
        elif isinstance(self._partition, str):
            msg.partition_size = self._partition
        return msg

    def __eq__(self, other: object) -> bool:
        """Equal to a catalog accelerator that serializes the same, and to flytekit's own constant for the same
        device and partition (``A100 == flytekit.extras.accelerators.A100``). flytekit's accelerators compare by
        identity, so any other flytekit object is unequal: equal objects must hash alike."""
        if isinstance(other, Accelerator):
            return self._idl_key() == other._idl_key()
        if not isinstance(other, BaseAccelerator):
            return NotImplemented
        return other is _stock_twin(self._idl_key())

    def __hash__(self) -> int:
        twin = _stock_twin(self._idl_key())
        return hash(twin) if twin is not None else hash(self._idl_key())

    def _idl_key(self) -> bytes:
        return self.to_flyte_idl().SerializeToString(deterministic=True)

    def __repr__(self) -> str:
        name = self._model.name
        if isinstance(self._partition, str):
            return f"Accelerator({name!r}, partition={self._partition!r})"
        if self._partition is None:
            return f"Accelerator({name!r}, unpartitioned)"
        return f"Accelerator({name!r})"


_STOCK_BY_IDL: Optional[dict] = None


def _stock_twin(key: bytes) -> Optional[BaseAccelerator]:
    """flytekit's own constant (or partition attribute of one) that serializes as ``key``, if any."""
    global _STOCK_BY_IDL
    if _STOCK_BY_IDL is None:
        from flytekit.extras import accelerators as stock

        table: dict = {}
        for value in vars(stock).values():
            if isinstance(value, BaseAccelerator) and not isinstance(value, Accelerator):
                candidates = [value] + [v for k, v in vars(type(value)).items()
                                        if not k.startswith("_") and isinstance(v, BaseAccelerator)]
                for c in candidates:
                    try:
                        table.setdefault(c.to_flyte_idl().SerializeToString(deterministic=True), c)
                    except Exception:  # an odd object flytekit might add: not a twin
                        continue
        _STOCK_BY_IDL = table
    return _STOCK_BY_IDL.get(key)


def _constant(name: str) -> Accelerator:
    return Accelerator(CATALOG[name])


T4 = _constant("T4")
L4 = _constant("L4")
L40S = _constant("L40S")
A10 = _constant("A10")
A10G = _constant("A10G")
V100 = _constant("V100")
A100 = _constant("A100")
A100_80GB = _constant("A100 80GB")
H100 = _constant("H100")
H200 = _constant("H200")
B200 = _constant("B200")
RTX_PRO_6000 = _constant("RTX PRO 6000")
TPU_V5E = _constant("TPU v5e")
TPU_V5P = _constant("TPU v5p")
TPU_V6E = _constant("TPU v6e")
INFERENTIA2 = _constant("Inferentia2")
TRAINIUM1 = _constant("Trainium1")
TRAINIUM2 = _constant("Trainium2")
MI250X = _constant("MI250X")
MI300X = _constant("MI300X")
MI325X = _constant("MI325X")


def accelerator_for_device(accelerator: BaseAccelerator) -> Optional[AcceleratorModel]:
    """The catalog model of any accelerator (ours or flytekit's), by its device string."""
    try:
        device = accelerator.to_flyte_idl().device
    except Exception:
        return None
    return _BY_DEVICE.get(device)


def resource_name_for(accelerator: Optional[BaseAccelerator], default: str = NVIDIA_GPU) -> str:
    """The Kubernetes resource name an accelerator's devices are requested under."""
    if accelerator is None:
        return default
    model = accelerator_for_device(accelerator)
    return model.resource_name if model else default


def partition_of(accelerator: BaseAccelerator) -> Optional[str]:
    """The MIG profile or TPU slice of any accelerator (ours or flytekit's), or None."""
    msg = accelerator.to_flyte_idl()
    return msg.partition_size if msg.WhichOneof("partition_size_value") == "partition_size" else None


class GPUSpec(NamedTuple):
    """A parsed ``gpu=`` value: how many devices, and of which accelerator (if named)."""

    count: int
    accelerator: Optional[Accelerator] = None


#: the most devices one gpu= string may ask for: far above any node, low enough that a typo is caught
MAX_DEVICE_COUNT = 1_000_000


def _is_partition(token: str) -> bool:
    """``3g.40gb``, ``1g.5gb+me`` (MIG) or ``2x4``, ``2x2x1`` (TPU), any case."""
    t = token.lower()
    if t.endswith("+me"):
        t = t[:-3]
        return t.endswith("gb") and _is_partition(t) and "x" not in t
    if t.endswith("gb"):
        parts = t[:-2].split("g.")
        return len(parts) == 2 and all(p.isdecimal() for p in parts)
    parts = t.split("x")
    return len(parts) in (2, 3) and all(p.isdecimal() for p in parts)


def _split_spec(text: str) -> Tuple[str, Optional[str], Optional[str]]:
    """``(model, partition or None, count text or None)`` of ``"MODEL[ [MIG ]PARTITION][:COUNT]"``.

    Linear in the length of ``text``: the count is what follows the first ``:``, the partition the last
    word before it when it has a partition's shape (an optional ``MIG`` word before it is dropped).
    """
    head, colon, count = text.partition(":")
    words = head.rsplit(None, 1)
    partition = None
    if len(words) == 2 and head[:1].strip() and _is_partition(words[1]):
        partition = words[1]
        head = words[0]
        rest = head.rsplit(None, 1)
        if len(rest) == 2 and rest[1].upper() == "MIG":
            head = rest[0]
    return head.strip(), partition, (count if colon else None)


def _names() -> str:
    return ", ".join(m.name for m in _MODELS)


def parse_gpu_spec(value: str, field_name: str = "gpu") -> Optional[GPUSpec]:
    """Parse ``"A100:2"``, ``"H100 MIG 3g.40gb"``, ``"A100 80G:4"``; None for a plain quantity ("2")."""
    text = value
    if not text or text[0].isdigit() or text[0] in "+-.":
        return None
    if text != text.strip():
        raise ResourceValidationError(
            "has surrounding whitespace", field=field_name, value=value, hint=f"write {text.strip()!r}"
        )
    model_text, partition, count_text = _split_spec(text)
    model = find_model(model_text) if model_text else None
    if model is None:
        raise ResourceValidationError(
            "is not a GPU count or a known accelerator",
            field=field_name,
            value=value,
            hint=f"write a count ('1') or MODEL:COUNT such as 'A100:2', with MODEL one of {_names()}",
        )
    accelerator = Accelerator(model)
    if partition:
        try:
            accelerator = accelerator.partitioned(partition.lower())
        except ResourceValidationError as e:
            raise ResourceValidationError(e.problem, field=field_name, value=value, hint=e.hint) from None
    if count_text is None:
        if partition and model.resource_name == GOOGLE_TPU:
            count = _tpu_chips(model, partition.lower(), value, field_name)
        elif partition:
            count = 1  # one MIG instance
        else:
            raise ResourceValidationError(
                "names an accelerator but not how many",
                field=field_name,
                value=value,
                hint=f"add a count: '{text}:1'",
            )
    else:
        digits = count_text.strip()
        significant = digits.lstrip("0")
        if not (digits.isascii() and digits.isdigit()) or not significant:
            raise ResourceValidationError(
                f"the count {count_text!r} is not a whole number of at least 1",
                field=field_name,
                value=value,
                hint=f"write '{model_text}:1', or leave gpu unset for no accelerator",
            )
        if len(significant) > len(str(MAX_DEVICE_COUNT)) or int(significant) > MAX_DEVICE_COUNT:
            raise ResourceValidationError(
                f"the count {digits[:20]}{'...' if len(digits) > 20 else ''} is more devices than any node has",
                field=field_name,
                value=value,
                hint=f"ask for at most {MAX_DEVICE_COUNT:,} devices; a typo in the count?",
            )
        count = int(significant)
    if model.chips_per_host and count not in model.chips_per_host:
        raise ResourceValidationError(
            f"a {model.name} host has {', '.join(map(str, model.chips_per_host))} chips, not {count}",
            field=field_name,
            value=value,
            hint="request the chips of one host; a multi-host slice runs one pod per host",
        )
    return GPUSpec(count, accelerator)


def _tpu_chips(model: AcceleratorModel, topology: str, value: str, field_name: str) -> int:
    chips = 1
    for dim in topology.split("x"):
        chips *= int(dim)
    if chips not in model.chips_per_host:
        raise ResourceValidationError(
            f"the {model.name} slice {topology} spans several hosts",
            field=field_name,
            value=value,
            hint=f"give the chips per host, e.g. '{model.spellings[0]} {topology}:{max(model.chips_per_host)}'",
        )
    return chips

