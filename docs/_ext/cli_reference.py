"""The CLI reference page, written from the ``fastw2v`` command's own argparse parser.

Every subcommand, option, default and help text comes from ``fastw2v.cli._build_parser()``, so
the page cannot drift from ``fastw2v COMMAND --help``. A subcommand added to the parser appears
here without any edit. Run by ``conf.py`` when a build starts, or by hand::

    python docs/_ext/cli_reference.py docs/_generated/cli-reference.rst
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

# Usage lines are wrapped as a terminal of this width would wrap them.
_WIDTH = 88


def _escape(text: str) -> str:
    """Help text as reStructuredText that renders it literally."""
    for special in ("\\", "*", "`", "|", "_"):
        text = text.replace(special, "\\" + special)
    return text


def _help_of(parser: argparse.ArgumentParser, action: argparse.Action) -> str:
    # argparse expands %(default)s and friends when it prints --help; do the same.
    formatter = parser._get_formatter()
    return " ".join(formatter._expand_help(action).split()) if action.help else ""


def _usage(parser: argparse.ArgumentParser) -> str:
    formatter = argparse.HelpFormatter(parser.prog, width=_WIDTH)
    formatter.add_usage(parser.usage, parser._actions, parser._mutually_exclusive_groups)
    return formatter.format_help().strip()


def _option_signature(action: argparse.Action) -> str:
    if not action.option_strings:
        return str(action.metavar or action.dest)
    if action.nargs == 0:
        return ", ".join(action.option_strings)
    metavar = action.metavar or action.dest.upper()
    if isinstance(metavar, tuple):
        metavar = " ".join(metavar)
    return ", ".join(f"{flag} {metavar}" for flag in action.option_strings)


def _subcommands(parser: argparse.ArgumentParser) -> list[tuple[str, str, argparse.ArgumentParser]]:
    """(name, one-line help, parser) of each subcommand, in the order --help lists them."""
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help or "" for choice in action._choices_actions}
            for name, subparser in action.choices.items():
                if name in helps:  # aliases have no entry of their own
                    found.append((name, helps[name], subparser))
    return found


def _arguments(parser: argparse.ArgumentParser, program: str) -> list[str]:
    lines = [f".. program:: {program}", ""]
    for action in parser._actions:
        if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
            continue
        if action.help == argparse.SUPPRESS:
            continue
        lines.append(f".. option:: {_option_signature(action)}")
        lines.append("")
        help_text = _help_of(parser, action)
        if action.required and action.option_strings:
            help_text = f"{help_text} (required)" if help_text else "(required)"
        if help_text:
            lines.append(f"   {_escape(help_text)}")
            lines.append("")
    return lines


def render(parser: argparse.ArgumentParser) -> str:
    """The reference of `parser` and of each of its subcommands, as reStructuredText."""
    lines = [
        ".. This file is generated from fastw2v.cli._build_parser() by docs/_ext/cli_reference.py;",
        "   edit the parser, not this file.",
        "",
    ]
    if parser.description:
        lines += [_escape(parser.description), ""]
    lines += ["::", "", *("   " + line for line in _usage(parser).splitlines()), ""]
    commands = _subcommands(parser)
    for name, summary, _ in commands:
        lines.append(f"- :ref:`fastw2v {name} <cli-{name}>`: {_escape(summary)}")
    lines.append("")
    for name, summary, subparser in commands:
        title = f"fastw2v {name}"
        # Sections under the including page's "Reference" heading (underlined with "-").
        lines += [f".. _cli-{name}:", "", title, "~" * len(title), ""]
        if subparser.description or summary:
            lines += [_escape(subparser.description or summary), ""]
        lines += ["::", "", *("   " + line for line in _usage(subparser).splitlines()), ""]
        lines += _arguments(subparser, f"fastw2v {name}")
        if subparser.epilog:
            lines += [_escape(subparser.epilog), ""]
    return "\n".join(lines).rstrip() + "\n"


def write(target: Path) -> None:
    """Write the reference to `target`, touching the file only when its text changes."""
    from fastw2v.cli import _build_parser

    text = render(_build_parser())
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists() or target.read_text("utf-8") != text:
        target.write_text(text, "utf-8")


if __name__ == "__main__":
    write(Path(sys.argv[1]))
