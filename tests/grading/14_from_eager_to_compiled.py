"""Typical wrong answers to notebook 14's exercises, submitted by the grading demo's third student.

{answer cell grade_id: (code in place of the solution, what the mistake reveals[, points expected])}.
Each must lose points; docs/answer_key/14_from_eager_to_compiled.md explains them to the teacher.
"""
ONE_FORWARD_FILTER = """
read = {a for _, _, args in lines for a in args} | set(outputs)
return [line for line in lines if line[0] in read]
"""

RENAME_AFTER_KEY = """
seen, mapping, kept = {}, {}, []
for out, op, args in lines:
    key = (op, tuple(args))
    args = [mapping.get(a, a) for a in args]
    if key in seen:
        mapping[out] = seen[key]
        continue
    seen[key] = out
    kept.append((out, op, args))
return kept, [mapping.get(o, o) for o in outputs]
"""

MISTAKES = {
    "ex1_traces": ("answer_traces = 3",
                   "forgets that requires_grad is part of the signature (shapes and dtypes only)"),
    "ex2_dead_code": (ONE_FORWARD_FILTER,
                      "keeps every line that some line reads, dead or not: a value read only by dead code survives"),
    "ex3_cse": (RENAME_AFTER_KEY,
                ("the values are right, but the key is built before renaming: a computation repeated through an "
                 "alias (mul(t0, t0) vs mul(t1, t1)) is not found"), 2),
}
