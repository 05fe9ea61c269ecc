"""User code's calls in the worker: the source loaded, grade() called on a row, and what went wrong worded.
Loaded by `_main.py`, which sets MAX_DETAILS_CHARS from the init message (the parent cuts again).

Frames of the worker's own files (this one included) are dropped from the tracebacks user code gets.
"""

import errno
import math
import os
import sys
import types

RUNTIME_ERROR = "python_grader_runtime_error"
MAX_DETAILS_CHARS = 0            # tracebacks keep their tail: the error line is at the end
MAX_REPR_CHARS = 200
FILENAME = "grader.py"


def _short_repr(value):
    try:
        text = repr(value)
    except BaseException as exc:  # a user __repr__ can raise anything
        return f"<{type(value).__name__} object; repr() failed: {type(exc).__name__}>"
    return text if len(text) <= MAX_REPR_CHARS else text[:MAX_REPR_CHARS] + f"... ({len(text):d} chars)"


def _clip(text):
    return text if len(text) <= MAX_REPR_CHARS else text[:MAX_REPR_CHARS] + "..."


_HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "")


def format_exception(exc):
    """The traceback of user code: frames of the worker's own files (the call site, the audit hook) are dropped."""
    try:
        traceback = traceback_module()
    except BaseException:  # an import the first batch needed under memory pressure (see traceback_module)
        return f"{type(exc).__name__}: {_clip(str(exc))}"
    te = traceback.TracebackException(type(exc), exc, exc.__traceback__)
    seen, pending = set(), [te]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        current.stack[:] = [f for f in current.stack if not f.filename.startswith(_HERE)]
        pending += [current.__cause__, current.__context__]
    text = "".join(te.format())
    if len(text) > MAX_DETAILS_CHARS:
        text = "... (traceback trimmed)\n" + text[-MAX_DETAILS_CHARS:]
    return text


_SOURCE = []  # the source, for the lines of its tracebacks (linecache is loaded with traceback)


def traceback_module():
    """The traceback module, with the source's lines registered. Imported once the first batch is done (or
    at the first error before that): it and linecache bring the regular expressions of tokenize and
    textwrap, which cost a cold start more than the rest of the worker; later, imported already, it cannot
    fail under memory pressure."""
    import linecache
    import traceback
    if _SOURCE and FILENAME not in linecache.cache:
        source = _SOURCE[0]
        linecache.cache[FILENAME] = (len(source), None, source.splitlines(True), FILENAME)
    return traceback


def load_source(source):
    """Run the module-level code and return (grade, None) or (None, details)."""
    _SOURCE[:] = [source]
    try:
        code = compile(source, FILENAME, "exec")
    except SyntaxError as exc:
        return None, f"the source does not compile: {exc.msg} (line {exc.lineno}, column {exc.offset})"
    except (ValueError, MemoryError, RecursionError) as exc:
        return None, f"the source does not compile: {exc}"
    module = types.ModuleType("grader")
    module.__file__ = FILENAME
    sys.modules["grader"] = module
    try:
        exec(code, module.__dict__)
    except BaseException as exc:
        return None, "the module-level code of the source raised an exception:\n" + format_exception(exc)
    grade = module.__dict__.get("grade")
    if grade is None:
        return None, "the source defines no function named grade; define grade(sample, item) -> float"
    if not callable(grade):
        return None, f"grade is an object of type {type(grade).__name__}, not a function; define grade(sample, item) -> float"
    problem = _arity_problem(grade)
    return (None, problem) if problem else (grade, None)


def _arity_problem(grade):
    for _ in range(100):  # decorators made with functools.wraps keep the signature in __wrapped__
        inner = getattr(grade, "__wrapped__", None)
        if inner is None:
            break
        grade = inner
    if not isinstance(grade, types.FunctionType):
        return None  # a bound method, callable object or builtin: it is called and judged per row
    code = grade.__code__
    if code.co_flags & 0x80:  # CO_COROUTINE
        return "grade is an async function; define it with a plain def (it must return a float, not a coroutine)"
    if code.co_flags & (0x04 | 0x08) or code.co_kwonlyargcount or code.co_argcount != 2:
        names = code.co_varnames[:code.co_argcount + code.co_kwonlyargcount]
        return ("grade must take exactly two positional parameters (sample, item) and no others; "
                "it takes ({})".format(", ".join(names + (("*args",) if code.co_flags & 0x04 else ())
                                            + (("**kwargs",) if code.co_flags & 0x08 else ()))))
    return None


def call(grade, sample, item, limits):
    """grade(sample, item) as (reward, error, details). The fast loop of `_main._Batches` calls grade() itself
    and comes here (raised, returned) only for what is not a finite float: the same results either way."""
    try:
        value = grade(sample, item)
    except BaseException as exc:  # anything user code raises is a result
        return raised(exc, limits)
    if type(value) is float and _isfinite(value):
        return value, None, None
    return returned(value)


def raised(exc, limits):
    """The result of a call of grade() that raised exc."""
    if isinstance(exc, MemoryError):
        return 0.0, RUNTIME_ERROR, ("grade() ran out of memory (limit {})\n".format(_size(limits["memory_limit"]))
                                    + format_exception(exc))
    if isinstance(exc, SystemExit):
        return 0.0, RUNTIME_ERROR, (f"grade() called sys.exit({_short_repr(exc.code)}); return a float instead\n"
                                    + format_exception(exc))
    return 0.0, RUNTIME_ERROR, _os_error_hint(exc, limits) + format_exception(exc)


def returned(value):
    """The result of a call of grade() that returned value."""
    try:
        reward = float(value)
    except BaseException as exc:  # float() may run user __float__
        return 0.0, RUNTIME_ERROR, (f"grade() returned {_short_repr(value)} (type {type(value).__name__}), which is not a valid float: float() raised {type(exc).__name__}: {_clip(str(exc))}")
    if not math.isfinite(reward):
        return 0.0, RUNTIME_ERROR, (f"grade() returned {_short_repr(value)}, which is not a finite number (nan and inf are rejected)")
    return reward, None, None


_isfinite = math.isfinite


def _os_error_hint(exc, limits):
    """A first line that names the sandbox rule an OSError ran into (the traceback follows)."""
    code = getattr(exc, "errno", None) if isinstance(exc, OSError) else None
    if code in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return ("grade() ran out of disk space (a python grader may write at most {}, in its working "
                "directory)\n".format(_size(limits["disk_limit"])))
    if code == errno.EROFS:
        return "grade() tried to write outside its working directory, which is the only writable place\n"
    if code in (errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL):
        return "grade() tried to use the network, which a python grader does not have\n"
    if code == errno.EAGAIN and "fork" in str(exc).lower():
        return "grade() tried to create processes beyond the limit\n"
    return ""


def _size(n):
    for unit, factor in (("GiB", 1024 ** 3), ("MiB", 1024 ** 2), ("KiB", 1024)):
        if n >= factor:
            return f"{round(n / factor, 2):g} {unit}"
    return f"{n:d} bytes"
