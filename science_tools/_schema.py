"""The one science schema: JSON-safe dictionaries and display rows for every report type.

Every report dataclass inherits ``ReportMixin`` and so gets the same two methods:

- ``to_dict()``: the machine form. Only ``str`` keys; values are ``str``, ``int``, ``float``, ``bool``, ``None``,
  lists and dicts; NaN/±inf become ``None``; tuples become lists; lone surrogates (possible in text a Python
  caller passes) become U+FFFD, so the result survives ``json.dumps(..., allow_nan=False)`` and orjson, which
  refuses them. Every report dict carries ``kind``; the checking reports also ``ok``, ``input``, ``error`` and
  ``warnings`` (see ``docs/science_tools.md`` for one table per report).
- ``display_rows()``: the human form, ``[(label with unit, formatted value), …]`` in lab language, built from
  ``to_dict()`` so that cards, panels and exports show the same numbers.
"""

import math
import numbers
import re
from collections.abc import Mapping
from dataclasses import fields
from typing import Any, ClassVar


__all__ = ["ReportMixin", "json_safe"]

_SURROGATE = re.compile("[\ud800-\udfff]")
_LEADING_KEYS = ("ok", "input")  # after "kind": the shared vocabulary reads first in every dict


def _valid_unicode(text: str) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # only lone surrogates fail to encode
        return _SURROGATE.sub("\ufffd", text)
    return text


def json_safe(value: Any) -> Any:
    """Return ``value`` as plain JSON data (see the module docstring for the rules).

    Args:
        value: A report field: None, bool, str, a number, or a (nested) mapping / list / tuple of them.

    Returns:
        The converted value; containers are copied, never shared with the report.

    Raises:
        TypeError: On a mapping key that is not a str or a value of another type: both are programming
            errors in this package, and a test feeds every report kind through here.
    """
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return _valid_unicode(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, Mapping):
        converted = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"report dict keys must be str, got {type(key).__name__} {key!r}")
            converted[_valid_unicode(key)] = json_safe(item)
        return converted
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    raise TypeError(f"{type(value).__name__} is not part of the science schema")


class ReportMixin:
    """``to_dict`` / ``display_rows`` for the frozen report dataclasses.

    Subclasses without a ``kind`` field set ``REPORT_KIND``; it becomes the dict's ``kind``. ``DISPLAY_KEYS``
    lists the top-level keys ``display_rows`` shows, in order. A subclass can
    reshape individual fields for the wire by overriding ``_wire_fields`` (e.g. position pairs → objects).
    """

    REPORT_KIND: ClassVar[str | None] = None
    DISPLAY_KEYS: ClassVar[tuple[str, ...]] = ()

    def _wire_fields(self) -> dict[str, Any]:
        return {field.name: getattr(self, field.name) for field in fields(self)}  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-safe data with the shared key vocabulary (``kind`` first).

        Returns:
            A new dict; ``json.dumps(report.to_dict())`` always works.
        """
        data = self._wire_fields()
        head = {"kind": data.pop("kind", self.REPORT_KIND)}
        head.update({key: data.pop(key) for key in _LEADING_KEYS if key in data})
        return json_safe({**head, **data})

    def display_rows(self) -> list[tuple[str, str]]:
        """``(label with unit, formatted value)`` rows for cards, panels and exports.

        Returns:
            Rows in a fixed order per report type; an invalid report yields its error (and warnings).
        """
        from ._display import display_rows  # lazy: keeps the dataclass module import-light

        return display_rows(self.to_dict(), self.DISPLAY_KEYS)
