"""Rich models: wire entities with methods that call the API through their client."""
