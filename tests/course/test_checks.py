"""autograd_lite.course.checks: verdicts without the answer, staged hints, fingerprints."""
import numpy as np
import pytest

import autograd_lite as torch
from autograd_lite.course import checks
from autograd_lite.course.checks import check, fingerprint, rounding_margin


@pytest.fixture(autouse=True)
def fresh_attempts(monkeypatch):
    monkeypatch.setattr(checks, "_attempts", {})


def test_an_untouched_answer_is_not_done_yet(capsys):
    assert check("1.1", None, lambda a: True) is None   # nothing to display in the cell but the verdict
    assert "not done yet" in capsys.readouterr().out


def test_a_right_answer_is_correct(capsys):
    check("1.1", 6, lambda a: a == 6)
    assert "correct" in capsys.readouterr().out


def test_hints_come_one_more_per_wrong_attempt(capsys):
    hints = ["first", "second"]
    outputs = []
    for _ in range(3):
        check("1.2", 5, lambda a: a == 6, hints)
        outputs.append(capsys.readouterr().out)
    assert "first" in outputs[0] and "second" not in outputs[0]
    assert "first" in outputs[1] and "second" in outputs[1]
    assert "no more hints" in outputs[2]
    check("1.2", 6, lambda a: a == 6, hints)      # a right answer resets the count
    check("1.2", 5, lambda a: a == 6, hints)
    assert "second" not in capsys.readouterr().out.split("correct")[-1]


def test_a_check_that_crashes_or_explains_counts_as_wrong(capsys):
    check("1.3", "text", lambda a: a.shape == (3,))
    out = capsys.readouterr().out
    assert "AttributeError" in out and "not quite yet" in out
    check("1.3", 1, lambda a: "expected a tensor of shape (3, 4)")
    out = capsys.readouterr().out
    assert "expected a tensor of shape (3, 4)" in out and "not quite yet" in out


def test_fingerprints_are_equal_for_equal_answers_only():
    assert fingerprint((1000, 3)) == fingerprint([1000, 3]) != fingerprint((3, 1000))
    assert fingerprint(0.1234) == fingerprint(0.12341) != fingerprint(0.1244)
    assert fingerprint(2) != fingerprint(2.0)
    assert fingerprint(-0.0) == fingerprint(0.0)
    t = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert fingerprint(t) == fingerprint(np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32))
    assert fingerprint(t) != fingerprint(t.reshape(4)) != fingerprint([1.0, 2.0, 3.0, 4.0])
    assert fingerprint({"b", "a"}) == fingerprint({"a", "b"}) != fingerprint({"a"})
    assert fingerprint({"x": 1, "y": 2}) == fingerprint({"y": 2, "x": 1})
    assert len(fingerprint("anything")) == 12
    with pytest.raises(TypeError, match="cannot fingerprint"):
        fingerprint(object())


def test_rounding_margin_says_how_safe_a_fingerprint_is():
    assert rounding_margin(1.0) == pytest.approx(0.5)
    assert rounding_margin(0.1235) == pytest.approx(0.0, abs=1e-6)   # exactly between 0.123 and 0.124
    assert rounding_margin([1.0, torch.tensor([0.1232])]) == pytest.approx(0.3, abs=1e-3)
    assert rounding_margin((3, "a")) == 0.5                          # no float: nothing can flip
