#!/usr/bin/env python3
"""Writes a man page (roff, section 1) for a program and each of its subcommands, from the help
text the program itself holds: `PROGRAM --experimental-dump-help` (swift-argument-parser's JSON).

    scripts/manpages.py BINARY OUT_DIR

Pages are named after the command path (casebook-server-user-add.1), so a new subcommand gets its
page without any change here. Hidden commands and options are left out, as in --help.
SOURCE_DATE_EPOCH, when set, dates the pages (reproducible packages)."""

import json
import os
import subprocess
import sys
import time


def roff(text):
    """Text for a roff line: backslashes and hyphens escaped (so commands copy as typed), no line
    starting with a control character."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return "\n".join("\\&" + line if line.startswith((".", "'")) else line for line in text.split("\n"))


def names(argument):
    """The option's spellings as the user types them: -h, --help."""
    dashes = {"short": "-", "long": "--", "longWithSingleDash": "-"}
    return [dashes[n["kind"]] + n["name"] for n in argument.get("names", [])]


def preferred(argument):
    """The spelling --help shows: the preferred name (--help rather than -h)."""
    name = argument.get("preferredName")
    return names({"names": [name]})[0] if name else names(argument)[0]


def visible(argument, is_root):
    if not argument.get("shouldDisplay", True):
        return False
    # --help and --version are the root's business; ArgumentParser lists them on every page.
    return is_root or not set(names(argument)) & {"--help", "-h", "--version"}


def synopsis_item(argument):
    value = "\\fI" + roff(argument.get("valueName", "value")) + "\\fR"
    if argument["kind"] == "positional":
        item = value
    else:
        item = "\\fB" + roff(preferred(argument)) + "\\fR"
        if argument["kind"] == "option":
            item += " " + value
    if argument.get("isRepeating"):
        item += " ..."
    return "[" + item + "]" if argument.get("isOptional") else item


def description(text):
    """Discussion text: runs of plain lines become filled paragraphs; indented lines (examples,
    lists) are kept as written."""
    out, paragraph, verbatim = [], [], []

    def flush():
        if paragraph:
            out.extend([".PP", roff(" ".join(paragraph))])
            paragraph.clear()
        if verbatim:
            out.extend([".PP", ".nf", ".RS 4", roff("\n".join(verbatim)), ".RE", ".fi"])
            verbatim.clear()

    for line in text.split("\n"):
        if not line.strip():
            flush()
        elif line.startswith((" ", "\t")):
            if paragraph:
                flush()
            verbatim.append(line.rstrip())
        else:
            if verbatim:
                flush()
            paragraph.append(line.strip())
    flush()
    return out


def option_entry(argument):
    if argument["kind"] == "positional":
        head = "\\fI" + roff(argument.get("valueName", "value")) + "\\fR"
    else:
        head = ", ".join("\\fB" + roff(n) + "\\fR" for n in names(argument))
        if argument["kind"] == "option":
            head += " \\fI" + roff(argument.get("valueName", "value")) + "\\fR"
    text = argument.get("abstract", "")
    if argument.get("allValues"):
        text += " Values: " + ", ".join(argument["allValues"]) + "."
    if argument.get("defaultValue") not in (None, ""):
        text += " Default: " + str(argument["defaultValue"]) + "."
    lines = [".TP", head, roff(text.strip())]
    if argument.get("discussion"):
        lines += [".IP", roff(argument["discussion"])]
    return lines


def page(command, path, header):
    """The roff text of one command's page; `path` is the command's words (casebook-server user add)."""
    is_root = len(path) == 1
    title = "-".join(path)
    arguments = [a for a in command.get("arguments", []) if visible(a, is_root)]
    children = [c for c in command.get("subcommands", []) if shown(c)]
    lines = ['.TH "%s" 1 "%s" "%s" "%s"' % (roff(title.upper()), header["date"], roff(header["source"]), header["manual"]),
             # No hyphenation and a ragged right edge: option and variable names stay whole.
             ".nh", ".ad l",
             ".SH NAME", "%s \\- %s" % (roff(title), roff(command.get("abstract", "").rstrip("."))),
             ".SH SYNOPSIS", ".B " + roff(" ".join(path))]
    if children:
        lines.append("\\fIcommand\\fR")
    lines += [synopsis_item(a) for a in arguments]
    lines.append(".SH DESCRIPTION")
    lines += [".PP", roff(command.get("abstract", ""))]
    if command.get("discussion"):
        lines += description(command["discussion"])
    if arguments:
        lines.append(".SH OPTIONS")
        for argument in arguments:
            lines += option_entry(argument)
    if children:
        lines.append(".SH COMMANDS")
        for child in children:
            lines += [".TP", "\\fB%s\\fR(1)" % roff(title + "-" + child["commandName"]), roff(child.get("abstract", ""))]
    # The command's parents; its children are listed under COMMANDS.
    see = [path[: i + 1] for i in range(len(path) - 1)]
    if see:
        lines += [".SH SEE ALSO", ",\n".join("\\fB%s\\fR(1)" % roff("-".join(p)) for p in see)]
    return "\n".join(lines) + "\n"


def shown(command):
    # ArgumentParser's own `help` command is covered by --help on every page.
    return command.get("shouldDisplay", True) and command["commandName"] != "help"


def write(command, path, header, out_dir, written):
    name = "-".join(path) + ".1"
    with open(os.path.join(out_dir, name), "w", encoding="utf-8") as handle:
        handle.write(page(command, path, header))
    written.append(name)
    for child in command.get("subcommands", []):
        if shown(child):
            write(child, path + [child["commandName"]], header, out_dir, written)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: manpages.py BINARY OUT_DIR")
    binary, out_dir = sys.argv[1], sys.argv[2]
    dump = json.loads(subprocess.run([binary, "--experimental-dump-help"], check=True, capture_output=True).stdout)
    version = subprocess.run([binary, "--version"], check=True, capture_output=True, text=True).stdout.strip()
    root = dump["command"]
    stamp = int(os.environ.get("SOURCE_DATE_EPOCH", time.time()))
    header = {"date": time.strftime("%Y-%m-%d", time.gmtime(stamp)),
              "source": version.split(" (")[0], "manual": "Casebook Manual"}
    os.makedirs(out_dir, exist_ok=True)
    written = []
    write(root, [root["commandName"]], header, out_dir, written)
    print("\n".join(written))


if __name__ == "__main__":
    main()
