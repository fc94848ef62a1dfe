"""The course's teaching aids: not part of PyTorch's API, so they live apart from the PyTorch surface.

    viz.py             pictures of the backward graph, and a step-by-step replay of backward()
    jacobian_order.py  in which order to multiply a chain of Jacobians: forward, reverse, or the cheapest hybrid
    sweeps.py          pictures of the forward and reverse sweeps, of bracketings and of the hybrid order
    cut_graphs.py      pictures of detach cutting a graph, and of the adjoint flowing back (notebooks 3, 4)
    order_figure.py    the order backward runs the nodes in, numbered on the graph (notebook 7)
    memory_figures.py  the memory of reverse mode, checkpointing schedules, the cost of a gradient (notebooks 9, 10)
    taylor.py          tagged dual numbers, hyper-dual numbers and Taylor jets (notebook 12)
    capstone.py        random expression programs and pictures that grade the capstone engine (notebook 13)
    checks.py          the exercises' checks: right or wrong, staged hints, never the answer

They sit on top of everything else (the engine, func) and nothing in the package imports them.
`autograd_lite.viz` and `autograd_lite.jacobian_order` still name the same modules, for older code.
"""
