"""The python-grader worker: run as a script (`python -I _main.py`), stdlib only, never imported by the app."""
