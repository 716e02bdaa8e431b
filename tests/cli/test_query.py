"""The ``--where`` language: semantics, errors that name the column, and never any other error."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_eventrecorder import EventReplayer, RecordedEvent
from pytest_eventrecorder.query import MAX_DEPTH, Query, QueryError, compile_query

EVENT = RecordedEvent(
    timestamp_offset_ms=1500.0,
    event_name="OrderPlaced",
    event_data={
        "symbol": "BTC/USDT",
        "price": 150,
        "size": 0.5,
        "filled": False,
        "note": None,
        "tags": ["urgent", "vip"],
        "items": [{"qty": 2}, {"qty": 3}],
        "unit price": 7,
        "order-id": "A-1",
        "flags": {"paper": True},
    },
    source="TradingBot",
    metadata={"broker": "redis"},
)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("event_data.price > 100", True),
        ("event_data.price >= 150 and event_data.price <= 150", True),
        ("event_data.price < 150.5", True),
        ("event_data.price == 150.0", True),
        ("event_data.price != 150", False),
        ("event_data.size > 0.25e0", True),
        ("event_data.price > -1", True),
        ('event_name == "OrderPlaced"', True),
        ("event_name == 'OrderPlaced'", True),
        ('event_name > "A"', True),
        ('source == "TradingBot" and timestamp_offset_ms >= 1500', True),
        ('source == "Nobody" or event_data.symbol == "BTC/USDT"', True),
        ('not source == "TradingBot"', False),
        ('not (source == "Nobody")', True),
        ('event_name in ["OrderPlaced", "OrderFilled"]', True),
        ('event_name not in ["OrderPlaced"]', False),
        ("event_data.price in [1, 150.0]", True),
        ("event_data.price in []", False),
        ('event_data.tags contains "vip"', True),
        ('"vip" in event_data.tags', True),
        ('event_data.symbol contains "USDT"', True),
        ('"USD" in event_data.symbol', True),
        ('event_data.flags contains "paper"', True),
        ("event_data.items.1.qty == 3", True),
        ("event_data.items.5.qty == null", True),
        ("event_data.tags.0 == 'urgent'", True),
        ('event_data."unit price" == 7', True),
        ("event_data.order-id == 'A-1'", True),
        ("event_data.flags.paper == true", True),
        ("event_data.filled == false", True),
        ("event_data.note == null", True),
        ("event_data.absent == null", True),
        ("event_data.absent.deeper != 1", True),
        ("event_data.absent > 1", False),
        ("event_data.flags.paper == 1", False),
        ("event_data.filled == 0", False),
        ("event_data.price", True),
        ("event_data.filled", False),
        ("not event_data.absent", True),
        ("metadata.broker == 'redis'", True),
        ("event_type == null", True),
        ("event_data.items.0.qty < event_data.items.1.qty", True),
        ("true", True),
        ("null", False),
        ('source == "TradingBot" AND NOT event_data.filled OR False', True),
        ("(((event_data.price > 1)))", True),
        ('"a\\"b" == \'a"b\'', True),
        ("'\\u00e9' == 'é'", True),
    ],
)
def test_expression_semantics(expression: str, expected: bool) -> None:
    query = compile_query(expression)
    assert query(EVENT) is expected
    assert query(EVENT.to_dict()) is expected  # plain dicts (e.g. the dashboard) work too


def test_precedence_and_binds_tighter_than_or() -> None:
    assert compile_query("true or false and false")(EVENT) is True
    assert compile_query("(true or false) and false")(EVENT) is False
    assert compile_query("not false and false")(EVENT) is False


def test_strict_json_equality_inside_containers() -> None:
    event = RecordedEvent(0, "E", {"a": [1, True], "b": [1, 1], "c": {"x": 1}, "d": {"x": 1.0}})
    assert compile_query("event_data.a == event_data.b")(event) is False
    assert compile_query("event_data.c == event_data.d")(event) is True
    assert compile_query("true in event_data.b")(event) is False
    assert compile_query("1 in event_data.a")(event) is True


def test_query_is_a_replayer_predicate() -> None:
    events = [RecordedEvent(i, "Tick", {"price": i}) for i in range(5)]
    picked = EventReplayer.from_events(events).filter_events(
        where=compile_query("event_data.price >= 3")
    )
    assert [e.event_data["price"] for e in picked] == [3, 4]


def test_query_keeps_its_text() -> None:
    query = compile_query("event_data.price > 1")
    assert isinstance(query, Query)
    assert query.expression == "event_data.price > 1"
    assert "event_data.price > 1" in repr(query)


@pytest.mark.parametrize(
    ("expression", "column", "fragment"),
    [
        ("", 1, "the expression is empty"),
        ("   ", 4, "the expression is empty"),
        ("price > 1", 1, "did you mean 'event_data.price'"),
        ("evnt_data.price > 1", 1, "unknown field 'evnt_data'"),
        ("SOURCE == 'x'", 1, "did you mean 'source'? (field names are case-sensitive)"),
        ("event_data.price >", 19, "expected a value"),
        ("event_data.price = 1", 18, "write '=='"),
        ("source == 'x' && true", 15, "write 'and'"),
        ("source == 'x' || true", 15, "write 'or'"),
        ("!source", 1, "write 'not'"),
        ("source == 'abc", 11, "never closed"),
        ('source == "abc', 11, "never closed"),
        ("source == 'x' source", 15, "expected 'and', 'or' or the end"),
        ("1 < 2 < 3", 7, "cannot be chained"),
        ("(source == 'x'", 15, "expected ')' to close the '(' at column 1"),
        ("source == 'x')", 14, "found ')'"),
        ("event_name in [1, source]", 19, "expected a literal"),
        ("event_name in [1 2]", 18, "expected ',' or ']'"),
        ("event_name in [1,", 18, "expected a literal"),
        ("event_data.x not 3", 18, "expected 'in' after 'not'"),
        ("not", 4, "expected a value"),
        ("event_data.", 11, "field name must come before and after"),
        ("event_data..x", 11, "field name must come before and after"),
        ("source == 'a\\qb'", 13, "unknown escape '\\q'"),
        ("event_data.x > 1e999", 16, "too large"),
        ("event_data.x > #", 16, "unexpected character '#'"),
        ("and", 1, "expected a value"),
        ("source ==", 10, "expected a value"),
        ("()", 2, "expected a value"),
    ],
)
def test_syntax_errors_name_the_column(expression: str, column: int, fragment: str) -> None:
    with pytest.raises(QueryError) as info:
        compile_query(expression)
    error = info.value
    assert fragment in str(error)
    assert error.column == column
    assert error.position == column - 1
    assert error.expression == expression
    where = "at the end of the expression" if column > len(expression) > 0 else f"column {column}"
    assert where in str(error)
    assert "\n" not in str(error)


@pytest.mark.parametrize("prefix", ["(", "not ", "not ("])
def test_deep_nesting_is_a_clear_error(prefix: str) -> None:
    with pytest.raises(QueryError, match=f"nested more than {MAX_DEPTH} levels"):
        compile_query(prefix * 10_000 + "true")


def test_nesting_within_the_limit_works() -> None:
    depth = MAX_DEPTH - 1
    assert compile_query("(" * depth + "true" + ")" * depth)(EVENT) is True


def test_query_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="empty"):
        compile_query("")


def test_non_string_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="a query is a string"):
        compile_query(42)  # type: ignore[arg-type]


def test_absurdly_deep_data_is_no_match_not_a_crash() -> None:
    deep: Any = 1
    for _ in range(50_000):
        deep = [deep]
    query = compile_query("event_data.a == event_data.b")
    assert query({"event_data": {"a": deep, "b": deep}}) is False


# --------------------------------------------------------------------------- properties

TOKENS = [
    "event_data",
    "event_data.price",
    "event_name",
    "source",
    "metadata.x",
    "event_data.items.0",
    "==",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "=",
    "!",
    "&&",
    "in",
    "not",
    "contains",
    "and",
    "or",
    "(",
    ")",
    "[",
    "]",
    ",",
    "'a'",
    '"b"',
    "'",
    '"',
    "1",
    "-2.5",
    "1e5",
    "true",
    "false",
    "null",
    ".",
    "..",
    "\\",
    "#",
    "é",
    "\x00",
    "price",
]
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=10,
)
EVENTS = st.builds(
    RecordedEvent,
    timestamp_offset_ms=st.floats(min_value=0, max_value=1e9),
    event_name=st.text(min_size=1, max_size=8),
    event_data=st.dictionaries(st.sampled_from(["price", "items", "x"]), JSON, max_size=3),
    source=st.none() | st.text(max_size=5),
    metadata=st.none() | st.dictionaries(st.sampled_from(["x"]), JSON, max_size=1),
)


def _compile_or_error(text: str) -> Query | None:
    error: QueryError | None = None
    try:
        return compile_query(text)
    except QueryError as exc:
        error = exc
    assert 0 <= error.position <= len(text)
    assert str(error)
    return None


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_arbitrary_text_only_ever_raises_query_error(text: str) -> None:
    _compile_or_error(text)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=12).map(" ".join), EVENTS)
def test_token_soup_compiles_or_fails_clearly_and_never_raises_on_events(
    text: str, event: RecordedEvent
) -> None:
    query = _compile_or_error(text)
    if query is not None:
        try:
            verdict: object = query(event)
        except QueryError as exc:  # a number against text that holds none is named
            verdict = str(exc)
        assert verdict in (True, False) or "is not a number" in str(verdict)


# A tiny independent model: generate an expression tree, render it, and compare the
# parser's verdict with a direct evaluation of the tree.

FIELDS = {"event_data.price": ("price",), "event_data.x": ("x",)}
LITERALS = st.sampled_from([("1", 1), ("2.5", 2.5), ("'a'", "a"), ("true", True), ("null", None)])


@st.composite
def comparisons(draw: st.DrawFn) -> tuple[str, Any]:
    field = draw(st.sampled_from(sorted(FIELDS)))
    op = draw(st.sampled_from(["==", "!=", "<", ">="]))
    text, value = draw(LITERALS)
    return f"{field} {op} {text}", ("cmp", FIELDS[field][0], op, value)


def _joined(word: str) -> Callable[[Any], tuple[str, Any]]:
    return lambda pair: (f"({pair[0][0]} {word} {pair[1][0]})", (word, pair[0][1], pair[1][1]))


TREES = st.recursive(
    comparisons(),
    lambda children: st.one_of(
        st.tuples(children, children).map(_joined("and")),
        st.tuples(children, children).map(_joined("or")),
        children.map(lambda c: (f"not {c[0]}", ("not", c[1]))),
    ),
    max_leaves=6,
)


def _model(tree: Any, data: dict[str, Any]) -> bool:
    kind = tree[0]
    if kind == "and":
        return _model(tree[1], data) and _model(tree[2], data)
    if kind == "or":
        return _model(tree[1], data) or _model(tree[2], data)
    if kind == "not":
        return not _model(tree[1], data)
    _, key, op, value = tree
    actual = data.get(key)
    same_kind = type(actual) is type(value) or ({type(actual), type(value)} <= {int, float})
    if op == "==":
        return same_kind and actual == value
    if op == "!=":
        return not (same_kind and actual == value)
    if {type(actual), type(value)} in ({int, str}, {float, str}):
        raise NotANumber  # the model's strings hold no numbers
    orderable = same_kind and type(actual) in (int, float, str)
    return orderable and (actual < value if op == "<" else actual >= value)


class NotANumber(Exception):
    """The model's verdict: an ordering of a number and a text that holds none."""


@settings(max_examples=200, deadline=None)
@given(
    TREES,
    st.fixed_dictionaries(
        {},
        optional={
            "price": st.sampled_from([0, 1, 2.5, 3, "a", "b", True, None]),
            "x": st.sampled_from([1, 2.5, "a", False, None]),
        },
    ),
)
def test_rendered_expressions_agree_with_a_model(
    tree: tuple[str, Any], data: dict[str, Any]
) -> None:
    text, model = tree
    query = compile_query(text)
    try:
        expected = _model(model, data)
    except NotANumber:
        with pytest.raises(QueryError, match="is not a number"):
            query(RecordedEvent(0, "E", data))
        return
    assert query(RecordedEvent(0, "E", data)) is expected


# --------------------------------------------------------------------------- numbers in text

DECIMALS = RecordedEvent(
    0,
    "Paid",
    {"amount": "40.50", "tiny": "1E-7", "neg": "-3", "code": "n/a", "big": 12, "float": 0.1},
)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("event_data.amount > 40", True),
        ("event_data.amount >= 40.5", True),
        ("event_data.amount < 40.5", False),
        ("40 < event_data.amount", True),
        ("event_data.amount == 40.5", True),
        ("event_data.amount != 40.5", False),
        ("event_data.amount == 40", False),
        ("event_data.tiny < 0.000001", True),
        ("event_data.neg < 0", True),
        ("event_data.float == '0.1'", True),
        ("event_data.big <= '12.0'", True),
        ("event_data.amount == '40.5'", False),  # text against text stays text
        ("event_data.amount > '5'", False),  # ... and orders as text
        ("event_data.code == 40", False),
        ("event_data.missing > 40", False),
    ],
)
def test_decimal_text_compares_with_numbers_by_value(expression: str, expected: bool) -> None:
    assert compile_query(expression)(DECIMALS) is expected


@pytest.mark.parametrize(
    ("expression", "column", "fragment"),
    [
        ("event_data.code > 40", 1, "event_data.code ('n/a') with 40 using '>': 'n/a' is"),
        ("40 <= event_data.code", 7, "40 with event_data.code ('n/a') using '<='"),
        ("event_data.big < 'abc'", 18, "event_data.big (12) with 'abc' using '<': 'abc' is"),
    ],
)
def test_a_number_against_text_holding_none_is_an_error_naming_the_field(
    expression: str, column: int, fragment: str
) -> None:
    query = compile_query(expression)
    with pytest.raises(QueryError) as info:
        query(DECIMALS)
    assert fragment in str(info.value)
    assert "is not a number" in str(info.value)
    assert info.value.column == column
