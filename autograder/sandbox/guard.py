"""Undo the submission's patches each time control comes back from it to the scenario.

A scenario is trusted code, but it runs in the submission's own interpreter, and some of
what it sends the judge is computed there: "the inputs were left alone", "the gradients
are zero". A submission can rebind what that code looks up: a function of the preloaded
library, a method of its classes, builtins.isinstance, or the scenario module's own
helpers, which it finds by walking up the stack. The guard takes a snapshot of those
before the submission is imported and puts it back after the import and after every call
into the submission. So such a patch lasts only while the submission's own code runs. It
also resets what would run the submission's code later, in the middle of the scenario:
tracing hooks, signal handlers and timers, gc callbacks, the library state the scenarios
module names (see below), and call arguments whose class the submission swapped.

What to guard besides is the homework's to say, in its scenarios module (all optional):

    GUARDED_MODULES = (...)  # modules whose replaced or removed names come back (added
                             # names stay: a library adds lazily imported submodules
                             # itself), besides math and every preloaded module (always)
    GUARDED_CLASSES = (...)  # classes whose names come back and whose added names go (an
                             # added name can shadow a method of a base class); default: ()
    def _save_state() -> object: ...       # once, at the snapshot: library state the
    def _restore_state(saved) -> None: ... # scenarios rely on; restored last, every time

Names starting with "_" and upper-case constants are never taken as scenarios. The two
functions are the scenarios module's, so their code and globals are put back before
_restore_state runs.

It raises the bar; it is no wall. Code the submission leaves behind in other ways (a
returned object's methods, a hook on one of its values, a finalizer, ctypes) can still
run later, so flags computed in the worker are never fully trusted. Values are judged
outside, so cheating there takes computing the right answer.
"""

from __future__ import annotations

import builtins
import gc
import math
import signal
import sys
import types
from collections.abc import Callable, Sequence
from typing import Any

_MISSING = object()
_TIMERS = (signal.ITIMER_REAL, signal.ITIMER_VIRTUAL, signal.ITIMER_PROF)
_SIGNALS = tuple(s for s in signal.valid_signals() if s not in (signal.SIGKILL, signal.SIGSTOP))
_gc_callbacks = gc.callbacks  # the list the collector calls, even if gc.callbacks is rebound
_builtins = vars(builtins)
_set_class = object.__setattr__  # not the swapped class's own __setattr__


class Guard:
    def __init__(self, scenarios: types.ModuleType, preloaded: Sequence[types.ModuleType] = (),
                 *trusted_globals: dict[str, Any]) -> None:
        """The snapshot, taken once in the zygote. `preloaded` are the modules the zygote
        imported for the homework; `trusted_globals` the worker's own modules (child.py)."""
        hooks = _Hooks.read(scenarios, preloaded)
        self._builtins = dict(_builtins)
        self._modules = [(vars(m), dict(vars(m))) for m in hooks.modules]
        self._classes = [(c, dict(vars(c))) for c in hooks.classes]
        # the scenario's own module: an added name there would shadow a builtin
        # and the worker's own modules (the guard's, and those given: child.py), which a
        # submission finds up the stack too and which run the next call of a grouped run
        own = (vars(scenarios), *trusted_globals, globals())
        self._scenario = [(scope, dict(scope)) for scope in own]
        self._code = [(f, f.__code__, f.__defaults__, f.__kwdefaults__)
                      for scope in own for f in scope.values()
                      if isinstance(f, types.FunctionType)]
        self._trace, self._profile = sys.gettrace(), sys.getprofile()
        self._callbacks = list(_gc_callbacks)
        self._handlers = {s: signal.getsignal(s) for s in _SIGNALS}
        self._restore_state = hooks.restore_state
        self._state = hooks.save_state() if hooks.save_state is not None else None

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
        if self._restore_state is not None:  # last: its code and what it uses are back
            self._restore_state(self._state)

    def view(self, module: types.ModuleType) -> GuardedModule:
        """What the scenario gets as `sub`: the submission, every call into it guarded."""
        return GuardedModule(module, self)

    def wrap(self, function: Any) -> Any:
        def guarded(*args: Any, **kwargs: Any) -> Any:
            kinds = [(arg, type(arg)) for arg in (*args, *kwargs.values())]
            try:
                return function(*args, **kwargs)
            finally:
                self.restore()
                for arg, kind in kinds:  # w.__class__ = SomethingThatLies
                    if type(arg) is not kind:
                        try:
                            _set_class(arg, "__class__", kind)
                        except TypeError:  # a layout __class__ cannot be assigned back to
                            pass

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


class _Hooks:
    """What a scenarios module asks the guard to keep (the module docstring), checked."""

    def __init__(self, modules: tuple[types.ModuleType, ...], classes: tuple[type, ...],
                 save_state: Callable[[], object] | None,
                 restore_state: Callable[[object], None] | None) -> None:
        self.modules, self.classes = modules, classes
        self.save_state, self.restore_state = save_state, restore_state

    @classmethod
    def read(cls, scenarios: types.ModuleType, preloaded: Sequence[types.ModuleType]) -> _Hooks:
        scope = vars(scenarios)
        where = getattr(scenarios, "__file__", None) or scenarios.__name__
        modules = scope.get("GUARDED_MODULES", ())
        classes = scope.get("GUARDED_CLASSES", ())
        if not _all_of(modules, types.ModuleType):
            raise TypeError(f"{where}: GUARDED_MODULES must be a tuple or list of modules")
        modules = (math, *preloaded, *modules)
        if not _all_of(classes, type):
            raise TypeError(f"{where}: GUARDED_CLASSES must be a tuple or list of classes")
        save, restore = scope.get("_save_state"), scope.get("_restore_state")
        if (save is None) != (restore is None) or not all(
                f is None or callable(f) for f in (save, restore)):
            raise TypeError(f"{where}: _save_state and _restore_state go together, both "
                            "functions (or neither)")
        return cls(tuple(dict.fromkeys(modules)), tuple(dict.fromkeys(classes)), save, restore)


def _all_of(values: object, kind: type) -> bool:
    return isinstance(values, (tuple, list)) and all(isinstance(v, kind) for v in values)


def _put_back(current: dict[str, Any], snapshot: dict[str, Any], remove_added: bool) -> None:
    if remove_added:
        for name in [n for n in current if n not in snapshot]:
            del current[name]
    for name, value in snapshot.items():
        if current.get(name, _MISSING) is not value:
            current[name] = value
