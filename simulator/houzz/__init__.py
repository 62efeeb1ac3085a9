"""The fake Houzz: its state and lifecycle rules apart from its wire format (moto-style)."""
