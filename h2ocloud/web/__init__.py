"""The aiohttp web console: a REST JSON API over the node's operations, and its pages."""
