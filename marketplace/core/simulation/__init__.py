"""A simulated day of chats: the floor, the planner and the oracle, the day's report."""
