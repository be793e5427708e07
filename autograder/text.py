"""Make text from an untrusted source (a worker, an upload, an export) safe to show.

Called once, where such text enters the trusted side. What comes out can be written to
a UTF-8 file, a JSON document or a terminal without an error and without the terminal
obeying it: it is valid Unicode (a lone surrogate would make every UTF-8 encoder raise),
and it holds no control character or escape sequence that could move the cursor, erase
lines, retitle the window or set the clipboard (OSC 52), nor a bidirectional override
that makes text read differently from what it is. Newlines and tabs stay.
"""

from __future__ import annotations

import builtins
import re

MESSAGE_CHARS = 2_000  # what one message may hold: a test's feedback, a note
CUT = " [...cut]"

# ESC-introduced sequences (ECMA-48): CSI `ESC [ ... final`, the string commands OSC, DCS,
# SOS, PM and APC (ended by BEL or ST `ESC \`, or by the end of the text), and the
# two-character escapes. The 8-bit C1 forms (U+009B CSI, U+009D OSC, ...) likewise.
_SEQUENCES = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"  # CSI
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"  # strings
    r"|\x1b[ -/]*[0-~]?"  # any other escape, with its intermediate bytes
)
# What is left of C0 and C1 controls (but \t and \n), DEL, and the bidirectional
# embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069).
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def clean(text: object, limit: int | None = MESSAGE_CHARS) -> str:
    """`text` (a str, bytes read from outside, or anything else) as safe text, cut to
    `limit` characters (None: no cut). Idempotent: cleaning clean text changes nothing."""
    if isinstance(text, bytes | bytearray):
        text = bytes(text).decode("utf-8", "replace")
    elif not isinstance(text, str):
        text = _str(text)
    if _UNSAFE.search(text):  # (most text has nothing to clean: one scan)
        text = valid_unicode(text).replace("\r\n", "\n")
        text = _CONTROLS.sub("", _SEQUENCES.sub("", text))
    if limit is not None and len(text) > limit:
        text = text[: max(limit - len(CUT), 0)] + CUT
    return text


def clean_strings(data: object, limit: int | None = None) -> object:
    """Plain data (what json.loads gives) with every string in it, keys too, clean().
    Lists and dicts are changed in place; walked without recursion, so no nesting that
    json parsed is too deep for it."""
    if isinstance(data, str):
        return clean(data, limit)
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            for index, value in enumerate(item):
                if isinstance(value, str):
                    item[index] = clean(value, limit)
                elif isinstance(value, list | dict):
                    stack.append(value)
        elif isinstance(item, dict):
            for key in list(item):  # popped and put back in order: the order is kept
                value = item.pop(key)
                if isinstance(value, str):
                    value = clean(value, limit)
                elif isinstance(value, list | dict):
                    stack.append(value)
                item[clean(key, limit) if isinstance(key, str) else key] = value
    return data


def valid_unicode(text: str) -> str:
    """`text` with each lone surrogate replaced by U+FFFD, so that it encodes as UTF-8.
    Everything else is kept: this is for source code, where control characters may be
    meaningful (clean() is for text to show)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # a valid pair of surrogates becomes the character it stands for
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def _str(value: object) -> str:
    try:
        return str(value)
    except Exception:  # a value whose __str__ fails (or recurses too deep)
        return f"<{type(value).__name__}>"


# The exception names a student may be shown where the submission's own words may not be
# (hidden tests, notebook notes): a class of the student's could be named after an input.
BUILTIN_EXCEPTIONS = frozenset(
    name for name, value in vars(builtins).items()
    if isinstance(value, type) and issubclass(value, BaseException))
