"""Tasks declared in a manifest: templates, extractors, checks, inputs and the planner that orders them."""
