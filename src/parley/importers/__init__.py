"""Importers (WordPress WXR, Disqus, Isso) and the full-site export that round-trips through them."""
