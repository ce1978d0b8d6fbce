"""`python -m rvc ARGS` runs the rvc binary with ARGS."""

import os
import sys

from rvc import binary

if __name__ == "__main__":
    exe = binary()
    if sys.platform == "win32":
        import subprocess

        sys.exit(subprocess.call([exe, *sys.argv[1:]]))
    os.execv(exe, [exe, *sys.argv[1:]])
