"""Parsing JSON from a file without trusting it: bounded in size and in nesting depth.

Python's `json` has no depth limit: a few thousand nested brackets raise RecursionError, which is
no ValueError and escapes a reader's `except`. The depth is measured on the text first (strings
blanked out, then a running count of brackets), so the parser never meets a document deeper than
`max_depth`.
"""

from __future__ import annotations

import json
import re

import numpy as np

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_OPENERS = np.frombuffer(b"[{", np.uint8)
_CLOSERS = np.frombuffer(b"]}", np.uint8)


class JsonLimitError(ValueError):
    """The text is not JSON, or is larger or deeper than allowed. The message says which."""


def nesting_depth(text: str) -> int:
    """The deepest bracket nesting of a JSON text (0 for a bare number or string)."""
    skeleton = np.frombuffer(_STRING.sub('""', text).encode("utf-8", "replace"), np.uint8)
    steps = np.isin(skeleton, _OPENERS).astype(np.int32) - np.isin(skeleton, _CLOSERS).astype(np.int32)
    return int(np.cumsum(steps).max(initial=0))


def loads_bounded(text: str, max_chars: int, max_depth: int) -> object:
    """json.loads(text), refusing text over `max_chars` characters or nested deeper than `max_depth`."""
    if len(text) > max_chars:
        raise JsonLimitError(f"{len(text):,} characters of JSON, more than {max_chars:,}")
    depth = nesting_depth(text)
    if depth > max_depth:
        raise JsonLimitError(f"JSON nested {depth} deep, more than {max_depth}")
    try:
        return json.loads(text)
    except RecursionError:  # cannot happen below max_depth; kept so that it never escapes as one
        raise JsonLimitError("JSON nested too deep") from None
    except ValueError as error:  # JSONDecodeError, or an integer of more digits than Python converts
        raise JsonLimitError(f"not valid JSON ({error})") from None
