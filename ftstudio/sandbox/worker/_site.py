"""sys.path as `site` would make it under -I, for a worker started with -S (see _main.py). Loaded by `_main.py`.

Loaded with the worker's other modules, before the isolation, although the .pth finder is only needed on the
first missed import: by then the worker's folder may be unreadable (another uid) and user code runs.
"""

import os
import sys


class PthImports:
    """The `import` lines of .pth files, run when an import first finds nothing else (then retried).

    `site` would run them at start, and they cost more than the rest of a cold start; most graders never
    need them. The ones that do (an editable install's finder, a namespace package's hook) get them on
    their first missed import, as `site.addpackage` runs them: one line at a time, a failing line skipped.
    Appended last to sys.meta_path, so every other finder has missed when this one is asked.
    """

    def __init__(self, lines):
        self.lines = lines

    def find_spec(self, name, path=None, target=None):
        if self in sys.meta_path:
            sys.meta_path.remove(self)
        lines, self.lines = self.lines, ()
        for line in lines:
            try:
                exec(line)  # what site.addpackage does with the same line
            except Exception:  # site skips a failing line too (it prints it; nobody reads that here)
                continue
        for finder in list(sys.meta_path):
            find = getattr(finder, "find_spec", None)
            spec = find(name, path, target) if find is not None else None
            if spec is not None:
                return spec
        return None


def add_site_dirs(site_dirs, prefix):
    """sys.path as `site` makes it under -I; the import lines of .pth files wait for a missed import."""
    import site
    imports = []
    for folder in site_dirs:
        if folder in sys.path or not os.path.isdir(folder):
            continue
        sys.path.append(folder)
        try:
            names = sorted(n for n in os.listdir(folder) if n.endswith(".pth") and not n.startswith("."))
        except OSError:
            continue
        for name in names:
            try:
                with open(os.path.join(folder, name), encoding="utf-8") as f:
                    lines = f.read().splitlines()
            except (OSError, UnicodeDecodeError):
                continue
            for line in lines:
                line = line.rstrip()
                if line.startswith(("import ", "import\t")):
                    imports.append(line)
                    continue
                if not line or line.startswith("#"):
                    continue
                path = os.path.abspath(os.path.join(folder, line))
                if path not in sys.path and os.path.isdir(path):
                    sys.path.append(path)
    if imports:
        sys.meta_path.append(PthImports(imports))
    if prefix:
        sys.prefix = sys.exec_prefix = prefix
    site.setquit()  # exit() and quit(), as site.main() would provide
    site.setcopyright()
    site.sethelper()

