"""canbao (参保): 全民参保登记 for a district as a reproducible analysis.

The public entry points are the ``canbao`` command (:mod:`canbao.cli`) and the
stage functions in :mod:`canbao.run.pipeline`; everything else is an internal module
named for what it does.
"""

__version__ = "0.1.0"
