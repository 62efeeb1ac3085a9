"""Pictures for people: self-contained HTML reports of runs and proofs, and the settings
explorer page. Every page is one file with inline CSS and SVG drawn in Python (no network,
no framework); only the explorer carries a little inline JavaScript."""
