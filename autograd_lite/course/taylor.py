"""Forward mode on numbers, for notebook 12: dual numbers with tags, hyper-dual numbers, and Taylor jets.

Not part of PyTorch: small classes that show how forward-over-forward and Taylor mode work, on Python
floats or numpy arrays (elementwise).

* `Dual(primal, tangent, tag)`: a + b·ε with ε² = 0. `derivative(f, x)` seeds a fresh tag, so that nested
  derivatives keep their perturbations apart; `derivative(f, x, tagged=False)` uses one shared tag and shows
  perturbation confusion (Siskind and Pearlmutter 2005). `nested_derivative(f, x, k)`: the k-th derivative
  by k nested forward passes (2^k components per number).
* `HyperDual(a, b, c, d)`: a + b ε₁ + c ε₂ + d ε₁ε₂ with ε₁² = ε₂² = 0: `second_derivative(f, x)` is exact
  (no step size), from the ε₁ε₂ part.
* `Jet(coefficients)`: the truncated Taylor series c₀ + c₁t + ... + c_K t^K of x(t). Each op maps input
  series to the output's series with a recurrence (K² work for a product, not 2^K). `derivatives(f, x, k)`
  gives f(x), f'(x), ..., f⁽ᵏ⁾(x) from one pass: f⁽ʲ⁾(x) = j!·c_j.

Functions `sin, cos, exp, log, sqrt, tanh` accept floats, numpy arrays and all three classes.
"""
import itertools
import math

import numpy as np

_tags = itertools.count(1)


# ----------------------------------------------------------------------------------------------
# Elementary functions for every kind of number
# ----------------------------------------------------------------------------------------------


def _apply(name, x):
    method = getattr(x, "_" + name, None)
    return method() if method is not None else getattr(np, name)(x)


def sin(x):
    return _apply("sin", x)


def cos(x):
    return _apply("cos", x)


def exp(x):
    return _apply("exp", x)


def log(x):
    return _apply("log", x)


def sqrt(x):
    return _apply("sqrt", x)


def tanh(x):
    return _apply("tanh", x)


# ----------------------------------------------------------------------------------------------
# Dual numbers, tagged
# ----------------------------------------------------------------------------------------------


def _tag_of(x):
    return x.tag if isinstance(x, Dual) else 0


class Dual:
    """primal + tangent·ε, ε² = 0, for the perturbation `tag`. Primal and tangent may be Duals of an older
    tag (nested forward mode): the newest tag is always outermost."""

    __array_priority__ = 100  # numpy scalars defer to our operators

    def __init__(self, primal, tangent, tag=0):
        self.primal, self.tangent, self.tag = primal, tangent, tag

    def __repr__(self):
        return f"Dual({self.primal!r}, {self.tangent!r}, tag={self.tag})"

    def _parts(self, tag):
        """(primal, tangent) for the perturbation `tag`: a number not perturbed by it has tangent 0."""
        return (self.primal, self.tangent) if self.tag == tag else (self, 0.0)

    @staticmethod
    def _split(x, y):
        tag = max(_tag_of(x), _tag_of(y))
        xp, xt = x._parts(tag) if isinstance(x, Dual) else (x, 0.0)
        yp, yt = y._parts(tag) if isinstance(y, Dual) else (y, 0.0)
        return tag, xp, xt, yp, yt

    def __add__(self, other):
        tag, a, da, b, db = Dual._split(self, other)
        return Dual(a + b, da + db, tag)

    __radd__ = __add__

    def __sub__(self, other):
        tag, a, da, b, db = Dual._split(self, other)
        return Dual(a - b, da - db, tag)

    def __rsub__(self, other):
        return (-self) + other

    def __neg__(self):
        return Dual(-self.primal, -self.tangent, self.tag)

    def __mul__(self, other):
        tag, a, da, b, db = Dual._split(self, other)
        return Dual(a * b, da * b + a * db, tag)

    __rmul__ = __mul__

    def __truediv__(self, other):
        tag, a, da, b, db = Dual._split(self, other)
        return Dual(a / b, (da * b - a * db) / (b * b), tag)

    def __rtruediv__(self, other):
        tag, a, da, b, db = Dual._split(other, self)
        return Dual(a / b, (da * b - a * db) / (b * b), tag)

    def __pow__(self, n):  # a number exponent
        return Dual(self.primal ** n, n * self.primal ** (n - 1) * self.tangent, self.tag)

    def _sin(self):
        return Dual(sin(self.primal), cos(self.primal) * self.tangent, self.tag)

    def _cos(self):
        return Dual(cos(self.primal), -sin(self.primal) * self.tangent, self.tag)

    def _exp(self):
        e = exp(self.primal)
        return Dual(e, e * self.tangent, self.tag)

    def _log(self):
        return Dual(log(self.primal), self.tangent / self.primal, self.tag)

    def _sqrt(self):
        s = sqrt(self.primal)
        return Dual(s, self.tangent / (2 * s), self.tag)

    def _tanh(self):
        t = tanh(self.primal)
        return Dual(t, (1 - t * t) * self.tangent, self.tag)


def tangent_of(y, tag):
    """The derivative part of `y` for the perturbation `tag` (0 when y does not depend on it)."""
    if isinstance(y, Dual) and y.tag == tag:
        return y.tangent
    return 0.0


def derivative(f, x, tagged=True):
    """f'(x) by one forward pass with a dual number. tagged=False: every call uses the same tag 0, as a
    dual-number class without tags does, and nested calls confuse their perturbations."""
    tag = next(_tags) if tagged else 0
    return tangent_of(f(Dual(x, 1.0, tag)), tag)


def nested_derivative(f, x, k, tagged=True):
    """The k-th derivative of f at x by k nested forward passes (forward-over-forward-over-...)."""
    g = f
    for _ in range(k):
        g = (lambda h: lambda y: derivative(h, y, tagged))(g)
    return g(x)


# ----------------------------------------------------------------------------------------------
# Hyper-dual numbers
# ----------------------------------------------------------------------------------------------


class HyperDual:
    """a + b ε₁ + c ε₂ + d ε₁ε₂ with ε₁² = ε₂² = 0 (Fike and Alonso 2011): f(a + b ε₁ + c ε₂ + d ε₁ε₂)
    = f(a) + f'(a) b ε₁ + f'(a) c ε₂ + (f'(a) d + f''(a) b c) ε₁ε₂, exactly."""

    __array_priority__ = 100

    def __init__(self, a, b=0.0, c=0.0, d=0.0):
        self.a, self.b, self.c, self.d = a, b, c, d

    def __repr__(self):
        return f"HyperDual({self.a!r}, {self.b!r}, {self.c!r}, {self.d!r})"

    @staticmethod
    def _lift(x):
        return x if isinstance(x, HyperDual) else HyperDual(x)

    def _chain(self, f0, f1, f2):
        """f(self) from f(a), f'(a), f''(a)."""
        return HyperDual(f0, f1 * self.b, f1 * self.c, f1 * self.d + f2 * self.b * self.c)

    def __add__(self, other):
        o = HyperDual._lift(other)
        return HyperDual(self.a + o.a, self.b + o.b, self.c + o.c, self.d + o.d)

    __radd__ = __add__

    def __neg__(self):
        return HyperDual(-self.a, -self.b, -self.c, -self.d)

    def __sub__(self, other):
        return self + (-HyperDual._lift(other))

    def __rsub__(self, other):
        return (-self) + other

    def __mul__(self, other):
        o = HyperDual._lift(other)
        return HyperDual(self.a * o.a, self.a * o.b + self.b * o.a, self.a * o.c + self.c * o.a,
                         self.a * o.d + self.b * o.c + self.c * o.b + self.d * o.a)

    __rmul__ = __mul__

    def _reciprocal(self):
        a = self.a
        return self._chain(1 / a, -1 / a ** 2, 2 / a ** 3)

    def __truediv__(self, other):
        return self * HyperDual._lift(other)._reciprocal()

    def __rtruediv__(self, other):
        return HyperDual._lift(other) * self._reciprocal()

    def __pow__(self, n):
        a = self.a
        return self._chain(a ** n, n * a ** (n - 1), n * (n - 1) * a ** (n - 2))

    def _sin(self):
        return self._chain(np.sin(self.a), np.cos(self.a), -np.sin(self.a))

    def _cos(self):
        return self._chain(np.cos(self.a), -np.sin(self.a), -np.cos(self.a))

    def _exp(self):
        e = np.exp(self.a)
        return self._chain(e, e, e)

    def _log(self):
        return self._chain(np.log(self.a), 1 / self.a, -1 / self.a ** 2)

    def _sqrt(self):
        s = np.sqrt(self.a)
        return self._chain(s, 0.5 / s, -0.25 / (s * self.a))

    def _tanh(self):
        t = np.tanh(self.a)
        return self._chain(t, 1 - t * t, -2 * t * (1 - t * t))


def second_derivative(f, x):
    """f''(x), exactly, from one pass with x + ε₁ + ε₂."""
    return f(HyperDual(x, 1.0, 1.0, 0.0)).d


# ----------------------------------------------------------------------------------------------
# Taylor mode: truncated power series
# ----------------------------------------------------------------------------------------------


class Jet:
    """The Taylor coefficients [c₀, c₁, ..., c_K] of x(t) = Σ c_k t^k, truncated after t^K."""

    __array_priority__ = 100

    def __init__(self, coefficients):
        self.c = [np.asarray(c, dtype=float) if not isinstance(c, float) else c for c in coefficients]

    @property
    def order(self):
        return len(self.c) - 1

    def __repr__(self):
        return f"Jet({[float(c) if np.ndim(c) == 0 else c for c in self.c]})"

    def _lift(self, x):
        return x if isinstance(x, Jet) else Jet([x] + [0.0] * self.order)

    def __add__(self, other):
        o = self._lift(other)
        return Jet([a + b for a, b in zip(self.c, o.c)])

    __radd__ = __add__

    def __neg__(self):
        return Jet([-a for a in self.c])

    def __sub__(self, other):
        return self + (-self._lift(other))

    def __rsub__(self, other):
        return (-self) + other

    def __mul__(self, other):  # Cauchy product: c_k = Σ_j a_j b_(k-j)
        if not isinstance(other, Jet):
            return Jet([a * other for a in self.c])
        a, b = self.c, other.c
        return Jet([sum(a[j] * b[k - j] for j in range(k + 1)) for k in range(len(a))])

    __rmul__ = __mul__

    def __truediv__(self, other):  # q b = a: q_k = (a_k - Σ_(j<k) q_j b_(k-j)) / b_0
        if not isinstance(other, Jet):
            return Jet([a / other for a in self.c])
        a, b, q = self.c, other.c, []
        for k in range(len(a)):
            q.append((a[k] - sum(q[j] * b[k - j] for j in range(k))) / b[0])
        return Jet(q)

    def __rtruediv__(self, other):
        return self._lift(other) / self

    def __pow__(self, n):
        if isinstance(n, int) and n >= 0:
            result = self._lift(1.0)
            for _ in range(n):
                result = result * self
            return result
        return exp(log(self) * n)

    def _exp(self):  # e' = a' e: k e_k = Σ_(j=1..k) j a_j e_(k-j)
        a, e = self.c, [np.exp(self.c[0])]
        for k in range(1, len(a)):
            e.append(sum(j * a[j] * e[k - j] for j in range(1, k + 1)) / k)
        return Jet(e)

    def _log(self):  # a l' = a': k l_k a_0 = k a_k - Σ_(j=1..k-1) j l_j a_(k-j)
        a, l = self.c, [np.log(self.c[0])]
        for k in range(1, len(a)):
            l.append((a[k] - sum(j * l[j] * a[k - j] for j in range(1, k)) / k) / a[0])
        return Jet(l)

    def _sin_cos(self):  # s' = a' c, c' = -a' s
        a, s, c = self.c, [np.sin(self.c[0])], [np.cos(self.c[0])]
        for k in range(1, len(a)):
            s.append(sum(j * a[j] * c[k - j] for j in range(1, k + 1)) / k)
            c.append(-sum(j * a[j] * s[k - j] for j in range(1, k + 1)) / k)
        return Jet(s), Jet(c)

    def _sin(self):
        return self._sin_cos()[0]

    def _cos(self):
        return self._sin_cos()[1]

    def _sqrt(self):  # s s = a: 2 s_0 s_k = a_k - Σ_(j=1..k-1) s_j s_(k-j)
        a, s = self.c, [np.sqrt(self.c[0])]
        for k in range(1, len(a)):
            s.append((a[k] - sum(s[j] * s[k - j] for j in range(1, k))) / (2 * s[0]))
        return Jet(s)

    def _tanh(self):  # t' = (1 - t²) a'
        a, t, u = self.c, [np.tanh(self.c[0])], []
        for k in range(1, len(a)):
            m = k - 1  # u = 1 - t², coefficient m, needs t_0..t_m
            u.append((1.0 if m == 0 else 0.0) - sum(t[i] * t[m - i] for i in range(m + 1)))
            t.append(sum(j * a[j] * u[k - j] for j in range(1, k + 1)) / k)
        return Jet(t)


def jet(f, primal, series):
    """Like jax.experimental.jet.jet for one input: the Taylor coefficients of f(x(t)) where
    x(t) = primal + series[0] t + series[1] t² + ...; returns (f(primal), [its coefficients 1..K])."""
    out = f(Jet([primal] + list(series)))
    return out.c[0], out.c[1:]


def derivatives(f, x, k):
    """[f(x), f'(x), ..., f⁽ᵏ⁾(x)] from one pass of a jet of order k through f."""
    out = f(Jet([x, 1.0] + [0.0] * (k - 1)))
    return [c * math.factorial(j) for j, c in enumerate(out.c)]
