"""Undo the submission's patches each time control comes back from it to the scenario.

A scenario is trusted code, but it runs in the submission's own interpreter, and some of
what it sends the judge is computed there: "the inputs were left alone", "the gradients
are zero". A submission can rebind what that code looks up: torch.equal,
Tensor.clone, builtins.isinstance, or the scenario module's own helpers, which it finds
by walking up the stack. The guard takes a snapshot of those before the submission is
imported and puts it back after the import and after every call into the submission.
So such a patch lasts only while the submission's own code runs. It also resets what
would run the submission's code later, in the middle of the scenario: tracing hooks,
torch function and dispatch modes, signal handlers and timers, gc callbacks, and
tensors whose class the submission swapped.

It raises the bar; it is no wall. Code the submission leaves behind in other ways (a
returned object's methods, a hook on a tensor, a finalizer, ctypes) can still run later,
so flags computed in the worker are never fully trusted. Values are judged outside, so
cheating there takes computing the right answer.
"""

from __future__ import annotations

import builtins
import gc
import math
import signal
import sys
import types
from typing import Any

import numpy
import torch

_MISSING = object()
_TIMERS = (signal.ITIMER_REAL, signal.ITIMER_VIRTUAL, signal.ITIMER_PROF)
_SIGNALS = tuple(s for s in signal.valid_signals() if s not in (signal.SIGKILL, signal.SIGSTOP))
_gc_callbacks = gc.callbacks  # the list the collector calls, even if gc.callbacks is rebound
_builtins = vars(builtins)
# Modules whose names scenarios use. Names the submission adds to them are left (torch
# adds lazily imported submodules itself); names it replaces or removes come back.
_MODULES = (math, numpy, torch, torch.autograd)
_CLASSES = (torch.Tensor,)  # here an added name can shadow a method of the base class: removed


class Guard:
    def __init__(self, scenario_globals: dict[str, Any], *trusted_globals: dict[str, Any]
                 ) -> None:
        self._builtins = dict(_builtins)
        self._modules = [(vars(m), dict(vars(m))) for m in _MODULES]
        self._classes = [(c, dict(vars(c))) for c in _CLASSES]
        # the scenario's own module: an added name there would shadow a builtin
        # and the worker's own modules (the guard's, and those given: child.py), which a
        # submission finds up the stack too and which run the next call of a grouped run
        own = (scenario_globals, *trusted_globals, globals())
        self._scenario = [(scope, dict(scope)) for scope in own]
        self._code = [(f, f.__code__, f.__defaults__, f.__kwdefaults__)
                      for scope in own for f in scope.values()
                      if isinstance(f, types.FunctionType)]
        self._trace, self._profile = sys.gettrace(), sys.getprofile()
        self._callbacks = list(_gc_callbacks)
        self._handlers = {s: signal.getsignal(s) for s in _SIGNALS}
        self._grad = torch.is_grad_enabled()
        self._dtype = torch.get_default_dtype()

    def restore(self) -> None:
        """Put everything back. Builtins first, without using them: they may be patched."""
        saved = self._builtins
        for name in [n for n in _builtins if n not in saved]:
            del _builtins[name]
        for name in saved:
            if _builtins.get(name, _MISSING) is not saved[name]:
                _builtins[name] = saved[name]
        for timer in _TIMERS:
            signal.setitimer(timer, 0)
        for sig, handler in self._handlers.items():
            if handler is not None and signal.getsignal(sig) is not handler:
                signal.signal(sig, handler)
        sys.settrace(self._trace)
        sys.setprofile(self._profile)
        _gc_callbacks[:] = self._callbacks
        while torch._C._len_torch_function_stack():
            torch._C._pop_torch_function_stack()
        while torch._C._len_torch_dispatch_stack():
            torch._C._pop_torch_dispatch_stack()
        torch.set_grad_enabled(self._grad)
        if torch.get_default_dtype() is not self._dtype:
            torch.set_default_dtype(self._dtype)
        for current, snapshot in self._modules:
            _put_back(current, snapshot, remove_added=False)
        for scope, snapshot in self._scenario:
            _put_back(scope, snapshot, remove_added=True)
        for cls, snapshot in self._classes:
            for name in [n for n in vars(cls) if n not in snapshot]:
                delattr(cls, name)
            for name, value in snapshot.items():
                if vars(cls).get(name, _MISSING) is not value:
                    setattr(cls, name, value)
        for function, code, defaults, kwdefaults in self._code:
            function.__code__, function.__defaults__ = code, defaults
            function.__kwdefaults__ = kwdefaults

    def view(self, module: types.ModuleType) -> GuardedModule:
        """What the scenario gets as `sub`: the submission, every call into it guarded."""
        return GuardedModule(module, self)

    def wrap(self, function: Any) -> Any:
        def guarded(*args: Any, **kwargs: Any) -> Any:
            tensors = [(a, type(a)) for a in (*args, *kwargs.values())
                       if isinstance(a, torch.Tensor)]
            try:
                return function(*args, **kwargs)
            finally:
                self.restore()
                for tensor, kind in tensors:  # w.__class__ = SomethingThatLies
                    if type(tensor) is not kind:
                        tensor.__class__ = kind

        guarded.__name__ = getattr(function, "__name__", "function")
        return guarded


class GuardedModule:
    """The submission module as scenarios see it: attributes are read from it, and every
    callable comes wrapped so that the guard restores everything when it returns."""

    def __init__(self, module: types.ModuleType, guard: Guard) -> None:
        object.__setattr__(self, "_module", module)
        object.__setattr__(self, "_guard", guard)

    def __getattr__(self, name: str) -> Any:
        try:
            value = getattr(self._module, name)  # a module __getattr__ is the submission's code
        finally:
            self._guard.restore()
        if callable(value) and not isinstance(value, types.ModuleType):
            return self._guard.wrap(value)
        return value


def _put_back(current: dict[str, Any], snapshot: dict[str, Any], remove_added: bool) -> None:
    if remove_added:
        for name in [n for n in current if n not in snapshot]:
            del current[name]
    for name, value in snapshot.items():
        if current.get(name, _MISSING) is not value:
            current[name] = value
