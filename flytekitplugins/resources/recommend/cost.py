"""What a pod costs per hour on the node group it lands on, from an optional ``price-per-hour`` per group.

A node-group file (the policy's ``node-groups``) may give each group its price::

    nodeGroups:
      - name: general
        allocatable: {cpu: "15890m", memory: 60Gi, pods: "110"}
        price-per-hour: 0.768

The pod lands on the cheapest priced group it fits (kube-scheduler's filters, ``preflight.nodefit.fit``; the
cluster autoscaler's ``price`` expander picks the same). Its cost is the group's price times its share of the
node, the largest of its fractions of the node's allocatable CPU, memory and GPUs (what it requests): as
Kubecost allocates a node's cost by requests, except that the node is not split between CPU and memory by fixed
weights: the resource a pod takes most of is the part of the node no other pod can use.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ..quantity import Quantity, ResourceValidationError

__all__ = ["PricedGroup", "load_prices", "pod_cost"]

_GPU_NAMES = ("nvidia.com/gpu", "amd.com/gpu", "google.com/tpu", "aws.amazon.com/neuron")
PricedGroup = Tuple[Any, float]  # (NodeGroup, price per hour)


def load_prices(groups: Sequence[Any]) -> List[PricedGroup]:
    """The groups that carry a ``price-per-hour`` in the file they were read from (``NodeGroup.source``).

    Raises :class:`ResourceValidationError` naming the file and key when a price is not a number >= 0."""
    import yaml

    by_source: Dict[str, Dict[str, Any]] = {}
    out: List[PricedGroup] = []
    for g in groups:
        if not g.source:
            continue
        if g.source not in by_source:
            try:
                with open(g.source, encoding="utf-8") as f:
                    doc = yaml.safe_load(f)
            except (OSError, yaml.YAMLError, UnicodeDecodeError) as e:
                raise ResourceValidationError(f"{g.source}: cannot be read for its prices ({type(e).__name__})") \
                    from None
            items = doc.get("nodeGroups") if isinstance(doc, dict) else None
            by_source[g.source] = {
                i.get("name"): (n, i["price-per-hour"]) for n, i in enumerate(items or [])
                if isinstance(i, dict) and "price-per-hour" in i
            }
        found = by_source[g.source].get(g.name)
        if found is None:
            continue
        index, price = found
        if isinstance(price, bool) or not isinstance(price, (int, float)) or price < 0 or price != price:
            raise ResourceValidationError(f"{g.source}: nodeGroups[{index}].price-per-hour: {price!r} must be a "
                                          "number >= 0 (the price of one node per hour)")
        out.append((g, float(price)))
    return out


def _fraction(need: Optional[Quantity], have: Optional[Quantity]) -> Decimal:
    if need is None or need.sign() <= 0:
        return Decimal(0)
    if have is None or have.sign() <= 0:
        return Decimal(1)
    return need.as_decimal() / have.as_decimal()


def pod_cost(pod: Dict[str, Any], priced: Sequence[PricedGroup],
             daemonsets: Sequence[Any] = ()) -> Optional[Tuple[str, float, float]]:
    """(group, price of a node per hour, the pod's cost per hour) on the cheapest priced group it fits beside the
    ``daemonsets`` that group runs, or ``None`` when it fits none of them."""
    if not priced:
        return None
    from ..preflight.nodefit import fit, pod_requests

    fitting = set(fit(pod, [g for g, _ in priced], daemonsets=daemonsets)[0])
    candidates = [(price, g) for g, price in priced if g.name in fitting]
    if not candidates:
        return None
    price, g = min(candidates, key=lambda c: (c[0], c[1].name))
    requests = pod_requests(pod)
    share = max([_fraction(requests.get("cpu"), g.allocatable.get("cpu")),
                 _fraction(requests.get("memory"), g.allocatable.get("memory"))]
                + [_fraction(requests.get(n), g.allocatable.get(n)) for n in _GPU_NAMES if n in requests])
    return g.name, price, float(min(share, Decimal(1)) * Decimal(repr(price)))
