"""Is the monitoring pipeline itself healthy? The checks of one run, as typed results (pure)."""
