"""JSON from files the app did not necessarily write: bounded in size and nesting before it is parsed.

Python's `json` has no depth limit of its own: `[[[[…]]]]` a few thousand deep raises RecursionError
from deep inside the parser, which is no error a caller expects. The nesting is measured first,
on the text with its strings blanked out, in one vectorized pass.
"""

from __future__ import annotations

import json
import re

import numpy as np

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)


class JsonBoundError(ValueError):
    """The text is too long, nested too deep or not JSON; the message says which."""


def nesting_depth(text: str) -> int:
    """How deep brackets and braces nest in `text`, not counting those inside strings."""
    skeleton = _STRING.sub("", text).encode("utf-8", "replace")
    codes = np.frombuffer(skeleton, dtype=np.uint8)
    steps = np.isin(codes, (ord("["), ord("{"))).astype(np.int64) - np.isin(codes, (ord("]"), ord("}")))
    return int(np.cumsum(steps).max(initial=0))


def loads_bounded(text: str, max_chars: int, max_depth: int) -> object:
    """`json.loads(text)`, refused with JsonBoundError past `max_chars` or `max_depth`."""
    if len(text) > max_chars:
        raise JsonBoundError(f"{len(text):,} characters of JSON, more than the {max_chars:,} allowed")
    depth = nesting_depth(text)
    if depth > max_depth:
        raise JsonBoundError(f"JSON nested {depth} deep, more than the {max_depth} allowed")
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as error:  # ValueError: also a number of over 4300 digits
        raise JsonBoundError(f"not valid JSON ({error})") from None
