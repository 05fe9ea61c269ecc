"""Fine-Tune Studio: the domain package.

Kept import-light on purpose: the CLI, the sandbox workers and the app all import it, and
start-up time is part of the `ftstudio grade` budget. Import submodules directly.
"""

__version__ = "0.1.0"
