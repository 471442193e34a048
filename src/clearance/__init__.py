"""Clearance: a rights-clearance guard for generative image and video platforms.

The data flow reads straight through the modules:
registry -> signals -> index -> match -> policy -> verdict -> audit.
"""

__version__ = "0.1.0"
