from ftstudio.cli import run

run()
