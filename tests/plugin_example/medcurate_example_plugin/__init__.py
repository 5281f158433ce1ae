"""An example medcurate plugin: each component is one module registering itself; schemas/ holds its tables."""
