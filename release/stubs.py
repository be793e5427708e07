"""Stubbing: the solution text with each solution block replaced by a stub that raises.

``stub_source`` is the one transformation from solution to student text; the .py
release is its result, and the notebook release is its result cut into cells.
"""

from __future__ import annotations

import ast

from release.markers import Block, MarkerError, find_blocks


def stub_lines(block: Block) -> list[str]:
    """The lines that replace one block: a pointer for the student and a clear failure."""
    return [
        f"{block.indent}# YOUR CODE HERE (replace the raise below)",
        f'{block.indent}raise NotImplementedError("{block.function}() is not implemented yet")',
    ]


def stub_source(source: str, path: str = "<source>") -> str:
    """Return ``source`` with every solution block replaced by its stub.

    The one transformation from solution to student text; the .py release is
    its result, and the notebook release is its result cut into cells.
    """
    blocks = find_blocks(source, path)
    lines = source.splitlines()
    out: list[str] = []
    previous_end = 0
    for block in blocks:
        out.extend(lines[previous_end : block.begin - 1])
        out.extend(stub_lines(block))
        previous_end = block.end
    out.extend(lines[previous_end:])
    text = "\n".join(out) + "\n"
    try:
        ast.parse(text, filename=path)
    except SyntaxError as error:  # a bug here, not in the source: say so plainly
        message = f"stubbed text is not valid Python: {error.msg}"
        raise MarkerError(path, error.lineno or 1, message) from None
    return text

