"""The h2ocloud daemon: one asyncio process per machine, a peer among peers."""
