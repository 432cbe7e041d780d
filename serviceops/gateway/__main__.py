"""`python -m serviceops.gateway`: the same as `serviceops gateway`."""

from serviceops.gateway.app import run

if __name__ == "__main__":
    run()
