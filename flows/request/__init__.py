"""Request fulfilment and access management (ITIL SO 4.3, 4.5) as flows."""
