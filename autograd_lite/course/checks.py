"""Self-checks for the course's exercises: say whether an answer is right without showing the answer.

Every exercise ends with a check cell that calls `check`:

    check("2.1", answer_grad, is_right, hints=["first hint", "a stronger hint"])

* `answer` still None (the exercise untouched): prints "Not done yet" and nothing else, so that Run All
  on a fresh notebook goes through every cell.
* `is_right(answer)` true: prints "Correct". It may also return a string, a hint about what is off
  ("expected a tensor of shape (3, 4)"), which counts as wrong.
* Otherwise: prints "Not quite yet", then one more hint per failed attempt (the first attempt gets the
  first hint, the second the first two, ...), so a student can ask for help step by step.

`is_right` must not contain the answer or the computation that produces it (the student reads the check
cell): it compares `fingerprint(answer)` with the fingerprint of the expected answer, or checks
properties that any right answer has. The grade itself comes from hidden tests (nbgrader's
`### BEGIN HIDDEN TESTS`), which the released notebooks do not contain.
"""

import hashlib
import math

import numpy as np

_attempts = {}


def check(label, answer, is_right, hints=()):
    """Print whether `answer` to exercise `label` is right; see the module's docstring. Returns None, so that
    a check cell shows only the printed verdict (the grade comes from the hidden tests, not from this)."""
    if answer is None:
        print(f"Exercise {label}: not done yet. Fill in the exercise cell above, run it, then run this cell.")
        return
    try:
        verdict = is_right(answer)
    except Exception as error:  # a wrong shape or type is a wrong answer, not a crash
        verdict = f"{type(error).__name__}: {error}"
    if verdict is True:
        _attempts.pop(label, None)
        print(f"Exercise {label}: correct, well done!")
        return
    tries = _attempts[label] = _attempts.get(label, 0) + 1
    lines = [f"Exercise {label}: not quite yet (attempt {tries})."]
    if isinstance(verdict, str) and verdict:
        lines.append(verdict)
    lines += [f"Hint {i}: {hint}" for i, hint in enumerate(hints[:tries], 1)]
    if tries > len(hints) > 0:
        lines.append("(no more hints: reread the section the exercise is about)")
    print("\n".join(lines))


def _canonical(value, decimals):
    """A text that is the same for equal answers: numbers rounded, containers in a fixed order."""
    if value is None or isinstance(value, (bool, str)):
        return repr(value)
    if isinstance(value, (int, np.integer)):
        return repr(int(value))
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if math.isnan(value) or math.isinf(value):
            return repr(value)
        return repr(round(value, decimals) + 0.0)  # + 0.0 folds -0.0 into 0.0
    if isinstance(value, dict):
        return "{" + ",".join(f"{_canonical(k, decimals)}:{_canonical(value[k], decimals)}"
                              for k in sorted(value, key=repr)) + "}"
    if isinstance(value, (set, frozenset)):
        return "{" + ",".join(sorted(_canonical(v, decimals) for v in value)) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_canonical(v, decimals) for v in value) + "]"
    if hasattr(value, "detach") and hasattr(value, "numpy"):  # a tensor
        value = value.detach().numpy()
    array = np.asarray(value)
    if array.dtype.kind in "biuf":
        kind = "int" if array.dtype.kind in "biu" else "float"
        cells = array.astype(float).ravel().tolist()
        return f"{kind}{list(array.shape)}" + _canonical(cells if kind == "float" else [int(c) for c in cells],
                                                          decimals)
    raise TypeError(f"cannot fingerprint a {type(value).__name__}")


def fingerprint(value, decimals=3):
    """A short hash of `value` (numbers, tensors, arrays, and tuples/lists/sets/dicts of them), with
    floats rounded to `decimals` places: equal answers give equal fingerprints, and the fingerprint does
    not reveal the answer. Integers and floats differ (2 is not 2.0); tensors keep their shape."""
    return hashlib.sha256(_canonical(value, decimals).encode()).hexdigest()[:12]


def rounding_margin(value, decimals=3):
    """How far (as a fraction of the rounding step) the floats of `value` lie from a rounding boundary:
    0.5 is the safest, 0 means a rounding error could flip the fingerprint. The course's tests check that
    every fingerprinted reference answer keeps a margin, so that a right answer computed in a different
    order (different float rounding) still matches."""
    if hasattr(value, "detach") and hasattr(value, "numpy"):
        value = value.detach().numpy()
    if isinstance(value, dict):
        value = list(value.values())
    floats = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple, set, frozenset)):
            stack.extend(item)
        elif hasattr(item, "detach") and hasattr(item, "numpy"):
            stack.append(item.detach().numpy())
        elif isinstance(item, (float, np.floating, np.ndarray)) and np.asarray(item).dtype.kind == "f":
            floats.extend(np.asarray(item, dtype=float).ravel().tolist())
    if not floats:
        return 0.5
    scaled = np.asarray(floats) * 10.0 ** decimals
    return float(np.min(np.abs(scaled - np.floor(scaled) - 0.5)))
