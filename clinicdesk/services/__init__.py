"""Use cases, one module per area. Every call takes the acting user and checks permissions."""
