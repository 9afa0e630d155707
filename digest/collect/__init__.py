"""Collect: sources (feeds, WordPress, folders) → fetched pages → main text → topics → summaries.

Takes the configured sources and the network (within netguard's limits); gives NewArticle records for
the store. `stage.py` runs it; the rest are its pure parts and the fetching around them."""
