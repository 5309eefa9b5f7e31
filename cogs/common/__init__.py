"""What every feature cog shares: replies, the error handler, permissions and group lookup."""
