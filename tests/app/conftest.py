"""AppTest runs execute whole page scripts (Streamlit's script runner, every widget): they belong to the
full run (`python -m pytest`, what CI runs), not to the fast developer loop."""

import pytest


def pytest_collection_modifyitems(items):
    for item in items:
        if "/tests/app/" in str(item.path):
            item.add_marker(pytest.mark.slow)
