"""`python -m bench`: every benchmark, one after the other."""

from bench import (
    board_refresh,
    detect_problems_scale,
    event_throughput,
    idle_cost,
    kedb_match,
    log_incident_latency,
    paging,
    sla_sweep_scale,
    slack_press,
    storm,
    webhook_accept,
)

if __name__ == "__main__":
    sla_sweep_scale.main()
    log_incident_latency.main()
    webhook_accept.main()
    event_throughput.main()
    storm.main()
    idle_cost.main()
    kedb_match.main()
    detect_problems_scale.main()
    board_refresh.main()
    slack_press.main()
    paging.main()
