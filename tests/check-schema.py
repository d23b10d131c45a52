#!/usr/bin/env python3
"""check-schema.py: validate podform YAML documents against the JSON Schema.

Usage: check-schema.py SCHEMA PATH...

Every .yaml/.yml file under each PATH (a directory, read recursively in byte-sorted path order,
skipping names that start with '.'; or a file) is read; every non-empty document is validated
with a Draft-07 validator. One line per failure, `FILE: doc N: WHERE: MESSAGE`, then
`N passed, M failed` (counted in documents). Exit status: 0 all passed, 1 any failure, 2 usage.

Needs python3-yaml and python3-jsonschema. The schema checks one document at a time; cross-document
rules (references, uniqueness, pairing) are `podform validate`'s job.
"""
import json
import os
import re
import sys

import jsonschema
import yaml


class Loader(yaml.SafeLoader):
    """SafeLoader reading plain scalars by the YAML 1.2 core schema, as podform (libyaml) and
    yaml-language-server do: `yes`/`on` are strings, not booleans; 52:54:00:12:34:56 is a string,
    not a base-60 number; no timestamps, no `<<` merge keys. Duplicate keys are errors."""


Loader.yaml_implicit_resolvers = {}
for _tag, _regexp, _first in [
        ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
        ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", list("tTfF")),
        ("tag:yaml.org,2002:int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", list("-+0123456789")),
        ("tag:yaml.org,2002:float",
         r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
         list("-+.0123456789"))]:
    Loader.add_implicit_resolver(_tag, re.compile(_regexp), _first)


def _construct_int(loader, node):
    value = loader.construct_scalar(node)
    if value.startswith("0x"):
        return int(value[2:], 16)
    if value.startswith("0o"):
        return int(value[2:], 8)
    return int(value, 10)


Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)


def _construct_mapping(loader, node, deep=False):
    seen = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping", node.start_mark,
                "found duplicate key %r (first at line %d)" % (key, seen[key] + 1),
                key_node.start_mark)
        seen[key] = key_node.start_mark.line
    return yaml.SafeLoader.construct_mapping(loader, node, deep)


Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def yaml_files(path):
    """Yields .yaml/.yml files under path in byte-sorted order, skipping dot names."""
    if not os.path.isdir(path):
        yield path
        return
    found = []
    for root, dirs, files in os.walk(path):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for f in files:
            if not f.startswith(".") and f.endswith((".yaml", ".yml")):
                found.append(os.path.join(root, f))
    yield from sorted(found, key=os.fsencode)


def documents(text):
    """Yields (number, node, data) for every document of a YAML stream, empty ones included."""
    loader = Loader(text)
    try:
        n = 0
        while loader.check_node():
            n += 1
            node = loader.get_node()
            yield n, node, (loader.construct_document(node) if node is not None else None)
    finally:
        loader.dispose()


def node_at(node, path):
    """The YAML node at a JSON-schema error path (deepest reachable), for its line number."""
    for part in path:
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if k.value == part:
                    node = v
                    break
            else:
                break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            break
    return node


def describe(error):
    """A readable message: schema-provided pattern messages, and named one-of choices."""
    schema = error.schema if isinstance(error.schema, dict) else {}
    if error.validator == "pattern" and "patternErrorMessage" in schema:
        return "%r: %s" % (error.instance, schema["patternErrorMessage"])
    if error.validator == "oneOf" and isinstance(error.instance, dict):
        choices = [s["required"][0] for s in error.validator_value
                   if isinstance(s, dict) and len(s.get("required", [])) == 1]
        if choices:
            present = [c for c in choices if c in error.instance]
            return "exactly one of %s is required (found %s)" % (
                ", ".join(choices), ", ".join(present) if present else "none")
    if error.validator == "anyOf" and all(isinstance(s, dict) and s.get("required")
                                          for s in error.validator_value):
        return "requires %s" % " or ".join(
            " and ".join(s["required"]) for s in error.validator_value)
    if error.validator == "type" and isinstance(error.instance, (int, float)) \
            and not isinstance(error.instance, bool) and "pattern" in schema:
        return "%s is not a string (YAML read it as a number): %s" % (
            error.instance, schema.get("patternErrorMessage", "expected a string"))
    if error.validator == "not" and isinstance(error.validator_value, dict) \
            and "required" in error.validator_value:
        return "%s is not allowed here" % ", ".join(error.validator_value["required"])
    return error.message


def where(error):
    parts = []
    for p in error.absolute_path:
        parts.append("[%d]" % p if isinstance(p, int) else ("." if parts else "") + str(p))
    return "".join(parts) or "(document)"


def main(argv):
    if len(argv) < 3 or argv[1] in ("-h", "--help"):
        sys.stderr.write("usage: %s SCHEMA PATH...\n" % os.path.basename(argv[0]))
        return 2
    with open(argv[1], encoding="utf-8") as f:
        schema = json.load(f)
    jsonschema.Draft7Validator.check_schema(schema)
    validator = jsonschema.Draft7Validator(schema)

    passed = failed = 0
    for arg in argv[2:]:
        if not os.path.exists(arg):
            print("%s: no such file or directory" % arg)
            failed += 1
            continue
        for path in yaml_files(arg):
            n = 0
            try:
                with open(path, encoding="utf-8") as f:
                    text = f.read()
                for n, node, data in documents(text):
                    if data is None:
                        continue
                    errors = sorted(validator.iter_errors(data),
                                    key=lambda e: list(map(str, e.absolute_path)))
                    if not errors:
                        passed += 1
                        continue
                    failed += 1
                    for e in errors:
                        line = node_at(node, e.absolute_path).start_mark.line + 1
                        print("%s: doc %d: %s (line %d): %s" % (path, n, where(e), line, describe(e)))
            except yaml.MarkedYAMLError as e:
                # the document being read when it failed: the one after the last yielded
                mark = e.problem_mark or e.context_mark
                print("%s: doc %d: line %d, column %d: %s" % (
                    path, n + 1, mark.line + 1, mark.column + 1, e.problem or e.context))
                failed += 1
            except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
                print("%s: %s" % (path, str(e).replace("\n", " ")))
                failed += 1
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
