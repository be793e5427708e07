"""The reference solution reproduces the lecture, as a script and as an imported module."""

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from release.student import find_blocks

ROOT = Path(__file__).resolve().parents[1]
SOLUTION = ROOT / "solutions" / "regression.py"


@pytest.fixture(scope="module")
def solution():
    """The solution imported as a module (the way the autograder loads a submission)."""
    spec = importlib.util.spec_from_file_location("reference_regression", SOLUTION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_script_prints_the_lectures_answers_in_order():
    run = subprocess.run(
        [sys.executable, str(SOLUTION)], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    expected_in_order = [
        r"forward\(20\) = 70\b.*true value is 68\b",
        r"preds\s+= \[-50, 10, 60, 90, 130\]",
        r"loss = 39\.4\b",
        r"w\.grad = 390\b",
        r"b\.grad = -0\.4\b",
        r"loss drops if w gets smaller",
        r"loss drops if b gets bigger",
        r"1\.8c \+ 32",
        r"w = 1\.961, b = 30\.00004\b",
        r"preds = \[-48\.44, 10\.39, 59\.415, 88\.83, 128\.05\]",
        r"loss\s+= 25\.8098\b",
    ]
    position = 0
    for pattern in expected_in_order:
        match = re.compile(pattern).search(run.stdout, position)
        assert match, f"{pattern!r} not found after position {position} in:\n{run.stdout}"
        position = match.end()


def test_import_prints_nothing_and_does_not_run_the_walkthrough():
    code = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('regression', {str(SOLUTION)!r})\n"
        "module = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(module)\n"
        "assert not any(isinstance(v, type(module.inputs)) and v.requires_grad\n"
        "               for v in vars(module).values()), 'a module-level tensor needs grad'\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout == "" and run.stderr == ""


def test_data_is_the_lectures_float32_tensors(solution):
    assert solution.inputs.dtype == torch.float32 and solution.targets.dtype == torch.float32
    assert solution.inputs.tolist() == [-40, -10, 15, 30, 50]
    assert solution.targets.tolist() == [-40, 14, 59, 86, 122]
    assert torch.equal(solution.targets, solution.inputs * 9 / 5 + 32)


def test_initial_parameters_are_fresh_leaves(solution):
    w, b = solution.initial_parameters()
    w2, b2 = solution.initial_parameters()
    assert (w.item(), b.item()) == (2.0, 30.0)
    for t in (w, b):
        assert t.is_leaf and t.requires_grad and t.grad is None and t.shape == ()
    assert w is not w2 and b is not b2


def test_one_training_step_gives_the_lectures_numbers(solution):
    w, b = solution.initial_parameters()
    assert solution.forward(torch.tensor(20.0), w, b).item() == pytest.approx(70)
    preds = solution.forward(solution.inputs, w, b)
    assert preds.grad_fn is not None
    assert preds.tolist() == pytest.approx([-50, 10, 60, 90, 130])
    loss = solution.mse(preds, solution.targets)
    assert loss.shape == () and loss.item() == pytest.approx(39.4, rel=1e-6)
    loss.backward()
    assert w.grad.item() == pytest.approx(390) and b.grad.item() == pytest.approx(-0.4)
    w_before, b_before = w, b
    assert solution.update(w, b) is None
    assert w is w_before and b is b_before and w.is_leaf and w.requires_grad
    assert w.item() == pytest.approx(1.961, abs=1e-6)
    assert b.item() == pytest.approx(30.00004, abs=2e-6)
    assert w.grad.item() == 0 and b.grad.item() == 0
    new_preds = solution.forward(solution.inputs, w, b)
    assert new_preds.tolist() == pytest.approx([-48.44, 10.39, 59.415, 88.83, 128.05], abs=1e-3)
    assert solution.mse(new_preds, solution.targets).item() == pytest.approx(25.8098, abs=1e-3)


def test_forward_keeps_any_shape(solution):
    w, b = solution.initial_parameters()
    x = torch.arange(6.0).reshape(2, 3, 1)
    assert solution.forward(x, w, b).shape == x.shape


def test_update_honours_lr(solution):
    w, b = solution.initial_parameters()
    solution.mse(solution.forward(solution.inputs, w, b), solution.targets).backward()
    solution.update(w, b, lr=0.01)
    assert (w.item(), b.item()) == (pytest.approx(-1.9), pytest.approx(30.004))


def test_the_three_student_functions_are_exactly_the_solution_blocks():
    blocks = find_blocks(SOLUTION.read_text(), str(SOLUTION))
    assert [block.function for block in blocks] == ["forward", "mse", "update"]


def test_results_keep_the_inputs_dtype(solution):
    """float32 in, float32 out; float64 in, float64 out (what hidden tests 3 and 5 ask)."""
    for dtype in (torch.float32, torch.float64):
        x = torch.tensor([[1.5, -2.25], [0.5, 3.0]], dtype=dtype)
        w = torch.tensor(2.0, dtype=dtype, requires_grad=True)
        b = torch.tensor(-1.0, dtype=dtype, requires_grad=True)
        preds = solution.forward(x, w, b)
        assert preds.dtype == dtype
        assert solution.mse(preds, x).dtype == dtype


def test_gradients_flow_through_every_argument(solution):
    """forward() passes gradients to x, w and b; mse() to either argument."""
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    w, b = solution.initial_parameters()
    y = torch.tensor([2.0, 1.0, 0.0])
    solution.mse(y, solution.forward(x, w, b)).backward()
    for t in (x, w, b):
        assert t.grad is not None and bool((t.grad != 0).any())
    assert x.grad.tolist() == pytest.approx((2 * w.detach() * (w.detach() * x.detach() + 30 - y)
                                             / 3).tolist())


def test_mse_is_the_mean_over_every_dimension(solution):
    t1 = torch.arange(24.0).reshape(2, 3, 4)
    t2 = torch.zeros(2, 3, 4)
    loss = solution.mse(t1, t2)
    assert loss.shape == () and loss.item() == pytest.approx((t1**2).sum().item() / 24)
