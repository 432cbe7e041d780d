"""The process is stopping: set by the routine runner on SIGTERM, read by the runs that loop
(the event watch), so they end after their pass instead of being cut off by the exit."""

import threading

STOPPING = threading.Event()
