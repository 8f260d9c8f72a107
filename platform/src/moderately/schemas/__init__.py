"""Wire shapes: request models (Create/Update) and response models (Public) per entity."""
