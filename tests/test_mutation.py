"""`make mutation` measures the hidden tests: its mutants are real, each kind the issue
asks for is made, and the list of equivalent mutants stays true (every listed mutant is
still generated and still earns every point, graded through the real grader)."""

from __future__ import annotations

import ast

import pytest

from autograder.grade import Grader
from release import mutation


@pytest.fixture(scope="module")
def source() -> mutation.Source:
    return mutation.Source.load()


@pytest.fixture(scope="module")
def mutants(source) -> list[mutation.Mutant]:
    return mutation.generated(source)


def test_every_kind_of_mutant_is_made(mutants):
    kinds = " | ".join(m.name for m in mutants)
    for kind in ("operator", "constant", "deleted statement", "swapped", "reduction mean -> sum",
                 "reduction mean(dim=0)", "keepdim", ".detach", ".item", ".data", ".double",
                 ".float", "in place -> rebinding", "rebinding -> in place",
                 "no_grad removed", "no_grad added", "name w -> b"):
        assert kind in kinds, kind
    assert len(mutants) > 150
    assert len({m.key for m in mutants}) == len(mutants)  # each program once


def test_mutants_are_valid_python_that_differs_from_the_reference(source, mutants):
    reference = {function: source.code(function) for function in source.blocks}
    for mutant in mutants:
        ((function, code),) = mutant.blocks
        assert code != reference[function]
        ast.parse(source.render(mutant))  # the whole submission parses
        assert source.diff(mutant).count("\n+") >= 1


def test_a_rendered_mutant_changes_only_its_block(source, mutants):
    mutant = next(m for m in mutants if m.blocks[0][0] == "mse")
    reference, rendered = source.text.splitlines(), source.render(mutant).splitlines()
    first, last, _ = source.blocks["mse"]
    assert rendered[:first - 1] == reference[:first - 1]
    assert rendered[-(len(reference) - last):] == reference[last:]


def test_hand_written_wrong_solutions_are_of_several_kinds(source):
    wrong = mutation.hand_written()
    assert {function for m in wrong for function, _ in m.blocks} == {"forward", "mse", "update"}
    assert any(m.prelude for m in wrong)  # state kept between calls
    for mutant in wrong:
        ast.parse(source.render(mutant))


def test_equivalent_mutants_are_still_made_and_still_survive(source, mutants, tmp_path):
    """The list cannot go stale: a listed mutant that is no longer generated (the
    reference changed) or that now loses a point (a hidden test got stricter) fails."""
    listed = mutation.equivalent()
    assert listed, "the list of equivalent mutants is empty"
    made = {m.key: m for m in mutants}
    missing = [key for key in listed if key not in made]
    assert not missing, f"listed but no longer generated: {missing}"
    for reason in listed.values():
        assert len(reason.split()) >= 8, reason  # a reason, not a label
    with Grader() as grader:
        for number, key in enumerate(listed):
            path = tmp_path / f"equivalent_{number}.py"
            path.write_text(source.render(made[key]))
            result = grader.grade(path)
            assert result.score == 10, (key, {t.name: t.feedback for t in result.tests
                                              if not t.passed})


def test_the_score_line_is_last(capsys):
    """main() grades, through the real grader, the mutants asked for and every correct
    alternative, and ends with mutation_score=<killed>/<non-equivalent>."""
    code = mutation.main(["--only", "operator Pow -> Mult"])
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1] == "mutation_score=1/1"
    assert "correct alternatives earn 10/10" in lines[-2]
    assert code == 0
