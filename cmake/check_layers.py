#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Fails (exit 1) when a source file crosses a layer of docs/architecture.md.

Usage: check_layers.py <source root> <modules.txt> [stamp file]

modules.txt (written by CMake) has one line per module: "<name> <layer> <dep,dep|->".
Rules checked, for every file under libconstellation/src/<module>/:
  * "mod/..." includes must name the file's own module or one it may depend on (transitively);
  * core and pure modules never include an I/O or threading header nor call a clock, RNG
    device, environment or console directly — time and randomness are passed in;
  * core includes only the standard library (and simdjson inside .cpp files);
and for public headers, apps and bindings: public headers include only the standard library and
other public headers; apps and bindings include public headers only, never "module/..." ones.
"""
import pathlib
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.M)

# Headers that mean I/O, threads, clocks or OS access: adapters only.
IO_HEADERS = re.compile(
    r'^(asio(\.hpp|/.*)|httplib\.h|uv\.h|sqlite3\.h|openssl/(ssl|bio|x509)\.h|sys/.*|netinet/.*|'
    r'arpa/.*|netdb\.h|unistd\.h|fcntl\.h|poll\.h|signal\.h|csignal|dirent\.h|fstream|filesystem|'
    r'thread|future|condition_variable|cstdio|stdio\.h|iostream|random|ctime|time\.h|'
    r'systemd/.*|spawn\.h)$')
# Third-party libraries a pure module may compute with (no I/O through them).
PURE_THIRD_PARTY = re.compile(r'^(yaml-cpp/.*|zstd\.h|openssl/(evp|rand|crypto|err|hmac|sha)\.h)$')
# Calls a pure module must not make, even through headers it may include.
PURE_CALLS = re.compile(
    r'\b(steady_clock::now|system_clock::now|high_resolution_clock::now|getenv|setenv|'
    r'random_device|std::thread|std::cout|std::cerr|std::clog|fopen|RAND_bytes)\b')
# The standard library, as far as includes go: no slash and no .h, or a C header.
STD_HEADER = re.compile(r'^[a-z_0-9]+$|^(assert|errno|inttypes|limits|stddef|stdint|stdbool|stdlib|string)\.h$')
# POSIX headers core may use for its real clock and its file-descriptor log sink.
CORE_POSIX = re.compile(r'^(unistd|time|errno)\.h$')


def strip_comments(text):
    text = re.sub(r'/\*.*?\*/', lambda m: '\n' * m.group(0).count('\n'), text, flags=re.S)
    return re.sub(r'//[^\n]*', '', text)


def load_modules(path):
    modules = {}
    for line in pathlib.Path(path).read_text().splitlines():
        if not line.strip():
            continue
        name, layer, deps = line.split()
        modules[name] = (layer, [] if deps == '-' else deps.split(','))
    return modules


def closure(modules, name):
    seen, todo = set(), [name]
    while todo:
        m = todo.pop()
        if m in seen:
            continue
        seen.add(m)
        todo.extend(modules[m][1])
    return seen


def module_of(modules, rel):
    """Longest module name that is a directory prefix of rel (e.g. io/net before io)."""
    best = None
    for name in modules:
        if rel == name or rel.startswith(name + '/'):
            if best is None or len(name) > len(best):
                best = name
    return best


def main():
    root = pathlib.Path(sys.argv[1])
    modules = load_modules(sys.argv[2])
    errors = []
    src = root / 'libconstellation' / 'src'

    def report(path, lineno, what):
        errors.append(f'{path.relative_to(root)}:{lineno}: {what}')

    for path in sorted(src.rglob('*')):
        if path.suffix not in ('.cpp', '.hpp', '.h', '.inc'):
            continue
        rel = str(path.relative_to(src))
        mod = module_of(modules, rel)
        if mod is None:
            report(path, 1, 'file is not inside any declared module (add it to cst_add_module)')
            continue
        layer, _ = modules[mod]
        allowed = closure(modules, mod)
        text = strip_comments(path.read_text(errors='replace'))
        for m in INCLUDE.finditer(text):
            lineno = text.count('\n', 0, m.start()) + 1
            kind, inc = m.group(1), m.group(2)
            if kind == '"' and '/' in inc:
                target = module_of(modules, inc)
                if target is None:
                    report(path, lineno, f'includes "{inc}", which belongs to no module')
                elif target not in allowed:
                    report(path, lineno, f'module {mod} ({layer}) may not include "{inc}" '
                                         f'from module {target} ({modules[target][0]})')
                continue
            if kind == '"':
                if not (path.parent / inc).exists():
                    report(path, lineno, f'includes "{inc}", which is not beside it')
                continue
            if inc.startswith('constellation/') or inc == 'constellation.h':
                continue
            if layer == 'core':
                if not (STD_HEADER.match(inc) or CORE_POSIX.match(inc) or
                        (inc == 'simdjson.h' and path.suffix == '.cpp')):
                    report(path, lineno, f'core may include only the standard library (and simdjson in .cpp files), not <{inc}>')
            elif layer in ('pure', 'test-support'):
                if IO_HEADERS.match(inc):
                    report(path, lineno, f'pure module {mod} may not include the I/O header <{inc}>')
                elif not STD_HEADER.match(inc) and not PURE_THIRD_PARTY.match(inc):
                    report(path, lineno, f'pure module {mod} may not include <{inc}>')
        if layer in ('pure', 'test-support'):
            for m in PURE_CALLS.finditer(text):
                lineno = text.count('\n', 0, m.start()) + 1
                report(path, lineno, f'pure module {mod} may not call {m.group(1)} '
                                     '(time, randomness and I/O are passed in)')

    public = root / 'libconstellation' / 'include'
    for path in sorted(public.rglob('*.h*')):
        text = strip_comments(path.read_text())
        for m in INCLUDE.finditer(text):
            lineno = text.count('\n', 0, m.start()) + 1
            inc = m.group(2)
            if m.group(1) == '"' or not (STD_HEADER.match(inc) or inc.startswith('constellation')):
                report(path, lineno, f'public headers include only the standard library and '
                                     f'<constellation/...>, not {inc}')

    for top in ('apps', 'bindings'):
        for path in sorted((root / top).rglob('*')):
            if path.suffix not in ('.cpp', '.hpp', '.h', '.c'):
                continue
            text = strip_comments(path.read_text())
            for m in INCLUDE.finditer(text):
                lineno = text.count('\n', 0, m.start()) + 1
                inc = m.group(2)
                if m.group(1) == '"' and '/' in inc and module_of(modules, inc):
                    report(path, lineno, f'{top} include public headers only, not "{inc}"')

    if errors:
        print('layer check failed (see docs/architecture.md, "Layers"):', file=sys.stderr)
        for e in errors:
            print('  ' + e, file=sys.stderr)
        return 1
    if len(sys.argv) > 3:
        pathlib.Path(sys.argv[3]).write_text('ok\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
