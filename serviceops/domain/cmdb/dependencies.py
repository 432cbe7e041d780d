"""What each configuration item needs, directly or through others: the question event
inhibition asks of every new alert (does something this item needs have an outage open?).

The catalogue's own `dependents` walks every item per call, which is right for an incident's
blast radius and far too slow for event correlation over a 5,000-item CMDB: the graph is built
once per catalogue load and each item's answer is kept.
"""

from collections import deque
from collections.abc import Iterable, Mapping

from serviceops.domain.cmdb.catalogue import Catalogue

_NOTHING: frozenset[str] = frozenset()


class Dependencies:
    """The `depends_on` graph of a catalogue, asked upstream: `needs("web-1")` is every item
    web-1 fails with. Unknown names need nothing (events may name a CI the catalogue lacks)."""

    def __init__(self, depends_on: Mapping[str, Iterable[str]]) -> None:
        self._depends_on = {name: tuple(needed) for name, needed in depends_on.items()}
        self._needs: dict[str, frozenset[str]] = {}
        self._needed_by: dict[str, list[str]] | None = None

    @classmethod
    def of(cls, catalogue: Catalogue) -> "Dependencies":
        return cls({item.name: item.depends_on for item in catalogue.items})

    def needs(self, name: str) -> frozenset[str]:
        """Every item `name` depends on, transitively; never `name` itself, also in a cycle."""
        known = self._needs.get(name)
        if known is not None:
            return known
        if name not in self._depends_on:  # not kept: events may name any number of these
            return _NOTHING
        seen: set[str] = {name}
        queue = deque([name])
        while queue:
            for needed in self._depends_on.get(queue.popleft(), ()):
                if needed not in seen:
                    seen.add(needed)
                    queue.append(needed)
        seen.discard(name)
        self._needs[name] = answer = frozenset(seen)
        return answer

    def dependents(self, name: str) -> frozenset[str]:
        """Every item that needs `name`, transitively (what fails with it); never `name`."""
        if self._needed_by is None:
            self._needed_by = {}
            for item, needed in self._depends_on.items():
                for other in needed:
                    self._needed_by.setdefault(other, []).append(item)
        seen: set[str] = {name}
        queue = deque([name])
        while queue:
            for item in self._needed_by.get(queue.popleft(), ()):
                if item not in seen:
                    seen.add(item)
                    queue.append(item)
        seen.discard(name)
        return frozenset(seen)

    def related(self, one: str, other: str) -> bool:
        """Whether one of the two needs the other: a change to either touches both."""
        return other in self.needs(one) or one in self.needs(other)

    def __len__(self) -> int:
        return len(self._depends_on)
