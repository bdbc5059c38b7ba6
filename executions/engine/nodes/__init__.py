"""One module per node type; each declares its type with :func:`executions.engine.registry.register`."""
