"""Reports: exports, views, bulletins, charts, the front page, and their Excel copies."""
