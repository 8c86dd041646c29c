"""SARIF 2.1.0 output of `stagelock lint`, for code-scanning uploads.

One run: the hazard rules and the declaration's rule (SL501) as the tool's rules (with their help
text and the documentation they rest on), one result per finding at the line of the stage's or
action's name, one result of SL501 per field warning at the field's line, and as the
invocation's notifications: files that could not be read (error), hazards whose search did not
finish (error), stages no execution enters and what the readers read only approximately (note).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from spec.hazards import DECLARATION_RULES, LINT_RULES

if TYPE_CHECKING:
    from checker.lint import Report
    from spec.hazards import Rule

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def tool_version() -> str:
    """The installed stagelock's version (pyproject.toml's)."""
    try:
        return version("stagelock")
    except PackageNotFoundError:  # pragma: no cover - run from a checkout without installing
        return "unknown"


def _rules() -> list[dict[str, Any]]:
    return [{
        "id": r.id,
        "name": r.name,
        "shortDescription": {"text": r.summary},
        "fullDescription": {"text": f"{r.summary}. Documentation: \"{r.source}\""},
        "help": {
            "text": f"{r.summary[0].upper()}{r.summary[1:]}. Fix: {r.fix}. Severity {r.severity}"
                    f"{'; one finding per pipeline, listing every place' if r.grouped else ''}."
                    f" Silence it with `--ignore {r.id}` or `stagelock: {{ignore: [{r.id}]}}` in"
                    f" the file.",
            "markdown": f"**{r.name}** ({r.severity}): {r.summary}.\n\n**Fix:** {r.fix}.\n\n"
                        f"> {r.source}\n\nSilence it with `--ignore {r.id}` or "
                        f"`stagelock: {{ignore: [{r.id}]}}` in the file.",
        },
        "defaultConfiguration": {"level": r.severity},
        "properties": {"tags": ["codepipeline", _kind(r)]},
    } for r in LINT_RULES.values()]


def _kind(rule: Rule) -> str:
    if rule.id in DECLARATION_RULES:
        return "declaration"
    return "operator" if rule.operator else "structural"


def _location(file: str, line: int | None) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": {"uri": file}}
    if line:
        physical["region"] = {"startLine": line}
    return {"physicalLocation": physical}


def _notice(level: str, text: str, file: str, line: int | None = None) -> dict[str, Any]:
    """One notification of the run's invocation."""
    return {"level": level, "message": {"text": text}, "locations": [_location(file, line)]}


def to_sarif(report: Report) -> dict[str, Any]:
    from checker.lint import field_warnings, reading_notes, undecided_json, unreached_notes

    index = {r: i for i, r in enumerate(LINT_RULES)}
    results = []
    for f in report.findings:
        location = _location(f.file, f.line)
        location["logicalLocations"] = [{"fullyQualifiedName": f"{f.pipeline}/{f.where}",
                                         "kind": "member"}]
        steps = "; ".join(f"{s['step']}. {s['operation']}" for s in f.trace)
        results.append({
            "ruleId": f.rule.id,
            "ruleIndex": index[f.rule.id],
            "level": f.severity,
            "message": {"text": f"{f.message} Fix: {f.rule.fix}. Trace: {steps}"},
            "locations": [location],
        })
    for w in field_warnings(report):
        location = _location(w["file"], w["line"])
        location["logicalLocations"] = [{"fullyQualifiedName": f"{w['pipeline']}/{w['place']}",
                                         "kind": "member"}]
        results.append({
            "ruleId": w["ruleId"],
            "ruleIndex": index[w["ruleId"]],
            "level": LINT_RULES[w["ruleId"]].severity,
            "message": {"text": f"{w['place']}: {w['message']}"
                                + ("" if w["message"].endswith(("?", ".")) else ".")},
            "locations": [location],
        })
    notifications = [_notice("error", f"not linted: {e}", e.file) for e in report.unreadable]
    notifications += [_notice("error", f"{u['ruleId']} {u['rule']} at {u['pipeline']}/"
                              f"{u['stage']}{'.' + u['action'] if u['action'] else ''}: "
                              f"UNDETERMINED, {u['reason']}", u["file"])
                      for u in undecided_json(report)]
    notifications += [_notice("note", f"pipeline {n['pipeline']}: no execution enters "
                              f"{', '.join(n['stages'])}, so no hazard there was looked for "
                              f"(--toggles 1 lets the search open a disabled transition)",
                              n["file"]) for n in unreached_notes(report)]
    notifications += [_notice("note", f"pipeline {n['pipeline']}: {n['place']} {n['text']}",
                              n["file"], n["line"]) for n in reading_notes(report)]
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "stagelock", "version": tool_version(),
                                "semanticVersion": tool_version(), "rules": _rules()}},
            "invocations": [{
                "executionSuccessful": report.complete and not report.unreadable,
                "toolExecutionNotifications": notifications,
            }],
            "results": results,
        }],
    }
