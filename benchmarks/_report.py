"""The one JSON line every benchmark prints per measurement (collected by ``python -m benchmarks``)."""

import json


def result_row(
    name: str, ours: float, peer: float, unit: str, identical: bool, *, higher_is_better: bool = True, **extra
) -> dict:
    """``{name, ours, peer, unit, better, ratio, outputs_identical, **extra}``; ratio > 1 means ours is better.

    ``better`` says which direction of the unit is better ("higher" for throughput, "lower" for times and sizes);
    ``ratio`` is oriented by it, and is None when the divisor is zero (nothing measurable on that side).
    """
    numerator, denominator = (ours, peer) if higher_is_better else (peer, ours)
    return {"name": name, "ours": round(ours, 4), "peer": round(peer, 4), "unit": unit,
            "better": "higher" if higher_is_better else "lower",
            "ratio": round(numerator / denominator, 3) if denominator else None, "outputs_identical": identical,
            **extra}  # fmt: skip


def emit_row(
    name: str, ours: float, peer: float, unit: str, identical: bool, *, higher_is_better: bool = True, **extra
) -> None:
    """Print :func:`result_row` as one JSON line."""
    print(
        json.dumps(result_row(name, ours, peer, unit, identical, higher_is_better=higher_is_better, **extra)),
        flush=True,
    )
