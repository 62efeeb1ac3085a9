"""The world around the fake Houzz: the clock, customers, staff, the warehouse and faults."""
