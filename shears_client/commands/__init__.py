"""The `shears` sub-commands, one module per resource."""
