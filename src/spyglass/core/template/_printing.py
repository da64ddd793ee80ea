"""Go's value printing: ``fmt.Sprint``/``Sprintln``/``Sprintf`` and the strconv spellings.

A template prints ``{{ 3.0 }}`` as ``3`` and ``{{ 1e6 }}`` as ``1e+06`` because Go's ``%v`` of a
float64 is the shortest ``%g`` with an exponent from 1e+06 on; maps print as ``map[a:1 b:2]`` in
key order, slices as ``[a b]``, structs as ``{a b}``. Values with a Go ``String`` (or ``Error``)
method print through it, as fmt's Stringer does. ``printf`` understands the verbs and flags
templates use (``%s %d %f %.2f %5.1f %v %+v %q %x %X %o %b %c %U %e %g %t %T %%``, ``*``
width and precision, ``[n]`` argument indexes) and writes Go's ``%!verb(type=value)`` notes for
mismatches.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from spyglass.core.template import _values as values

# --- strconv -------------------------------------------------------------------------------

_ESCAPES = {
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
}


def _is_print(c: str) -> bool:
    # Go's unicode.IsPrint and Python's isprintable agree: letters, marks, numbers, punctuation,
    # symbols and the ASCII space.
    return c.isprintable()


def _quote_with(s: str, quote: str, *, ascii_only: bool) -> str:
    out = [quote]
    for c in s:
        if c in (quote, "\\"):
            out.append("\\" + c)
        elif ascii_only and ord(c) >= 0x80:
            out.append(_unicode_escape(c))
        elif _is_print(c) and not (0xD800 <= ord(c) <= 0xDFFF):
            out.append(c)
        elif c in _ESCAPES:
            out.append(_ESCAPES[c])
        elif ord(c) < 0x20 or ord(c) == 0x7F:
            out.append(f"\\x{ord(c):02x}")
        else:
            out.append(_unicode_escape(c))
    out.append(quote)
    return "".join(out)


def _unicode_escape(c: str) -> str:
    n = ord(c)
    if 0xD800 <= n <= 0xDFFF:
        return "\\ufffd"
    return f"\\u{n:04x}" if n < 0x10000 else f"\\U{n:08x}"


def go_quote(s: str) -> str:
    """``strconv.Quote``: a double-quoted Go string literal."""
    return _quote_with(s, '"', ascii_only=False)


def go_quote_ascii(s: str) -> str:
    """``strconv.QuoteToASCII``."""
    return _quote_with(s, '"', ascii_only=True)


def go_quote_rune(c: str, *, ascii_only: bool = False) -> str:
    """``strconv.QuoteRune``: a single-quoted Go character literal."""
    if c == '"':
        return "'\"'"
    return _quote_with(c, "'", ascii_only=ascii_only)


def go_rune_name(c: str) -> str:
    """``%#U``: ``U+0041 'A'`` (without the character when it is not printable)."""
    code = f"U+{ord(c):04X}" if c else "U+FFFFFFFF"
    return f"{code} '{c}'" if c and _is_print(c) else code


def can_backquote(s: str) -> bool:
    """``strconv.CanBackquote``: no control characters but tab, no backquote."""
    return all(c == "\t" or (c >= " " and c not in "`\x7f\ufeff") for c in s)


def _shortest_digits(v: float) -> tuple[str, int]:
    """The shortest decimal digits that read back as ``abs(v)``, and the decimal point.

    ``0.d1d2... x 10**dp``; zero has no digits.
    """
    if v == 0:
        return "", 0
    _, digits, exp = Decimal(repr(abs(v))).as_tuple()
    text = "".join(map(str, digits))
    stripped = text.rstrip("0")
    assert isinstance(exp, int)
    exp += len(text) - len(stripped)
    return stripped, len(stripped) + exp


def _fmt_e(digits: str, dp: int, prec: int, e: str) -> str:
    first = digits[:1] or "0"
    rest = digits[1 : prec + 1].ljust(prec, "0") if prec > 0 else ""
    exp = dp - 1 if digits else 0
    sign = "-" if exp < 0 else "+"
    return f"{first}{'.' + rest if rest else ''}{e}{sign}{abs(exp):02d}"


def _fmt_f(digits: str, dp: int, prec: int) -> str:
    whole = digits[:dp].ljust(dp, "0") if dp > 0 else "0"
    if prec <= 0:
        return whole
    frac = []
    for i in range(prec):
        j = dp + i
        frac.append(digits[j] if 0 <= j < len(digits) else "0")
    return f"{whole}.{''.join(frac)}"


def format_float(v: float, fmt: str, prec: int) -> str:
    """``strconv.FormatFloat(v, fmt, prec, 64)`` for ``e E f g G``; ``prec < 0`` is shortest."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    neg = math.copysign(1.0, v) < 0
    a = abs(v)
    if fmt in "xX":
        return ("-" if neg else "") + _hex_float(a, prec, upper=fmt == "X")
    if prec < 0:
        digits, dp = _shortest_digits(a)
        if fmt in "eE":
            body = _fmt_e(digits, dp, max(len(digits) - 1, 0), fmt)
        elif fmt == "f":
            body = _fmt_f(digits, dp, max(len(digits) - dp, 0))
        else:
            exp = dp - 1
            if digits and (exp < -4 or exp >= 6):  # shortest %g switches to %e at 1e+06
                body = _fmt_e(digits, dp, len(digits) - 1, "e" if fmt == "g" else "E")
            else:
                body = _fmt_f(digits, dp, max(len(digits) - dp, 0))
    elif fmt in "eE":
        body = format(a, f".{prec}{fmt}")
    elif fmt == "f":
        body = format(a, f".{prec}f")
    else:
        # Python's %g follows the same rules as Go's for an explicit precision.
        body = format(a, f".{max(prec, 1)}{fmt}")
    return ("-" if neg else "") + body


def _hex_float(a: float, prec: int, *, upper: bool) -> str:
    """Go's %x of a float: 0x1.cp+01 (shortest mantissa unless a precision is given)."""
    if a == 0:
        mantissa, exp = "0", 0
    else:
        text = a.hex()  # 0x1.c000000000000p+1
        body, _, e = text[2:].partition("p")
        whole, _, frac = body.partition(".")
        exp = int(e)
        if whole == "0":  # subnormal: normalise to a leading 1 as Go does
            m = int(frac, 16)
            shift = m.bit_length() - 1
            exp -= 52 - shift
            frac = format((m - (1 << shift)) << (52 - shift), "013x")
        if prec >= 0:
            value = int(frac, 16)
            keep = min(prec, 13)
            drop = (13 - keep) * 4
            if drop:
                half = 1 << (drop - 1)
                rest = value & ((1 << drop) - 1)
                value >>= drop
                if rest > half or (rest == half and value & 1):
                    value += 1
                if keep and value >> (keep * 4):
                    value = 0
                    exp += 1
            frac = format(value, f"0{keep}x") if keep else ""
            frac = frac.ljust(prec, "0")
        else:
            frac = frac.rstrip("0")
        mantissa = "1" + ("." + frac if frac else "")
    text = f"0x{mantissa}p{'-' if exp < 0 else '+'}{abs(exp):02d}"
    return text.upper().replace("0X", "0X") if upper else text


# --- fmt -----------------------------------------------------------------------------------


@dataclass
class _Flags:
    plus: bool = False
    minus: bool = False
    sharp: bool = False
    space: bool = False
    zero: bool = False
    plus_v: bool = False
    sharp_v: bool = False
    wid: int = 0
    wid_present: bool = False
    prec: int = 0
    prec_present: bool = False


class _Printer:
    def __init__(self) -> None:
        self.buf: list[str] = []
        self.f = _Flags()

    def write(self, s: str) -> None:
        self.buf.append(s)

    # padding -----------------------------------------------------------------------------
    def pad(self, s: str) -> None:
        f = self.f
        if not f.wid_present or f.wid == 0:
            self.write(s)
            return
        width = f.wid - len(s)
        if width <= 0:
            self.write(s)
        elif f.minus:
            self.write(s + " " * width)
        else:
            self.write(("0" if f.zero else " ") * width + s)

    # basic kinds -------------------------------------------------------------------------
    def fmt_bool(self, v: bool, verb: str, arg: object) -> None:
        if verb in "tv":
            self.pad("true" if v else "false")
        else:
            self.bad_verb(verb, arg)

    def fmt_integer(self, v: int, verb: str, arg: object) -> None:
        f = self.f
        if verb in "vd":
            self._integer(v, 10, verb, "0123456789abcdefx")
        elif verb == "b":
            self._integer(v, 2, verb, "0123456789abcdefx")
        elif verb in "oO":
            self._integer(v, 8, verb, "0123456789abcdefx")
        elif verb == "x":
            self._integer(v, 16, verb, "0123456789abcdefx")
        elif verb == "X":
            self._integer(v, 16, verb, "0123456789ABCDEFX")
        elif verb == "c":
            self.pad(_rune(v))
        elif verb == "q":
            self.pad(go_quote_rune(_rune(v), ascii_only=f.plus))
        elif verb == "U":
            text = f"U+{v:04X}" if v >= 0 else f"U+{v & 0xFFFFFFFFFFFFFFFF:04X}"
            if f.sharp and 0 <= v <= 0x10FFFF and _is_print(chr(v)):
                text += f" '{chr(v)}'"
            self.pad(text)
        else:
            self.bad_verb(verb, arg)

    def _integer(self, v: int, base: int, verb: str, digits: str) -> None:
        f = self.f
        negative = v < 0
        u = -v if negative else v
        prec = 0
        if f.prec_present:
            prec = f.prec
            if prec == 0 and u == 0:
                old, f.zero = f.zero, False
                self.write(" " * f.wid if f.wid_present else "")
                f.zero = old
                return
        elif f.zero and not f.minus and f.wid_present:
            prec = f.wid
            if negative or f.plus or f.space:
                prec -= 1
        out = ""
        if u == 0:
            out = "0"
        while u:
            out = digits[u % base] + out
            u //= base
        out = out.rjust(prec, "0")
        if f.sharp:
            if base == 2:
                out = "0b" + out
            elif base == 8 and not out.startswith("0"):
                out = "0" + out
            elif base == 16:
                out = "0" + digits[16] + out
        if verb == "O":
            out = "0o" + out
        if negative:
            out = "-" + out
        elif f.plus:
            out = "+" + out
        elif f.space:
            out = " " + out
        old, f.zero = f.zero, False
        self.pad(out)
        f.zero = old

    def fmt_float(self, v: float, verb: str, arg: object) -> None:
        if verb == "v":
            self._float(v, "g", -1)
        elif verb in "xXgG":
            self._float(v, verb, -1)
        elif verb in "eEfF":
            self._float(v, "f" if verb == "F" else verb, 6)
        else:
            self.bad_verb(verb, arg)

    def _float(self, v: float, verb: str, prec: int) -> None:
        f = self.f
        if f.prec_present:
            prec = f.prec
        num = format_float(v, verb, prec)
        if num[0] not in "+-":
            num = "+" + num
        if f.space and num[0] == "+" and not f.plus:
            num = " " + num[1:]
        if num[1] in "IN":  # Inf and NaN are never zero-padded; NaN drops its sign
            old, f.zero = f.zero, False
            if num[1] == "N" and not f.space and not f.plus:
                num = num[1:]
            self.pad(num)
            f.zero = old
            return
        if f.sharp and "." not in num and "e" not in num.lower():
            num += "."
        if f.plus or num[0] != "+":
            if f.zero and f.wid_present and f.wid > len(num):
                self.write(num[0] + "0" * (f.wid - len(num)) + num[1:])
                return
            self.pad(num)
            return
        self.pad(num[1:])

    def fmt_complex(self, v: complex, verb: str, arg: object) -> None:
        if verb not in "vbgGxXfFeE":
            self.bad_verb(verb, arg)
            return
        old_plus = self.f.plus
        self.write("(")
        self.fmt_float(v.real, verb, arg)
        self.f.plus = True
        self.fmt_float(v.imag, verb, arg)
        self.write("i)")
        self.f.plus = old_plus

    def fmt_string(self, s: str, verb: str, arg: object) -> None:
        f = self.f
        if verb == "v" and f.sharp_v:
            self.pad(go_quote(s))
        elif verb in "vs":
            self.pad(s[: f.prec] if f.prec_present else s)
        elif verb in "xX":
            data = (s[: f.prec] if f.prec_present else s).encode("utf-8")
            hexes = [format(b, "02x" if verb == "x" else "02X") for b in data]
            if f.space:
                prefix = ("0x" if verb == "x" else "0X") if f.sharp else ""
                self.pad(" ".join(prefix + h for h in hexes))
            else:
                body = "".join(hexes)
                if f.sharp and body:
                    body = ("0x" if verb == "x" else "0X") + body
                self.pad(body)
        elif verb == "q":
            text = s[: f.prec] if f.prec_present else s
            if f.sharp and can_backquote(text):
                self.pad("`" + text + "`")
            else:
                self.pad(go_quote_ascii(text) if f.plus else go_quote(text))
        else:
            self.bad_verb(verb, arg)

    # composites --------------------------------------------------------------------------
    def handle_methods(self, value: object, verb: str) -> bool:
        if verb not in "vsxXq" or self.f.sharp_v:
            return False
        for name in ("Error", "String"):
            method = values.method(value, name)
            if method is not None:
                result = method()
                self.fmt_string(str(result), verb, value)
                return True
        return False

    def print_arg(self, arg: object, verb: str) -> None:
        if arg is None:
            if verb in "Tv":
                self.pad("<nil>")
            else:
                self.bad_verb(verb, arg)
            return
        if verb == "T":
            self.pad(values.type_name(arg))
            return
        # Go's basic types have no methods; named types (time.Duration, template.HTML) may.
        cls = type(arg)
        if cls is bool and isinstance(arg, bool):
            self.fmt_bool(arg, verb, arg)
        elif cls is int and isinstance(arg, int):
            self.fmt_integer(arg, verb, arg)
        elif cls is float and isinstance(arg, float):
            self.fmt_float(arg, verb, arg)
        elif cls is complex and isinstance(arg, complex):
            self.fmt_complex(arg, verb, arg)
        elif cls is str and isinstance(arg, str):
            self.fmt_string(arg, verb, arg)
        elif not self.handle_methods(arg, verb):
            self.print_value(arg, verb, 0)

    def print_value(self, value: object, verb: str, depth: int) -> None:
        if depth > 0 and value is not None and self.handle_methods(value, verb):
            return
        kind = values.kind_of(value)
        if kind is values.Kind.INVALID:
            # A nil inside a slice or map is a nil interface value, which prints as <nil>
            # whatever the verb.
            self.write("<invalid reflect.Value>" if depth == 0 else "<nil>")
        elif isinstance(value, bool):
            self.fmt_bool(value, verb, value)
        elif isinstance(value, int):
            self.fmt_integer(int(value), verb, value)
        elif isinstance(value, float):
            self.fmt_float(float(value), verb, value)
        elif isinstance(value, complex):
            self.fmt_complex(complex(value), verb, value)
        elif isinstance(value, str):
            self.fmt_string(str(value), verb, value)
        elif kind is values.Kind.MAP:
            assert isinstance(value, Mapping)
            self.write("map[")
            for i, (k, v) in enumerate(values.sorted_items(value)):
                if i:
                    self.write(" ")
                self.print_value(k, verb, depth + 1)
                self.write(":")
                self.print_value(v, verb, depth + 1)
            self.write("]")
        elif kind is values.Kind.SLICE:
            assert isinstance(value, Sequence)
            self.write("[")
            for i, item in enumerate(value):
                if i:
                    self.write(" ")
                self.print_value(item, verb, depth + 1)
            self.write("]")
        elif kind is values.Kind.STRUCT:
            if getattr(type(value), "__go_pointer__", False):
                self.write("&")
            self.write("{")
            for i, (name, field) in enumerate(values.struct_fields(value)):
                if i:
                    self.write(" ")
                if self.f.plus_v:
                    self.write(name + ":")
                self.print_value(field, verb, depth + 1)
            self.write("}")
        else:
            # Go prints a func's address; there is no address to show here.
            self.write("0x0")

    def bad_verb(self, verb: str, arg: object) -> None:
        self.write("%!" + verb + "(")
        if arg is None:
            self.write("<nil>")
        else:
            # Go prints the operand with the verb's flags still set: %.2f of 3 is %!f(int=03).
            self.write(values.type_name(arg) + "=")
            self.print_arg(arg, "v")
        self.write(")")

    def result(self) -> str:
        return "".join(self.buf)


def _rune(v: int) -> str:
    return chr(v) if 0 <= v <= 0x10FFFF and not 0xD800 <= v <= 0xDFFF else "\ufffd"


def sprint(*args: object) -> str:
    """``fmt.Sprint``: operands in ``%v``, a space between two operands when neither is a string."""
    p = _Printer()
    prev_string = False
    for i, arg in enumerate(args):
        is_string = values.kind_of(arg) is values.Kind.STRING
        if i > 0 and not is_string and not prev_string:
            p.write(" ")
        p.f = _Flags()
        p.print_arg(arg, "v")
        prev_string = is_string
    return p.result()


def sprintln(*args: object) -> str:
    """``fmt.Sprintln``: operands in ``%v`` separated by spaces, then a newline."""
    p = _Printer()
    for i, arg in enumerate(args):
        if i:
            p.write(" ")
        p.f = _Flags()
        p.print_arg(arg, "v")
    p.write("\n")
    return p.result()


def _parse_num(s: str, i: int) -> tuple[int, bool, int]:
    start = i
    while i < len(s) and "0" <= s[i] <= "9":
        if i - start > 6:  # Go refuses absurd widths
            return 0, False, len(s)
        i += 1
    if i == start:
        return 0, False, i
    return int(s[start:i]), True, i


def sprintf(fmt: str, *args: object) -> str:
    """``fmt.Sprintf`` with Go's verbs, flags, width, precision and error notes."""
    p = _Printer()
    arg_num = 0
    reordered = False
    i = 0
    end = len(fmt)
    while i < end:
        j = fmt.find("%", i)
        if j < 0:
            p.write(fmt[i:])
            break
        p.write(fmt[i:j])
        i = j + 1
        p.f = f = _Flags()
        good_arg_num = True
        while i < end:
            c = fmt[i]
            if c == "#":
                f.sharp = True
            elif c == "0":
                f.zero = not f.minus
            elif c == "+":
                f.plus = True
            elif c == "-":
                f.minus = True
                f.zero = False
            elif c == " ":
                f.space = True
            else:
                break
            i += 1
        arg_num, i, after_index, ok = _arg_number(arg_num, fmt, i, len(args))
        reordered = reordered or after_index
        good_arg_num = good_arg_num and ok
        if i < end and fmt[i] == "*":
            i += 1
            f.wid, f.wid_present, arg_num = _int_from_arg(args, arg_num)
            if not f.wid_present:
                p.write("%!(BADWIDTH)")
            if f.wid < 0:
                f.wid = -f.wid
                f.minus = True
                f.zero = False
            after_index = False
        else:
            f.wid, f.wid_present, i = _parse_num(fmt, i)
            if after_index and f.wid_present:
                good_arg_num = False
        if i + 1 < end and fmt[i] == ".":
            i += 1
            if after_index:
                good_arg_num = False
            arg_num, i, after_index, ok = _arg_number(arg_num, fmt, i, len(args))
            reordered = reordered or after_index
            good_arg_num = good_arg_num and ok
            if i < end and fmt[i] == "*":
                i += 1
                f.prec, f.prec_present, arg_num = _int_from_arg(args, arg_num)
                if f.prec < 0:
                    f.prec = 0
                    f.prec_present = False
                if not f.prec_present:
                    p.write("%!(BADPREC)")
                after_index = False
            else:
                f.prec, f.prec_present, i = _parse_num(fmt, i)
                if not f.prec_present:
                    f.prec = 0
                    f.prec_present = True
        if not after_index:
            arg_num, i, after_index, ok = _arg_number(arg_num, fmt, i, len(args))
            reordered = reordered or after_index
            good_arg_num = good_arg_num and ok
        if i >= end:
            p.write("%!(NOVERB)")
            break
        verb = fmt[i]
        i += 1
        if verb == "%":
            p.write("%")
        elif not good_arg_num:
            p.write(f"%!{verb}(BADINDEX)")
        elif arg_num >= len(args):
            p.write(f"%!{verb}(MISSING)")
        else:
            if verb == "v":
                f.sharp_v, f.sharp = f.sharp, False
                f.plus_v, f.plus = f.plus, False
            p.print_arg(args[arg_num], verb)
            arg_num += 1
    if not reordered and arg_num < len(args):
        p.f = _Flags()
        p.write("%!(EXTRA ")
        for k, arg in enumerate(args[arg_num:]):
            if k:
                p.write(", ")
            if arg is None:
                p.write("<nil>")
            else:
                p.write(values.type_name(arg) + "=")
                p.print_arg(arg, "v")
        p.write(")")
    return p.result()


def _arg_number(arg_num: int, fmt: str, i: int, num_args: int) -> tuple[int, int, bool, bool]:
    """Parse ``[n]``: the new argument index, the position after it, whether found, whether ok."""
    if i >= len(fmt) or fmt[i] != "[":
        return arg_num, i, False, True
    close = fmt.find("]", i + 1)
    if close < 0:
        return arg_num, len(fmt), False, False
    text = fmt[i + 1 : close]
    if not text.isdigit() or not 1 <= int(text) <= num_args:
        return arg_num, close + 1, True, False
    return int(text) - 1, close + 1, True, True


def _int_from_arg(args: Sequence[object], arg_num: int) -> tuple[int, bool, int]:
    if arg_num >= len(args):
        return 0, False, arg_num
    arg = args[arg_num]
    if isinstance(arg, int) and not isinstance(arg, bool) and abs(arg) <= 1_000_000:
        return int(arg), True, arg_num + 1
    return 0, False, arg_num + 1


def print_action(value: Any) -> str:
    """What ``{{ pipeline }}`` writes: ``fmt.Fprint`` of the value, ``<no value>`` for nothing."""
    if value is None:
        return "<no value>"
    return sprint(value)
