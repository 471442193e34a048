"""Clearance: a rights-clearance guard for generative image and video platforms.

The data flow reads straight through the modules:
registry -> signals -> index -> match -> policy -> verdict -> audit.
"""

import os

# Clearance's matrix products are small (a few query vectors against a few hundred rows), and
# its cores belong to the models (``clearance.parallel``). A multi-threaded BLAS only spins on
# such products and steals those cores: measured 38 -> 53 images/s on 2 cores with one BLAS
# thread. BLAS reads this when numpy loads, so import clearance first (or set it yourself).
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

__version__ = "0.1.0"
