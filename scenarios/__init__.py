"""Built-in scenario files (YAML) and the data they use."""
