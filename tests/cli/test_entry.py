"""The process entry point: a Ctrl-C during the interpreter's shutdown ends it quietly."""

from __future__ import annotations

import signal
import subprocess
import sys

# The command has finished; an atexit callback (as matplotlib registers) is running when a
# Ctrl-C arrives. With Python's own SIGINT handler that prints "Exception ignored in atexit
# callback" and a KeyboardInterrupt traceback.
SCRIPT = """
import atexit, os, signal, time
import cnnlab.cli

def late_ctrl_c():
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(1)

atexit.register(late_ctrl_c)
cnnlab.cli.main = lambda: 0
cnnlab.cli.run()
"""


def test_ctrl_c_after_the_command_ends_the_process_without_a_traceback():
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True)
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == -signal.SIGINT, (done.returncode, done.stderr)


def test_exit_code_is_the_commands():
    script = "import cnnlab.cli\ncnnlab.cli.main = lambda: 3\ncnnlab.cli.run()"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 3, done.stderr
