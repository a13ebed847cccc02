"""The live stream: worker -> Redis -> SSE (web and API)."""
