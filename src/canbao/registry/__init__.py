"""The registry across periods: persons and their stable ids, the period commit, the change log, the as-of export."""
