"""The fake Houzz: its state and rules, its wire format, and its HTTP server (moto-style)."""
