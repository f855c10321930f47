"""The one JSON line every benchmark prints per measurement (collected by ``python -m benchmarks``)."""

import json


def emit_row(
    name: str, ours: float, peer: float, unit: str, identical: bool, *, higher_is_better: bool = True, **extra
) -> None:
    """Print ``{name, ours, peer, unit, ratio, outputs_identical, **extra}``; ratio > 1 means ours is better.

    ``ratio`` is None when the divisor is zero (nothing measurable on that side).
    """
    numerator, denominator = (ours, peer) if higher_is_better else (peer, ours)
    row = {"name": name, "ours": round(ours, 4), "peer": round(peer, 4), "unit": unit,
           "ratio": round(numerator / denominator, 3) if denominator else None, "outputs_identical": identical,
           **extra}  # fmt: skip
    print(json.dumps(row), flush=True)
