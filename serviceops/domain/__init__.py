"""Pure service-desk rules: pydantic and the standard library only, no I/O."""
