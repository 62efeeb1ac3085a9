"""An edge: the fake Houzz served over HTTP (Houzz's wire routes and houzzflow's admin routes)."""
