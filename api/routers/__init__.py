"""The gateway\x27s routers, one per resource."""
