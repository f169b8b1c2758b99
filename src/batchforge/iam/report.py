"""Plain-text rendering of a policy check report (the CLI adds colour and tables on top)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from batchforge.iam.parse import INLINE_USER_POLICY_LIMIT, MANAGED_POLICY_LIMIT

if TYPE_CHECKING:
    from batchforge.iam.checker import Report
    from batchforge.iam.model import Finding


def headline(report: Report) -> str:
    """One line: PASSED / FAILED / UNREADABLE with the reason."""
    if not report.usable:
        return "UNREADABLE: the policy could not be parsed"
    missing = len(report.missing(required=True))
    if missing:
        return f"FAILED: {missing} required permission{'s' if missing != 1 else ''} missing"
    if not report.valid:
        return "FAILED: the policy has errors IAM would reject"
    return "PASSED: every required permission is allowed"


def _scope_line(report: Report) -> str:
    s = report.scope
    parts = [f"account {s.account or 'any'}", f"region {s.region or 'any'}", f"prefix {s.prefix}"]
    if s.work_dir:
        parts.append(f"work dir {s.work_dir}")
    if s.data_buckets:
        parts.append(f"buckets {', '.join(s.data_buckets)}")
    if s.tags:
        parts.append("tags " + ", ".join(f"{k}={v}" for k, v in s.tags))
    return ", ".join(parts)


def _policy_line(report: Report) -> str:
    parts = []
    for p in report.policies:
        if p is None:
            continue
        shape = (
            ""
            if p.shape == "policy"
            else (
                " (given as a bare statement)"
                if p.shape == "statement"
                else " (given as a list of statements)"
            )
        )
        count = len(p.statements)
        parts.append(
            f"{count} statement{'s' if count != 1 else ''}, {p.compact_size:,} "
            f"characters without whitespace{shape}"
        )
    limits = (
        f"limits: managed policy {MANAGED_POLICY_LIMIT:,}, inline user policy "
        f"{INLINE_USER_POLICY_LIMIT:,}"
    )
    return "; ".join(parts) + f" ({limits})"


def format_finding(f: Finding) -> str:
    where = f" [{f.location}]" if f.location else ""
    sid = f" (Sid {f.sid})" if f.sid else ""
    text = f"{f.severity.value:<16} {f.code}{where}{sid}: {f.message}"
    if f.hint:
        text += f"\n{'':<17}hint: {f.hint}"
    return text


def render_text(report: Report, *, verbose: bool = False) -> str:
    """The report as plain text; ``verbose`` also lists every allowed permission."""
    lines = [f"Policy check {headline(report)}"]
    if report.usable:
        summary = report.summary()
        lines += [
            f"Policy:   {_policy_line(report)}",
            f"Features: {', '.join(report.features)}",
            f"Scope:    {_scope_line(report)}",
            f"Permissions: {summary['allowed']} allowed, {summary['requiredMissing']} required "
            f"missing, {summary['optionalMissing']} optional missing, "
            f"{summary['dependentMissing']} dependent missing, {summary['extrasMissing']} "
            "extras not granted",
        ]
    if report.findings:
        lines.append("")
        lines += [format_finding(f) for f in report.findings]
    if verbose and report.results:
        lines.append("")
        for r in report.results:
            action, resource, context = r.permission.triple
            ctx = f" [{context}]" if context else ""
            lines.append(
                f"{r.evaluation.decision.value:<14} {r.permission.feature:<13} "
                f"{action} on {resource}{ctx} -- {r.evaluation.reason}"
            )
    return "\n".join(lines)
