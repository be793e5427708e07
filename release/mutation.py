"""`make mutation`: how many wrong solutions the hidden tests catch.

Mutants are made from the reference's solution blocks (solutions/regression.py, between
the solution markers), one small change each: an operator, a constant, a deleted
statement, swapped arguments or names, a reduction, .detach()/.item()/.data, a dtype
cast, in place against rebinding, no_grad removed or added. Hand-written wrong solutions
(WRONG below) add mistakes a one-token change cannot make: stateful updates, a mean over
one dimension, a loss right up to 2-d. All are graded with one Grader in one process, as
`make grade-all` grades a class; a mutant is killed when it loses a point. Survivors are
printed as diffs. Mutants that behave exactly as the reference are listed, each with its
reason, in release/equivalent_mutants.toml (tests/test_mutation.py keeps that list true).
The last line is `mutation_score=<killed>/<non-equivalent>`; the tests/alternatives/
submissions, all correct, must keep every point.
"""

from __future__ import annotations

import argparse
import ast
import copy
import difflib
import sys
import tempfile
import textwrap
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import torch

from autograder.homework import Homework
from release.student import find_blocks

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
SOLUTION = Homework.load().reference
EQUIVALENT = ROOT / "release" / "equivalent_mutants.toml"
ALTERNATIVES = ROOT / "tests" / "alternatives"


@dataclass(frozen=True)
class Mutant:
    """One wrong solution: the reference with some solution blocks replaced."""

    name: str  # the kind of change, or the hand-written solution's name
    blocks: tuple[tuple[str, str], ...]  # (function, its block's code, normalised)
    prelude: str = ""  # module-level code a hand-written solution needs (its state)

    @property
    def key(self) -> tuple[tuple[str, str], ...]:
        """What identifies a mutant in the list of equivalent ones."""
        return self.blocks


def normalise(code: str) -> str:
    """A block's code as ast.unparse writes it: one spelling per program."""
    return ast.unparse(ast.parse(textwrap.dedent(code)))


# ---------------------------------------------------------------- the reference's blocks


@dataclass(frozen=True)
class Source:
    text: str
    blocks: dict[str, tuple[int, int, str]]  # function -> (first, last line of code, indent)
    params: dict[str, list[str]]  # function -> its parameters

    @classmethod
    def load(cls, path: Path = SOLUTION) -> Source:
        text = path.read_text()
        blocks = {b.function: (b.begin + 1, b.end - 1, b.indent)
                  for b in find_blocks(text, str(path))}
        params = {node.name: [a.arg for a in node.args.args]
                  for node in ast.walk(ast.parse(text)) if isinstance(node, ast.FunctionDef)}
        return cls(text, blocks, params)

    def code(self, function: str) -> str:
        first, last, _ = self.blocks[function]
        return normalise("\n".join(self.text.splitlines()[first - 1:last]))

    def render(self, mutant: Mutant) -> str:
        """The submission: the reference with the mutant's blocks (and prelude) in."""
        lines = self.text.splitlines()
        for function, code in sorted(mutant.blocks, key=lambda fc: -self.blocks[fc[0]][0]):
            first, last, indent = self.blocks[function]
            lines[first - 1:last] = textwrap.indent(code, indent).splitlines()
        if mutant.prelude:
            at = next(i for i, line in enumerate(lines) if line.startswith("import torch"))
            lines[at + 1:at + 1] = ["", *mutant.prelude.strip().splitlines()]
        return "\n".join(lines) + "\n"

    def diff(self, mutant: Mutant) -> str:
        """The mutant as a unified diff of the blocks it changes."""
        out = []
        if mutant.prelude:
            out += [f"+{line}" for line in mutant.prelude.strip().splitlines()]
        for function, code in mutant.blocks:
            out += list(difflib.unified_diff(
                self.code(function).splitlines(), code.splitlines(),
                f"{function}() reference", f"{function}() {mutant.name}", lineterm=""))
        return "\n".join(out)


# ---------------------------------------------------------------- mutation operators

_OP_SWAPS: dict[type, list[type]] = {
    ast.Add: [ast.Sub, ast.Mult], ast.Sub: [ast.Add, ast.Div], ast.Mult: [ast.Div, ast.Add],
    ast.Div: [ast.Mult, ast.FloorDiv], ast.Pow: [ast.Mult, ast.Add],
}
_NON_COMMUTATIVE = (ast.Sub, ast.Div, ast.Pow)
_WRAPS = [("detach", "x.detach()"), ("data", "x.data"), ("item", "x.item()"),
          ("double", "x.double()"), ("float", "x.float()"), ("half", "x.half()")]
_REDUCTIONS = {"mean": "sum", "sum": "mean"}


def _wrap(node: ast.expr, template: str) -> ast.expr:
    """`template` with its x replaced by `node`."""
    new = ast.parse(template, mode="eval").body

    class Put(ast.NodeTransformer):
        def visit_Name(self, name: ast.Name) -> ast.AST:
            return copy.deepcopy(node) if name.id == "x" else name

    return Put().visit(new)


def _call_name(node: ast.Call) -> str | None:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else (
        func.id if isinstance(func, ast.Name) else None)


def _value_of_names(node: ast.expr, names: list[str]) -> bool:
    """A value the block computes from its names (`w`, `w.grad`, `w * x`, a torch call
    on them), which a .detach() or a cast could change; not `torch.mean` itself."""
    if isinstance(node, ast.Name):
        return isinstance(node.ctx, ast.Load) and node.id in names
    if isinstance(node, ast.Attribute):
        return isinstance(node.ctx, ast.Load) and _value_of_names(node.value, names)
    if isinstance(node, ast.Call):
        return _call_name(node) not in ("no_grad", "enable_grad")
    return isinstance(node, ast.BinOp)


def _expression_changes(node: ast.expr, names: list[str], *, wrap: bool = True
                        ) -> Iterator[tuple[str, object]]:
    """(kind, replacement) for an expression node."""
    if isinstance(node, ast.BinOp):
        for op in _OP_SWAPS.get(type(node.op), []):
            yield f"operator {type(node.op).__name__} -> {op.__name__}", \
                ast.BinOp(node.left, op(), node.right)
        if isinstance(node.op, _NON_COMMUTATIVE):
            yield "swapped operands", ast.BinOp(node.right, node.op, node.left)
        yield "dropped right operand", node.left
        yield "dropped left operand", node.right
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        value = node.value
        for new in dict.fromkeys([0, 1, value + 1, -value, value * 2]):
            if new != value:
                yield f"constant {value} -> {new}", ast.Constant(new)
    if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in names:
        for other in names:
            if other != node.id:
                yield f"name {node.id} -> {other}", ast.Name(other, ast.Load())
    if isinstance(node, ast.Call):
        called = _call_name(node)
        if len(node.args) >= 2:
            swapped = copy.copy(node)
            swapped.args = [node.args[1], node.args[0], *node.args[2:]]
            yield "swapped arguments", swapped
        if called in _REDUCTIONS:
            other = copy.deepcopy(node)
            if isinstance(other.func, ast.Attribute):
                other.func.attr = _REDUCTIONS[called]
            else:
                other.func.id = _REDUCTIONS[called]
            yield f"reduction {called} -> {_REDUCTIONS[called]}", other
            for keyword in ("dim=0", "dim=-1", "keepdim=True"):
                changed = copy.deepcopy(node)
                key, value = keyword.split("=")
                changed.keywords.append(ast.keyword(key, ast.parse(value, mode="eval").body))
                yield f"reduction {called}({keyword})", changed
    if wrap and _value_of_names(node, names):
        for kind, template in _WRAPS:
            yield f"wrapped in .{kind}", _wrap(node, template)


def _statement_changes(node: ast.stmt) -> Iterator[tuple[str, object]]:
    """(kind, replacement statements) for a statement node."""
    yield "deleted statement", []
    if isinstance(node, ast.AugAssign):
        for op in _OP_SWAPS.get(type(node.op), []):
            yield f"in-place {type(node.op).__name__} -> {op.__name__}", \
                [ast.AugAssign(node.target, op(), node.value)]
        load = copy.deepcopy(node.target)
        load.ctx = ast.Load()
        yield "in place -> rebinding", [ast.Assign([node.target], ast.BinOp(load, node.op,
                                                                               node.value))]
    if isinstance(node, ast.Assign) and isinstance(node.value, ast.BinOp) and \
            isinstance(node.value.left, ast.Name) and len(node.targets) == 1:
        target = node.targets[0]
        yield "rebinding -> in place", [ast.Assign([target], node.value.left),
                                        ast.AugAssign(copy.deepcopy(target), node.value.op,
                                                      node.value.right)]
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        call, name = node.value, _call_name(node.value)
        if isinstance(call.func, ast.Attribute) and name and name.endswith("_") and \
                hasattr(torch.Tensor, name[:-1]):
            out_of_place = copy.deepcopy(call)
            out_of_place.func.attr = name[:-1]
            target = copy.deepcopy(call.func.value)
            target.ctx = ast.Store()
            yield "in-place method -> rebinding", [ast.Assign([target], out_of_place)]
    if isinstance(node, ast.With):
        yield "no_grad removed", node.body
        enabled = copy.deepcopy(node)
        for item in enabled.items:
            if isinstance(item.context_expr, ast.Call) and \
                    _call_name(item.context_expr) == "no_grad":
                item.context_expr.func.attr = "enable_grad"
        yield "no_grad -> enable_grad", [enabled]


class _At(ast.NodeTransformer):
    """Replace the `target`-th node (in visiting order) by `make(node)`."""

    def __init__(self, target: int, make: Callable[[ast.AST], object]) -> None:
        self.target, self.make, self.seen = target, make, -1

    def visit(self, node: ast.AST) -> object:
        self.seen += 1
        if self.seen == self.target:
            return self.make(node)
        return self.generic_visit(node)


def _nodes(tree: ast.AST) -> list[ast.AST]:
    found: list[ast.AST] = []

    class Walk(ast.NodeVisitor):
        def visit(self, node: ast.AST) -> None:
            found.append(node)
            self.generic_visit(node)

    Walk().visit(tree)
    return found


def block_mutants(function: str, code: str, names: list[str]) -> Iterator[tuple[str, str]]:
    """(kind, mutated code) for every one-change mutant of a block."""
    tree = ast.parse(code)
    # a call whose value is dropped (`w.grad.zero_()`): wrapping that value changes nothing
    dropped = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr)}
    for index, node in enumerate(_nodes(tree)):
        if isinstance(node, ast.stmt):
            changes = _statement_changes(node)
        elif isinstance(node, ast.expr):
            changes = _expression_changes(node, names, wrap=id(node) not in dropped)
        else:
            continue
        for kind, replacement in changes:
            changed = _At(index, lambda _node, r=replacement: copy.deepcopy(r)).visit(
                copy.deepcopy(tree))
            if not changed.body:
                changed.body = [ast.Pass()]
            ast.fix_missing_locations(changed)
            yield kind, ast.unparse(changed)
    if not any(isinstance(node, ast.With) for node in ast.walk(tree)):
        wrapped = ast.parse("with torch.no_grad():\n    pass")
        wrapped.body[0].body = tree.body
        yield "no_grad added around the block", ast.unparse(wrapped)


def _local_names(code: str) -> list[str]:
    return [node.id for node in ast.walk(ast.parse(code))
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)]


def generated(source: Source) -> list[Mutant]:
    """Every one-change mutant of the reference's blocks, each program once."""
    mutants: dict[tuple, Mutant] = {}
    for function in source.blocks:
        code = source.code(function)
        names = list(dict.fromkeys(source.params[function] + _local_names(code)))
        for kind, mutated in block_mutants(function, code, names):
            mutated = normalise(mutated)
            if mutated != code:
                mutant = Mutant(kind, ((function, mutated),))
                mutants.setdefault(mutant.key, mutant)
    return list(mutants.values())


# ---------------------------------------------------------------- hand-written wrong solutions

# Mistakes students make that no single token change makes, of several kinds: state kept
# between calls, reductions right for some shapes only, dtype handling, graph handling.
WRONG: dict[str, dict[str, str]] = {
    "forward flattens x": {"forward": "return w * x.reshape(-1) + b"},
    "forward casts to float32": {"forward": "return (w * x + b).float()"},
    "forward builds a new tensor": {"forward": "return torch.tensor(w.item() * x + b.item())"},
    "forward on a detached copy of x and b": {"forward": "return w * x + b.detach()"},
    "forward through numpy": {
        "forward": "return torch.from_numpy(w.detach().numpy() * x.numpy() + b.detach().numpy())"},
    "forward squeezes": {"forward": "return (w * x + b).squeeze()"},
    "forward fakes a graph": {
        "forward": "return (w * x + b).detach().requires_grad_(True)"},
    "mse fakes a graph": {
        "mse": "return torch.tensor(((t1 - t2) ** 2).mean().item(), requires_grad=True)"},
    "update with weight decay": {
        "update": "with torch.no_grad():\n    w -= lr * (w.grad + 0.01 * w)\n"
                  "    b -= lr * (b.grad + 0.01 * b)\nw.grad.zero_()\nb.grad.zero_()"},
    "mse divides by len()": {"mse": "return ((t1 - t2) ** 2).sum() / len(t1)"},
    "mse over the last dimensions only": {"mse": "return ((t1 - t2) ** 2).mean(-1).mean(-1)"},
    "mse divides by the first two dimensions": {
        "mse": "return ((t1 - t2) ** 2).sum() / (t1.shape[0] * (t1.shape[1] if t1.dim() > 1 "
               "else 1))"},
    "mse mean over dim 0": {"mse": "return torch.mean((t1 - t2) ** 2, dim=0)"},
    "mse with keepdim": {"mse": "return ((t1 - t2) ** 2).mean().reshape(1)"},
    "mse in float64": {"mse": "return ((t1.double() - t2.double()) ** 2).mean()"},
    "mse in float32": {"mse": "return ((t1.float() - t2.float()) ** 2).mean()"},
    "mse cuts the targets' graph": {"mse": "return ((t1 - t2.detach()) ** 2).mean()"},
    "mse through .data": {"mse": "return ((t1 - t2.data) ** 2).mean()"},
    "mse squares the mean error": {"mse": "return (t1 - t2).mean() ** 2"},
    "mse halves": {"mse": "return ((t1 - t2) ** 2).mean() / 2"},
    "mse with F.mse_loss summed": {
        "mse": "return torch.nn.functional.mse_loss(t1, t2, reduction='sum') / t1.shape[0]"},
    "update mixes up the gradients": {
        "update": "with torch.no_grad():\n    w -= lr * w.grad\n    b -= lr * w.grad\n"
                  "w.grad.zero_()\nb.grad.zero_()"},
    "update steps by the sign": {
        "update": "with torch.no_grad():\n    w -= lr * torch.sign(w.grad)\n"
                  "    b -= lr * torch.sign(b.grad)\nw.grad.zero_()\nb.grad.zero_()"},
    "update zeroes before stepping": {
        "update": "w.grad.zero_()\nb.grad.zero_()\nwith torch.no_grad():\n"
                  "    w -= lr * w.grad\n    b -= lr * b.grad"},
    "update turns requires_grad off": {
        "update": "with torch.no_grad():\n    w -= lr * w.grad\n    b -= lr * b.grad\n"
                  "w.grad.zero_()\nb.grad.zero_()\nw.requires_grad_(False)"},
    "update returns copies and leaves w and b": {
        "update": "with torch.no_grad():\n    new_w = w - lr * w.grad\n"
                  "    new_b = b - lr * b.grad\nreturn new_w, new_b"},
    "update keeps momentum in a global": {
        "update": "velocity = _state.setdefault('v', [0.0, 0.0])\nwith torch.no_grad():\n"
                  "    velocity[0] = 0.9 * velocity[0] + w.grad.item()\n"
                  "    velocity[1] = 0.9 * velocity[1] + b.grad.item()\n"
                  "    w -= lr * velocity[0]\n    b -= lr * velocity[1]\n"
                  "w.grad.zero_()\nb.grad.zero_()"},
    "update decays lr with a call counter": {
        "update": "_state['calls'] = _state.get('calls', 0) + 1\n"
                  "step = lr / _state['calls']\nwith torch.no_grad():\n"
                  "    w -= step * w.grad\n    b -= step * b.grad\n"
                  "w.grad.zero_()\nb.grad.zero_()"},
    "update zeroes the gradients on its first call only": {
        "update": "with torch.no_grad():\n    w -= lr * w.grad\n    b -= lr * b.grad\n"
                  "if not _state.get('zeroed'):\n    _state['zeroed'] = True\n"
                  "    w.grad.zero_()\n    b.grad.zero_()"},
    "update clips the step": {
        "update": "with torch.no_grad():\n    w -= torch.clamp(lr * w.grad, -0.01, 0.01)\n"
                  "    b -= torch.clamp(lr * b.grad, -0.01, 0.01)\n"
                  "w.grad.zero_()\nb.grad.zero_()"},
    "update with a fixed learning rate when lr is large": {
        "update": "lr = min(lr, 0.01)\nwith torch.no_grad():\n    w -= lr * w.grad\n"
                  "    b -= lr * b.grad\nw.grad.zero_()\nb.grad.zero_()"},
}
_STATE = "_state = {}  # kept between calls, as a student's global would be"


def hand_written() -> list[Mutant]:
    return [Mutant(name, tuple((f, normalise(code)) for f, code in blocks.items()),
                   _STATE if "_state" in "".join(blocks.values()) else "")
            for name, blocks in WRONG.items()]


# ---------------------------------------------------------------- equivalent mutants


def equivalent(path: Path = EQUIVALENT) -> dict[tuple, str]:
    """The mutants judged equivalent to the reference: key -> reason."""
    with open(path, "rb") as f:
        listed = tomllib.load(f).get("mutant", [])
    return {((entry["function"], normalise(entry["code"])),): entry["reason"]
            for entry in listed}


# ---------------------------------------------------------------- grading


@dataclass(frozen=True)
class Graded:
    score: float
    failed: tuple[str, ...]  # the tests it failed, by function name

    @property
    def killed(self) -> bool:
        return self.score < 10


def grade_all(source: Source, mutants: list[Mutant], paths: list[Path] = ()
              ) -> tuple[dict[Mutant, Graded], dict[Path, Graded]]:
    """Every mutant graded, and every given file, with one Grader."""
    from autograder.grade import Grader

    def graded(path: Path) -> Graded:
        result = grader.grade(path)
        return Graded(result.score, tuple(t.test_id.split("::")[-1] for t in result.tests
                                          if not t.passed))

    with tempfile.TemporaryDirectory(prefix="mutants-") as folder, Grader() as grader:
        scores: dict[Mutant, Graded] = {}
        for number, mutant in enumerate(mutants):
            path = Path(folder) / f"mutant_{number}.py"
            path.write_text(source.render(mutant))
            scores[mutant] = graded(path)
        files = {path: graded(path) for path in paths}
    return scores, files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="grade only mutants whose kind contains this text")
    args = parser.parse_args(argv)
    source = Source.load()
    mutants = generated(source) + hand_written()
    if args.only:
        mutants = [m for m in mutants if args.only in m.name]
    listed = equivalent()
    alternatives = sorted(ALTERNATIVES.glob("*.py"))
    print(f"grading {len(mutants)} mutants ({len(WRONG)} hand-written) and "
          f"{len(alternatives)} correct alternatives...", flush=True)
    scores, correct = grade_all(source, mutants, alternatives)

    survivors = [m for m in mutants if not scores[m].killed and m.key not in listed]
    stale = [m for m in mutants if scores[m].killed and m.key in listed]
    equivalents = [m for m in mutants if not scores[m].killed and m.key in listed]
    for mutant in survivors:
        print(f"\nSURVIVED ({mutant.name}):\n{source.diff(mutant)}")
    for mutant in stale:
        print(f"\nlisted as equivalent but loses points, remove it from {EQUIVALENT.name}:\n"
              f"{source.diff(mutant)}")
    too_harsh = {p.name: g for p, g in correct.items() if g.killed}
    for name, graded in too_harsh.items():
        print(f"\ncorrect alternative {name} earns {graded.score:g}/10, failing "
              f"{', '.join(graded.failed)}: a hidden test is too harsh")
    killed = sum(scores[m].killed for m in mutants)
    single = Counter(scores[m].failed[0] for m in mutants if len(scores[m].failed) == 1)
    print(f"\nkilled by one test only: {sum(single.values())} "
          f"({', '.join(f'{test} {n}' for test, n in single.most_common())})")
    print(f"{len(equivalents)} equivalent mutants (listed in {EQUIVALENT.name}); "
          f"{len(correct) - len(too_harsh)}/{len(correct)} correct alternatives earn 10/10")
    print(f"mutation_score={killed}/{len(mutants) - len(equivalents)}")
    return 1 if survivors or stale or too_harsh else 0


if __name__ == "__main__":
    sys.exit(main())
