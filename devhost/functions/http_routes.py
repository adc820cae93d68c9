"""Route templates of HTTP triggers (ASP.NET style) compiled to regular expressions.

Supported: literals (case-insensitive, like ASP.NET routing), ``{name}``, ``{name?}``, ``{name:constraint}``,
``{name:constraint?}``, ``{name=default}`` and a trailing catch-all ``{*name}``. Constraints: int, long, bool,
alpha, guid, double, float, decimal, datetime (matched loosely), minlength/maxlength/length/min/max/range/regex
are accepted but only shape-checked as a plain segment.
"""

import re
from dataclasses import dataclass
from typing import Final

from devhost.functions.errors import AppLoadError

_CONSTRAINTS: Final = {
    "int": r"-?\d+", "long": r"-?\d+", "bool": r"(?i:true|false)", "alpha": r"[A-Za-z]+",
    "guid": r"[0-9A-Fa-f]{8}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{12}",
    "double": r"-?\d+(?:\.\d+)?", "float": r"-?\d+(?:\.\d+)?", "decimal": r"-?\d+(?:\.\d+)?",
}
_PARAM: Final = re.compile(r"^\{(\*?)([A-Za-z_][A-Za-z0-9_]*)(?::([^}?=]+))?(\?)?(?:=([^}]*))?\}$")


class RouteTemplateError(AppLoadError):
    """A route template this host cannot parse (stops start-up, like the Functions host's indexing error)."""


@dataclass(frozen=True)
class RouteTemplate:
    template: str
    pattern: re.Pattern[str]
    defaults: tuple[tuple[str, str], ...]

    def match(self, path: str) -> dict[str, str] | None:
        found = self.pattern.fullmatch(path.strip("/"))
        if found is None:
            return None
        params = {k: v for k, v in found.groupdict().items() if v is not None}
        for name, default in self.defaults:
            params.setdefault(name, default)
        return params


def compile_route(template: str) -> RouteTemplate:
    segments = [s for s in template.strip("/").split("/") if s]
    regex = ""
    defaults: list[tuple[str, str]] = []
    seen: set[str] = set()
    for index, segment in enumerate(segments):
        param = _PARAM.match(segment)
        if param is None:
            if "{" in segment or "}" in segment:
                raise RouteTemplateError(f"route {template!r}: unsupported segment {segment!r}")
            regex += ("/" if index else "") + f"(?i:{re.escape(segment)})"
            continue
        catch_all, name, constraint, optional, default = param.groups()
        if name in seen:
            raise RouteTemplateError(f"route {template!r}: the parameter {{{name}}} appears more than once")
        seen.add(name)
        if catch_all:
            if index != len(segments) - 1:
                raise RouteTemplateError(f"route {template!r}: a catch-all must be the last segment")
            regex += f"(?:{'/' if index else ''}(?P<{name}>.*))?"
            continue
        base = (constraint or "").split("(")[0].lower()
        body = _CONSTRAINTS.get(base, r"[^/]+")
        group = f"(?P<{name}>{body})"
        if optional or default is not None:
            if default is not None:
                defaults.append((name, default))
            regex += f"(?:{'/' if index else ''}{group})?"
        else:
            regex += ("/" if index else "") + group
    return RouteTemplate(template, re.compile(regex), tuple(defaults))
