"""Label schemas: a flat list of labels, or structured fields (category / component / priority).

A structured label is stored and exported as one string, its field values joined by ``", "`` in
schema order, e.g. ``"Technical issue, file upload, high priority"``; :meth:`LabelSchema.parse`
turns it back into fields. Values therefore may not contain ``", "``.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from pathlib import Path

from .errors import BadInput

SEP = ", "


@dataclass(frozen=True)
class LabelSchema:
    """Allowed labels of a dataset.

    Parameters
    ----------
    labels
        Allowed labels of a flat schema (empty for a structured schema).
    fields
        Ordered mapping field name -> allowed values, for a structured schema.
    open
        When true (no schema given at import), any label is accepted and the schema only
        records the labels seen.
    """

    labels: tuple[str, ...] = ()
    fields: tuple[tuple[str, tuple[str, ...]], ...] = ()
    open: bool = False

    def __post_init__(self) -> None:
        if self.labels and self.fields:
            raise BadInput("label schema: give either 'labels' or 'fields', not both")
        for name, values in self.fields:
            if not values:
                raise BadInput(f"label schema: field '{name}' has no allowed values")
            for v in values:
                if SEP.strip() in v:
                    raise BadInput(
                        f"label schema: value {v!r} of field '{name}' contains ','; "
                        "structured values are joined with ', ' and may not contain commas"
                    )

    @property
    def structured(self) -> bool:
        return bool(self.fields)

    @property
    def field_names(self) -> list[str]:
        return [name for name, _ in self.fields]

    def allowed(self) -> list[str]:
        """Every allowed label string (for a structured schema, per field see :attr:`fields`)."""
        return list(self.labels)

    # -- (de)serialisation -------------------------------------------------------------
    def to_dict(self) -> dict:
        if self.structured:
            return {"fields": {name: list(values) for name, values in self.fields}}
        return {"labels": list(self.labels), "open": self.open}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: dict | list | None) -> "LabelSchema":
        if data is None:
            return cls(open=True)
        if isinstance(data, list):
            return cls(labels=tuple(str(x) for x in data))
        if "fields" in data:
            raw = data["fields"]
            if not isinstance(raw, dict) or not raw:
                raise BadInput("label schema: 'fields' must map each field name to its allowed values")
            return cls(fields=tuple((str(k), tuple(str(v) for v in vals)) for k, vals in raw.items()))
        if "labels" in data:
            return cls(labels=tuple(str(x) for x in data["labels"]), open=bool(data.get("open", False)))
        raise BadInput("label schema: expected {'labels': [...]} or {'fields': {name: [...]}}")

    @classmethod
    def from_json(cls, text: str | None) -> "LabelSchema":
        return cls.from_dict(json.loads(text) if text else None)

    @classmethod
    def load(cls, path: str | Path) -> "LabelSchema":
        """Read a schema file: JSON ``{"labels": [...]}``, ``{"fields": {...}}`` or a plain list."""
        p = Path(path)
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise BadInput(f"{p}:0:-: schema file does not exist") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise BadInput(f"{p}:0:-: schema file is not valid UTF-8 JSON ({exc})") from None
        return cls.from_dict(data)

    # -- labels --------------------------------------------------------------------------
    def parse(self, label: str) -> dict[str, str]:
        """Split a structured label into its fields (a flat label maps to ``{"label": label}``)."""
        if not self.structured:
            return {"label": label}
        parts = [p.strip() for p in label.split(",")]
        return dict(zip(self.field_names, parts))

    def join(self, values: dict[str, str]) -> str:
        """Build the label string from field values (structured schemas)."""
        return SEP.join(values[name] for name in self.field_names)

    def check(self, label: str) -> str | None:
        """Return ``None`` when ``label`` is allowed, else a message saying why and what to do."""
        if self.open:
            return None
        if not self.structured:
            if label in self.labels:
                return None
            return f"label {label!r} is not in the label schema{_closest(label, self.labels)}"
        parts = [p.strip() for p in label.split(",")]
        if len(parts) != len(self.fields):
            return (
                f"label {label!r} has {len(parts)} part(s) but the schema has {len(self.fields)} "
                f"fields ({', '.join(self.field_names)}); write them as '{SEP.join(self.field_names)}'"
            )
        for (name, values), part in zip(self.fields, parts):
            if part not in values:
                return f"{name} {part!r} is not allowed{_closest(part, values)}"
        return None

    def with_seen(self, labels: list[str]) -> "LabelSchema":
        """An open schema extended with ``labels`` (sorted, unique)."""
        if not self.open:
            return self
        return LabelSchema(labels=tuple(sorted(set(self.labels) | set(labels))), open=True)


def _closest(value: str, allowed: tuple[str, ...] | list[str]) -> str:
    close = difflib.get_close_matches(value, list(allowed), n=1, cutoff=0.6)
    if close:
        return f"; did you mean {close[0]!r}?"
    preview = ", ".join(list(allowed)[:5])
    more = f", ... ({len(allowed)} in all)" if len(allowed) > 5 else ""
    return f"; allowed: {preview}{more}"
