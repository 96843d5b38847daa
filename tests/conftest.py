import atexit
import os
import shutil
import tempfile

import echo  # noqa: F401  (selects the Keras backend before anything imports keras)

# Compiled programs kept for this session only (its commands share them; none from outside).
os.environ["ECHO_BENCH_CACHE"] = tempfile.mkdtemp(prefix="echo-bench-test-cache-")
atexit.register(shutil.rmtree, os.environ["ECHO_BENCH_CACHE"], ignore_errors=True)
