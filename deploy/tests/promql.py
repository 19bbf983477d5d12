"""Metric names inside PromQL expressions, for checking that rules and
dashboards only use series uopd exports.

    metric_names('sum(rate(nv_inference_count{model="a"}[1m])) by (model)')
    # -> {"nv_inference_count"}
"""
import re

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')
_IDENT = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_KEYWORDS = {
    # aggregations, their modifiers, binary operators, offsets
    "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values",
    "bottomk", "topk", "quantile", "by", "without", "on", "ignoring", "group_left",
    "group_right", "and", "or", "unless", "bool", "offset", "le", "inf", "nan", "atan2",
}


def metric_names(expr):
    """Identifiers of `expr` that name series: not functions (followed by
    '('), not label names (inside {...} or by/on/ignoring lists), not
    keywords, not recording rules (names with ':')."""
    text = _STRING.sub('""', expr)
    text = re.sub(r"\{[^}]*\}", "{}", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", "[]", text)  # ranges and subqueries
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    names = set()
    for m in _IDENT.finditer(text):
        word = m.group(0)
        rest = text[m.end():].lstrip()
        if rest.startswith("(") or word.lower() in _KEYWORDS or ":" in word:
            continue
        if re.fullmatch(r"\d+(e\d+)?", word) or word.startswith("$"):
            continue
        names.add(word)
    return names
