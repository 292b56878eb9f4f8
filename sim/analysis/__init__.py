"""Statistics on result tables: intervals, survival, comparisons, summaries, sensitivity."""
