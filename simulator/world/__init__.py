"""The world around the fake Houzz: customers, staff and the warehouse (it drives the fake)."""
