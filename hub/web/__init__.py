"""The web console: the operations admin's view of the hub, served by ``hub run``'s listener."""
