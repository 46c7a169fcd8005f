"""Every error the engine raises, in one place so that messages read alike."""

from __future__ import annotations


class WorkstationError(Exception):
    """Base of every error the engine reports to a user."""


class PortfolioError(WorkstationError):
    """A portfolio document is malformed. `path` is the JSON path of the offending value."""

    def __init__(self, path: str, expected: str, got: object = None, *, source: str | None = None):
        self.path = path
        self.expected = expected
        self.got = got
        self.source = source
        super().__init__(self._text())

    def _text(self) -> str:
        where = f"{self.source}: " if self.source else ""
        got = "" if self.got is None else f" (got {self.got!r})"
        return f"{where}{self.path}: expected {self.expected}{got}"

    def with_source(self, source: str) -> PortfolioError:
        return PortfolioError(self.path, self.expected, self.got, source=source)


class ProfileError(WorkstationError):
    """A margin profile is malformed: names the file (or portfolio path), the key and the problem."""

    def __init__(self, source: str, key: str, problem: str):
        self.source = source
        self.key = key
        self.problem = problem
        super().__init__(f"{source}: {key}: {problem}")


class ScopeError(WorkstationError):
    """An account or pool asked for does not exist."""


def unknown_profile(name: str, known: list[str]) -> ProfileError:
    return ProfileError("profiles", name, f"unknown margin profile; known: {', '.join(sorted(known))}")
