"""Stage 1 (ingest): contract extracts in a period folder → raw_* tables, rejects, reconciliation."""

from canbao.ingest.load import load_period

__all__ = ["load_period"]
