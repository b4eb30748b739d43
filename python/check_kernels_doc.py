#!/usr/bin/env python3
"""Checks that docs/kernels.md documents every gcu op as the code defines it.

Reads the gcu dialect (dialects/gcu/GcuOps.td and the getHardwareEntry methods in
dialects/gcu/GcuOps.cpp) and the CPU reference library (lib/Kernels/ReferenceKernels.cpp),
then compares them with the two tables of docs/kernels.md:

* the launch table (header "| gcu op | GCU library entry | ..."): one row per launch op, or
  per kind for ops whose entry depends on their kind (gcu.binary add, gcu.reduce sum, ...),
  whose entry cell is exactly what getHardwareEntry returns and whose "in place" cell says
  "yes" exactly when the op has an operand it both reads and writes;
* the buffer-op table (header "| gcu op | What the runtime does |"): one row per op that
  launches nothing.

It also checks that the reference library binds every launch op and nothing else.
Prints what is missing, stale or wrong and exits 1 on any mismatch.

    python3 python/check_kernels_doc.py [--srcroot DIR] [--td F] [--cpp F] [--reference F]
                                        [--doc F]
"""

import argparse
import os
import re
import sys

KERNEL_BASE = "Gcu_KernelOp"       # class Gcu_KernelOp<string mnemonic, string entry, ...>
OP_BASE = "Gcu_Op"                 # class Gcu_Op<string mnemonic, ...>
LAUNCH_INTERFACE = "Gcu_KernelLaunchOpInterface"
LAUNCH_HEADER = "GCU library entry"
BUFFER_HEADER = "What the runtime does"


class CheckError(Exception):
    """The sources are not in a shape this checker understands."""


# ----------------------------------------------------------------------------------------------
# TableGen
# ----------------------------------------------------------------------------------------------

def strip_td_comments(text):
    # `//` comments outside strings; code blocks in descriptions never hold `"//`.
    out = []
    for line in text.splitlines():
        in_string = False
        cut = len(line)
        for i, ch in enumerate(line):
            if ch == '"':
                in_string = not in_string
            elif not in_string and line.startswith("//", i):
                cut = i
                break
        out.append(line[:cut])
    return "\n".join(out)


def balanced(text, start, open_ch="<", close_ch=">"):
    """Index just past the bracket matching text[start] == open_ch."""
    assert text[start] == open_ch
    depth = 0
    i = start
    in_string = False
    while i < len(text):
        ch = text[i]
        if ch == '"':
            in_string = not in_string
        elif not in_string:
            if text.startswith("[{", i):          # code block: skip to its end
                end = text.find("}]", i + 2)
                if end < 0:
                    raise CheckError("unterminated [{ block")
                i = end + 2
                continue
            if ch == open_ch:
                depth += 1
            elif ch == close_ch:
                depth -= 1
                if depth == 0:
                    return i + 1
        i += 1
    raise CheckError("unbalanced %s%s at offset %d" % (open_ch, close_ch, start))


def split_top_level(text):
    """Splits at commas outside brackets, strings and code blocks."""
    parts, depth, current, i, in_string = [], 0, [], 0, False
    while i < len(text):
        ch = text[i]
        if ch == '"':
            in_string = not in_string
        elif not in_string:
            if text.startswith("[{", i):
                end = text.find("}]", i + 2)
                current.append(text[i:end + 2])
                i = end + 2
                continue
            if ch in "<[(":
                depth += 1
            elif ch in ">])":
                depth -= 1
            elif ch == "," and depth == 0:
                parts.append("".join(current).strip())
                current = []
                i += 1
                continue
        current.append(ch)
        i += 1
    if "".join(current).strip():
        parts.append("".join(current).strip())
    return parts


def parse_records(td):
    """{name: dict(kind, params, parents, body)} for every `def` and `class`."""
    records = {}
    for match in re.finditer(r"^\s*(def|class)\s+(\w+)", td, re.M):
        kind, name = match.group(1), match.group(2)
        i = match.end()
        params = []
        while i < len(td) and td[i].isspace():
            i += 1
        if kind == "class" and i < len(td) and td[i] == "<":
            end = balanced(td, i)
            for param in split_top_level(td[i + 1:end - 1]):
                param = param.split("=")[0].strip()
                params.append(param.split()[-1])
            i = end
        while i < len(td) and td[i].isspace():
            i += 1
        parents = []
        if i < len(td) and td[i] == ":":
            i += 1
            while True:
                while i < len(td) and td[i].isspace():
                    i += 1
                parent = re.match(r"\w+", td[i:])
                if not parent:
                    break
                pname = parent.group(0)
                i += len(pname)
                args = []
                while i < len(td) and td[i].isspace():
                    i += 1
                if i < len(td) and td[i] == "<":
                    end = balanced(td, i)
                    args = split_top_level(td[i + 1:end - 1])
                    i = end
                parents.append((pname, args))
                while i < len(td) and td[i].isspace():
                    i += 1
                if i < len(td) and td[i] == ",":
                    i += 1
                    continue
                break
        # The body runs to the next top-level def/class.
        following = re.compile(r"^\s*(def|class)\s+\w+", re.M).search(td, i)
        body = td[i:following.start() if following else len(td)]
        records[name] = dict(kind=kind, params=params, parents=parents, body=body)
    return records


def unquote(arg):
    arg = arg.strip()
    if len(arg) >= 2 and arg[0] == '"' and arg[-1] == '"':
        return arg[1:-1]
    return None


def kernel_classes(records):
    """{class: (mnemonic param index, entry param index)} for Gcu_KernelOp and its subclasses."""
    result = {KERNEL_BASE: (0, 1)}
    changed = True
    while changed:
        changed = False
        for name, record in records.items():
            if record["kind"] != "class" or name in result:
                continue
            for parent, args in record["parents"]:
                if parent not in result:
                    continue
                mi, ei = result[parent]
                try:
                    result[name] = (record["params"].index(args[mi].strip()),
                                    record["params"].index(args[ei].strip()))
                except (ValueError, IndexError):
                    raise CheckError("class %s derives from %s but does not pass its mnemonic "
                                     "and entry through as parameters; teach "
                                     "check_kernels_doc.py about it" % (name, parent))
                changed = True
    return result


def op_classes(records):
    """Classes deriving from Gcu_Op that take the mnemonic first (Gcu_KernelOp included)."""
    result = {OP_BASE}
    changed = True
    while changed:
        changed = False
        for name, record in records.items():
            if record["kind"] == "class" and name not in result and any(
                    parent in result for parent, _ in record["parents"]):
                result.add(name)
                changed = True
    return result


def enum_cases(records, enum):
    record = records.get(enum)
    if record is None:
        raise CheckError("enum %s is not defined in GcuOps.td" % enum)
    return re.findall(r'I32EnumAttrCase<\s*"(\w+)"', record["body"] +
                      " ".join(" ".join(args) for _, args in record["parents"]))


def cpp_class(def_name):
    # ODS names the C++ class after the def, without the dialect prefix.
    return def_name.split("_", 1)[1] if "_" in def_name else def_name


def hardware_entries_in_cpp(cpp, class_name, kind_enum, cases):
    """{kind: entry} (or {None: entry}) from `StringRef Class::getHardwareEntry() {...}`."""
    start = re.search(r"StringRef\s+%s::getHardwareEntry\(\)\s*\{" % re.escape(class_name), cpp)
    if not start:
        raise CheckError("%s declares KernelLaunchOpInterface in GcuOps.td but GcuOps.cpp has "
                         "no %s::getHardwareEntry()" % (class_name, class_name))
    end = re.compile(r"^\}", re.M).search(cpp, start.end())
    body = cpp[start.end():end.start() if end else len(cpp)]
    entries = {}
    for enum, kind, entry in re.findall(r'case\s+(\w+)::(\w+)\s*:\s*return\s+"(\w+)"\s*;', body):
        entries[kind] = entry
    ternary = re.search(r'==\s*(\w+)::(\w+)\s*\?\s*"(\w+)"\s*:\s*"(\w+)"', body)
    if ternary and not entries:
        for kind in cases:
            entries[kind] = ternary.group(3) if kind == ternary.group(2) else ternary.group(4)
    if not entries and kind_enum is None:
        single = re.findall(r'return\s+"(\w+)"\s*;', body)
        if len(single) == 1:
            return {None: single[0]}
    if not entries:
        raise CheckError("cannot read %s::getHardwareEntry() in GcuOps.cpp (expected `case "
                         "Kind::x: return \"entry\";` lines or a `== Kind::x ? \"a\" : \"b\"` "
                         "ternary); teach check_kernels_doc.py about it" % class_name)
    return entries


def launch_table_from_code(td_text, cpp_text):
    """[(op, kind or None, entry, in_place)] and the names of the ops that launch nothing."""
    td = strip_td_comments(td_text)
    records = parse_records(td)
    kernels = kernel_classes(records)
    ops = op_classes(records)
    launches, buffers, problems = [], [], []
    for name, record in records.items():
        if record["kind"] != "def":
            continue
        in_place = re.search(r"\[\s*MemRead\s*,\s*MemWrite\s*\]|\[\s*MemWrite\s*,\s*MemRead\s*\]",
                             record["body"]) is not None
        kernel_parent = next(((p, a) for p, a in record["parents"] if p in kernels), None)
        if kernel_parent:
            parent, args = kernel_parent
            mi, ei = kernels[parent]
            mnemonic, entry = unquote(args[mi]), unquote(args[ei])
            if mnemonic is None or entry is None:
                problems.append("%s: mnemonic and entry must be string literals" % name)
                continue
            launches.append((mnemonic, None, entry, in_place))
            continue
        op_parent = next(((p, a) for p, a in record["parents"] if p in ops), None)
        if not op_parent:
            continue
        parent, args = op_parent
        mnemonic = unquote(args[0]) if args else None
        if mnemonic is None:
            problems.append("%s: cannot read its mnemonic" % name)
            continue
        if LAUNCH_INTERFACE not in " ".join(args):
            buffers.append(mnemonic)
            continue
        kind_match = re.search(r"EnumProp<\s*(Gcu_\w+)\s*>\s*:\s*\$kind", record["body"])
        kind_enum = kind_match.group(1) if kind_match else None
        cases = enum_cases(records, kind_enum) if kind_enum else []
        entries = hardware_entries_in_cpp(cpp_text, cpp_class(name), kind_enum, cases)
        if kind_enum:
            for kind in cases:
                if kind not in entries:
                    problems.append("%s::getHardwareEntry() in GcuOps.cpp has no entry for "
                                    "%s::%s" % (cpp_class(name), kind_enum[4:], kind))
                    continue
                launches.append((mnemonic, kind, entries[kind], in_place))
            for kind in entries:
                if kind not in cases:
                    problems.append("%s::getHardwareEntry() names %s, which %s does not have"
                                    % (cpp_class(name), kind, kind_enum))
        else:
            launches.append((mnemonic, None, entries[None], in_place))
    return launches, buffers, problems


# ----------------------------------------------------------------------------------------------
# Markdown
# ----------------------------------------------------------------------------------------------

def markdown_tables(text):
    """[(header cells, [row cells])] for every pipe table."""
    tables, lines = [], text.splitlines()
    i = 0
    while i < len(lines):
        if lines[i].lstrip().startswith("|") and i + 1 < len(lines) and \
                re.match(r"^\s*\|[\s:|-]+\|\s*$", lines[i + 1]):
            header = cells(lines[i])
            rows = []
            i += 2
            while i < len(lines) and lines[i].lstrip().startswith("|"):
                rows.append((i + 1, cells(lines[i])))
                i += 1
            tables.append((header, rows))
        else:
            i += 1
    return tables


def cells(line):
    line = line.strip()
    if line.startswith("|"):
        line = line[1:]
    if line.endswith("|"):
        line = line[:-1]
    # `\|` inside a cell is an escaped pipe.
    return [c.strip() for c in re.split(r"(?<!\\)\|", line)]


def code_span(cell):
    match = re.fullmatch(r"`([^`]+)`", cell.strip())
    return match.group(1).strip() if match else None


def find_table(tables, column, doc):
    found = [t for t in tables if any(h.strip() == column for h in t[0])]
    if len(found) != 1:
        raise CheckError("%s must have exactly one table with a \"%s\" column, found %d"
                         % (doc, column, len(found)))
    return found[0]


# ----------------------------------------------------------------------------------------------

def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--srcroot",
                        default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    parser.add_argument("--td")
    parser.add_argument("--cpp")
    parser.add_argument("--reference")
    parser.add_argument("--doc")
    args = parser.parse_args()
    td_path = args.td or os.path.join(args.srcroot, "dialects", "gcu", "GcuOps.td")
    cpp_path = args.cpp or os.path.join(args.srcroot, "dialects", "gcu", "GcuOps.cpp")
    ref_path = args.reference or os.path.join(args.srcroot, "lib", "Kernels",
                                              "ReferenceKernels.cpp")
    doc_path = args.doc or os.path.join(args.srcroot, "docs", "kernels.md")

    def read(path):
        with open(path, encoding="utf-8") as f:
            return f.read()

    errors = []
    try:
        # The ops' enums live next to GcuOps.td (and, when shared with vgcu, in
        # dialects/common): read them as part of it.
        # (included first, so that definitions in the given .td file take precedence).
        td_text = read(td_path)
        for included in re.findall(r'include "(dialects/[\w/]+Enums\.td)"', td_text):
            td_text = read(os.path.join(args.srcroot, included)) + "\n" + td_text
        launches, buffers, problems = launch_table_from_code(td_text, read(cpp_path))
        errors += problems
        tables = markdown_tables(read(doc_path))
        launch_header, launch_rows = find_table(tables, LAUNCH_HEADER, "docs/kernels.md")
        buffer_header, buffer_rows = find_table(tables, BUFFER_HEADER, "docs/kernels.md")
    except (CheckError, OSError) as error:
        print("check_kernels_doc: error: %s" % error)
        return 1
    if not launches:
        print("check_kernels_doc: error: found no launch ops in %s" % td_path)
        return 1

    # Launch table.
    entry_col = launch_header.index(LAUNCH_HEADER)
    in_place_col = next((i for i, h in enumerate(launch_header) if h.lower() == "in place"), None)
    if in_place_col is None:
        errors.append("the launch table has no \"in place\" column")
    documented = {}
    for line, row in launch_rows:
        key_text = code_span(row[0]) if row else None
        entry = code_span(row[entry_col]) if len(row) > entry_col else None
        if not key_text or not key_text.startswith("gcu.") or not entry:
            errors.append("docs/kernels.md:%d: a launch row must start | `gcu.op` (or `gcu.op "
                          "kind`) | `entry` |" % line)
            continue
        words = key_text[4:].split()
        key = (words[0], words[1] if len(words) > 1 else None)
        if key in documented:
            errors.append("docs/kernels.md:%d: %s has a second row" % (line, key_text))
            continue
        in_place = None
        if in_place_col is not None and len(row) > in_place_col:
            word = row[in_place_col].strip().lower()
            in_place = True if word.startswith("yes") else False if word.startswith("no") else None
        documented[key] = (line, entry, in_place)

    def label(op, kind):
        return "gcu.%s%s" % (op, " " + kind if kind else "")

    expected = {(op, kind): (entry, in_place) for op, kind, entry, in_place in launches}
    for (op, kind), (entry, in_place) in sorted(expected.items(), key=lambda x: (x[0][0],
                                                                                x[0][1] or "")):
        if (op, kind) not in documented:
            errors.append("missing launch row: | `%s` | `%s` | ... |" % (label(op, kind), entry))
            continue
        line, doc_entry, doc_in_place = documented[(op, kind)]
        if doc_entry != entry:
            errors.append("docs/kernels.md:%d: %s is documented as `%s` but getHardwareEntry "
                          "returns `%s`" % (line, label(op, kind), doc_entry, entry))
        if doc_in_place is None:
            errors.append("docs/kernels.md:%d: the \"in place\" cell of %s must start with yes "
                          "or no" % (line, label(op, kind)))
        elif doc_in_place != in_place:
            errors.append("docs/kernels.md:%d: %s is documented as %sin place, but GcuOps.td "
                          "gives it %s read-write operand" % (
                              line, label(op, kind), "" if doc_in_place else "not ",
                              "a" if in_place else "no"))
    for (op, kind), (line, doc_entry, _) in sorted(documented.items(),
                                                   key=lambda x: x[1][0]):
        if (op, kind) not in expected:
            errors.append("docs/kernels.md:%d: stale launch row %s: GcuOps.td has no such "
                          "launch op%s" % (line, label(op, kind), " or kind" if kind else ""))

    # Buffer-op table.
    documented_buffers = {}
    for line, row in buffer_rows:
        op = code_span(row[0]) if row else None
        if not op or not op.startswith("gcu."):
            errors.append("docs/kernels.md:%d: a buffer-op row must start | `gcu.op` |" % line)
            continue
        documented_buffers[op[4:]] = line
    for op in sorted(buffers):
        if op not in documented_buffers:
            errors.append("missing buffer-op row: | `gcu.%s` | ... |" % op)
    for op, line in sorted(documented_buffers.items(), key=lambda x: x[1]):
        if op not in buffers:
            errors.append("docs/kernels.md:%d: stale buffer-op row gcu.%s: GcuOps.td has no "
                          "such op that launches nothing" % (line, op))

    # The CPU reference library binds exactly the launch ops.
    bound = set(re.findall(r'add\(\s*"gcu\.(\w+)"', read(ref_path)))
    launch_ops = {op for op, _, _, _ in launches}
    for op in sorted(launch_ops - bound):
        errors.append("lib/Kernels/ReferenceKernels.cpp binds no kernel for launch op gcu.%s"
                      % op)
    for op in sorted(bound - launch_ops):
        errors.append("lib/Kernels/ReferenceKernels.cpp binds gcu.%s, which is not a launch op"
                      % op)

    if errors:
        print("check_kernels_doc: docs/kernels.md disagrees with the gcu dialect "
              "(%d problem%s):" % (len(errors), "" if len(errors) == 1 else "s"))
        for error in errors:
            print("  " + error)
        return 1
    print("check_kernels_doc: OK: %d launch rows (%d ops), %d buffer ops"
          % (len(expected), len(launch_ops), len(buffers)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
