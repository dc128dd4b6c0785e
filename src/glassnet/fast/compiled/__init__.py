"""Compiled kernels: element-wise passes fused into one loop by numba (the optional extra
``glassnet[fast]``).

NumPy runs every element-wise operation as its own pass over memory: Adam's update is eleven
passes over the parameters, ``z += b`` then ``a = relu(z)`` two passes over ``z``. A loop
compiled by numba does each of these in one pass, reading every input once and writing
every output once. The matrix products stay in NumPy (BLAS): nothing here multiplies
matrices.

What this package holds:

- :func:`available` — whether numba imports (asked once, on first use: ``import glassnet``
  never imports numba).
- :class:`Kernel` — a Python loop compiled on its first call for each argument type, cached
  on disk (``cache=True``: numba's ``__pycache__`` beside this package, or, where that is
  not writable, ``NUMBA_CACHE_DIR`` or the user's cache folder), numba's warnings kept
  inside the compilation, and the time each compilation took recorded.
- :func:`compile_report` — seconds per kernel spent compiling (or loading from the cache)
  so far; :func:`warm_up` compiles every kernel for a dtype and returns the same report.

Whether the kernels are *used* is decided in one place, :func:`glassnet.fast.use_compiled`:
the fast path is on, numba is importable, ``GLASSNET_NUMBA`` is not ``0`` and the code is
not inside :func:`glassnet.fast.numpy_only`. The kernels themselves, by concept:
:mod:`.updates` (the optimizers' steps), :mod:`.pooling` (max and average pooling, forward and
backward), :mod:`.activations` (ReLU's derivative), :mod:`.windows` (Conv2D's col2im).
"""

from __future__ import annotations

import os
import time
import warnings

import numpy as np

_numba = {}  # "module": numba, or None when it does not import; filled by available()


def available() -> bool:
    """Whether numba can be imported here (tried once; a failed import means False)."""
    if "module" not in _numba:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # an import-time notice is not the user's error
                import numba
        except Exception:  # ImportError, or numba refusing this NumPy at import
            numba = None
        else:
            _choose_threading_layer(numba)
        _numba["module"] = numba
    return _numba["module"] is not None


def _choose_threading_layer(numba) -> None:
    """Run the kernels on numba's own ``workqueue`` threads, not its default OpenMP ones,
    unless the user chose a layer (``NUMBA_THREADING_LAYER``).

    Why: numba's OpenMP layer loads the system's GNU OpenMP, and a PyTorch imported into the
    same process afterwards then ran its MLP epoch 2.4x slower (4.8-5.4 s instead of
    1.9-2.6 s, ``benchmarks/time_to_accuracy.py`` racing both libraries in one process);
    with ``workqueue`` it ran at its own speed. The cost: a parallel kernel pays about 40 us
    a call to start its region on these threads, which is why most kernels are plain loops
    (:class:`Kernel`). The layer is read when numba first starts its threads, which no
    kernel has done yet when this runs.
    """
    if "NUMBA_THREADING_LAYER" not in os.environ:
        numba.config.THREADING_LAYER = "workqueue"


#: every Kernel made so far, by name: what compile_report reads
KERNELS: dict[str, Kernel] = {}


class Kernel:
    """``py_func`` compiled by numba on the first call for each argument type.

    A plain loop (``njit``; its ``prange`` runs as ``range``) unless ``parallel=True``: then
    compiled with ``parallel=True`` (its outer loop a ``prange``) and run on ``threads``
    threads, one by default. Why parallel for one thread, where it pays: numba's parallel
    lowering tells LLVM that the arrays do not overlap, and only then does LLVM vectorise a
    loop that writes several arrays and reads more — Adam's step over 235,146 float32 went
    from 700 us (a plain loop, no faster than NumPy's eleven passes) to 139 us. Why not
    everywhere: launching a parallel region costs about 40 us a call on numba's workqueue
    threads, even on one thread (SGD's step on 1,000 floats: 41 us, the plain loop 1 us), and
    the plain loop is the faster one for every other kernel (``benchmarks/kernels.py``,
    interleaved: SGD's step 52-61 us against 109-119, col2im of a Conv2D backward
    6.6-11.7 ms against 25). Why one thread: beside OpenBLAS's threads, numba's OpenMP
    threads made a training epoch 4x slower (each pool spins while the other works), and with
    other threading layers two threads gained nothing in an epoch. Either way the loop does
    the same operations in the same order: the same numbers.

    The dispatcher is made on the first call (making it with ``cache=True`` already looks for
    a cache folder). Numba compiles — or loads from its disk cache — whenever it meets new
    argument types; that step runs with numba's warnings silenced (a cache folder it cannot
    write to is a reason to compile again next time, not an error in the caller's code) and
    its seconds are added to :attr:`seconds`.
    """

    def __init__(self, py_func, *, parallel: bool = False, threads: int = 1) -> None:
        self.py_func, self.parallel, self.threads = py_func, parallel, threads
        self.name = f"{py_func.__module__.rsplit('.', 1)[-1]}.{py_func.__name__}"
        self.dispatcher = None
        self.seconds = 0.0
        KERNELS[self.name] = self

    def __call__(self, *args):
        dispatcher = self.dispatcher or self._make()
        if not self.parallel:
            return dispatcher(*args)
        numba = _numba["module"]
        before = numba.get_num_threads()
        numba.set_num_threads(min(self.threads, numba.config.NUMBA_NUM_THREADS))
        try:
            return dispatcher(*args)
        finally:
            numba.set_num_threads(before)

    def _make(self):
        available()
        numba = _numba["module"]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                dispatcher = numba.njit(cache=True, parallel=self.parallel)(self.py_func)
            except RuntimeError:  # no cache folder can be written anywhere: compile each run
                dispatcher = numba.njit(cache=False, parallel=self.parallel)(self.py_func)
        compile_for_args = dispatcher._compile_for_args

        def quiet_compile(*args, **kwargs):
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    return compile_for_args(*args, **kwargs)
                finally:
                    self.seconds += time.perf_counter() - start

        # numba's dispatcher calls this attribute when it meets new argument types
        dispatcher._compile_for_args = quiet_compile
        self.dispatcher = dispatcher
        return dispatcher


def kernel(*, parallel: bool = False, threads: int = 1):
    """Decorator: ``@kernel()`` makes a :class:`Kernel` of a Python loop (``parallel=True``:
    compiled as a parallel loop, see :class:`Kernel`)."""
    return lambda py_func: Kernel(py_func, parallel=parallel, threads=threads)


def compile_report() -> dict[str, float]:
    """Seconds spent so far compiling (or loading from the disk cache), per kernel name."""
    return {name: k.seconds for name, k in KERNELS.items()}


def warm_up(dtype="float32") -> dict[str, float]:
    """Compile every kernel for ``dtype`` now, on small inputs, and return
    :func:`compile_report`. Run it in a fresh process with an empty ``NUMBA_CACHE_DIR`` to
    measure the first-use compile cost; run it again to measure loading from the cache."""
    if not available():
        return {}
    from glassnet.fast.compiled import activations, pooling, updates, windows

    dtype = np.dtype(dtype)
    activations.warm_up(dtype)
    windows.warm_up(dtype)
    updates.warm_up(dtype)
    pooling.warm_up(dtype)
    return compile_report()
