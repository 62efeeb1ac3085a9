"""houzzflow's engine: CartRover's Houzz connector as data and pure functions.

The engine knows nothing of the simulator. It holds the Houzz order lifecycle as a
declarative machine (``machine.yaml``), the CartRover policy of one cart, the rules that
find the documented ways a configuration loses orders, the connector's decisions and its
recovery after a fault, and the connector runtime that acts on them.
"""
