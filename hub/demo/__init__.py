"""``hub demo``: both emulators, seeded with a software-services firm, and the three flows."""
