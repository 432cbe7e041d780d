"""The application layer the gateway and the CLI share: the read documents they return (a
module per process), accepting a service request (intake), deciding an approval (approvals),
and the way into Prefect that never starts an ephemeral server (prefect_api). Neither the
gateway nor the CLI builds these itself, so both answer alike."""
