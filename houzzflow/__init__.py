"""houzzflow: proves a CartRover configuration for a Houzz cart cannot lose an order."""
