"""Statement grammar of identity policies: elements, types, actions, ARNs, Condition shape.

:class:`StatementReader` turns one statement node into a :class:`Statement` for evaluation and
records findings for everything IAM (or Access Analyzer's policy validation) would complain
about.  It is lenient on purpose: a statement with mistakes is still read as well as possible,
so the checker can say both "this is wrong" and "this is what it would grant".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import TYPE_CHECKING

from batchforge.iam.arnglob import (
    split_arn,
    upper_case_parts,
    variables_before_resource,
    wildcard_type_end,
)
from batchforge.iam.conditions import closest_operator, split_operator
from batchforge.iam.jsonsrc import Node, SourceMap
from batchforge.iam.model import ConditionClause, Finding, Severity, Statement

if TYPE_CHECKING:
    from batchforge.iam.actions import IamDataset

STATEMENT_ELEMENTS = (
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
)
_SID = re.compile(r"[A-Za-z0-9]*")
_ACTION = re.compile(r"[A-Za-z0-9-]+:[A-Za-z0-9*?]+")
_VARIABLE = re.compile(r"\$\{[^}]*\}")
_ARN_PARTITIONS = re.compile(r"aws|aws-cn|aws-us-gov|aws-iso[a-z-]*|[*?]+")


class StatementReader:
    """Reads statements, appending findings to a shared list."""

    def __init__(self, smap: SourceMap, findings: list[Finding], validate_actions: bool) -> None:
        self.smap = smap
        self.findings = findings
        self.validate_actions = validate_actions
        self.documents: list[object] = []
        self._dataset: IamDataset | None = None

    # -- helpers -------------------------------------------------------------------------------

    def error(
        self,
        node: Node,
        code: str,
        message: str,
        hint: str | None,
        path: str,
        severity: Severity = Severity.ERROR,
        sid: str | None = None,
    ) -> None:
        line, col = self.smap.position(node.start)
        self.findings.append(Finding(severity, code, message, hint, line, col, path, sid))

    def elements(self, obj: Node, known: Iterable[str], path: str) -> dict[str, Node]:
        """Map each known element name to its node; report unknown and wrongly-cased keys."""
        canonical = {k.lower(): k for k in known}
        out: dict[str, Node] = {}
        for key, value in obj.value:
            name = canonical.get(key.value.lower())
            where = f"{path}.{key.value}" if path else key.value
            if name is None:
                self.error(
                    key,
                    "unknown-element",
                    f"Unknown element {key.value!r}.",
                    f"Allowed here: {', '.join(canonical.values())}.",
                    where,
                )
                continue
            if name != key.value:
                self.error(
                    key,
                    "element-case",
                    f"Element {key.value!r} must be spelt {name!r}.",
                    "Element names are case-sensitive.",
                    where,
                )
            out[name] = value
        return out

    def _strings(self, node: Node, path: str, sid: str | None) -> tuple[str, ...]:
        """A string or a list of strings; other types are reported and skipped."""
        items = node.value if node.kind == "array" else [node]
        if node.kind == "array" and not items:
            self.error(
                node,
                "empty-list",
                f"{path} is an empty list.",
                "Give at least one value.",
                path,
                sid=sid,
            )
        out: list[str] = []
        for i, item in enumerate(items):
            if item.kind == "string":
                out.append(item.value)
            else:
                where = f"{path}[{i}]" if node.kind == "array" else path
                self.error(item, "wrong-type", f"{where} must be a string.", None, where, sid=sid)
        return tuple(out)

    @property
    def dataset(self) -> IamDataset:
        if self._dataset is None:
            from batchforge.iam.actions import dataset

            self._dataset = dataset()
        return self._dataset

    # -- statements ----------------------------------------------------------------------------

    def read(self, node: Node, index: int, path: str) -> Statement | None:
        if node.kind != "object":
            self.error(node, "wrong-type", f"{path} must be an object (a statement).", None, path)
            return None
        self.documents.append(node.to_python())
        els = self.elements(node, STATEMENT_ELEMENTS, path)
        sid = self._sid(els.get("Sid"), path)
        effect = self._effect(els.get("Effect"), node, path, sid)
        for name in ("Principal", "NotPrincipal"):
            if name in els:
                self.error(
                    els[name],
                    "principal-in-identity-policy",
                    f"{name} is not allowed in an identity-based policy.",
                    "Remove it: the policy applies to whoever it is attached to.",
                    f"{path}.{name}",
                    sid=sid,
                )
        actions, not_actions = self._pair(els, "Action", "NotAction", node, path, sid)
        resources, not_resources = self._pair(els, "Resource", "NotResource", node, path, sid)
        for name, values in (("Action", actions), ("NotAction", not_actions)):
            if values and self.validate_actions:
                self._check_actions(els[name], values, f"{path}.{name}", sid)
        for name, values in (("Resource", resources), ("NotResource", not_resources)):
            if values:
                self._check_arns(els[name], values, f"{path}.{name}", sid)
        conditions = self._conditions(els.get("Condition"), f"{path}.Condition", sid)
        return Statement(
            index=index,
            sid=sid,
            effect=effect,
            actions=actions,
            not_actions=not_actions,
            resources=resources,
            not_resources=not_resources,
            conditions=conditions,
            line=self.smap.position(node.start)[0],
        )

    def _sid(self, node: Node | None, path: str) -> str | None:
        if node is None:
            return None
        if node.kind != "string":
            self.error(node, "wrong-type", "Sid must be a string.", None, f"{path}.Sid")
            return None
        if not _SID.fullmatch(node.value):
            self.error(
                node,
                "invalid-sid",
                f"Sid {node.value!r} may only contain letters and digits in an IAM policy.",
                "Remove spaces, dashes and other characters.",
                f"{path}.Sid",
                sid=node.value,
            )
        return str(node.value)

    def _effect(self, node: Node | None, stmt: Node, path: str, sid: str | None) -> str:
        if node is None:
            self.error(
                stmt,
                "missing-effect",
                "The statement has no Effect.",
                'Add "Effect": "Allow" (or "Deny").',
                path,
                sid=sid,
            )
            return ""
        value = node.value if node.kind == "string" else None
        if value in ("Allow", "Deny"):
            return str(value)
        fixed = value.capitalize() if isinstance(value, str) else None
        self.error(
            node,
            "invalid-effect",
            f'Effect must be "Allow" or "Deny", found {value!r}.',
            "The value is case-sensitive.",
            f"{path}.Effect",
            sid=sid,
        )
        return fixed if fixed in ("Allow", "Deny") else ""

    def _pair(
        self, els: dict[str, Node], name: str, not_name: str, stmt: Node, path: str, sid: str | None
    ) -> tuple[tuple[str, ...] | None, tuple[str, ...] | None]:
        if name in els and not_name in els:
            self.error(
                els[not_name],
                f"{name.lower()}-and-{not_name.lower()}",
                f"A statement cannot have both {name} and {not_name}.",
                f"Keep one of them; {not_name} is rarely what you want.",
                f"{path}.{not_name}",
                sid=sid,
            )
        if name not in els and not_name not in els:
            self.error(
                stmt,
                f"missing-{name.lower()}",
                f"The statement has no {name}.",
                f'Add "{name}": [...] (in an identity policy it is required).',
                path,
                sid=sid,
            )
        first = self._strings(els[name], f"{path}.{name}", sid) if name in els else None
        second = (
            self._strings(els[not_name], f"{path}.{not_name}", sid) if not_name in els else None
        )
        return first, second

    def _check_actions(
        self, node: Node, actions: tuple[str, ...], path: str, sid: str | None
    ) -> None:
        nodes = node.value if node.kind == "array" else [node]
        by_value = {n.value: n for n in nodes if n.kind == "string"}
        for action in actions:
            self._check_action(by_value.get(action, node), action, path, sid)

    def _check_action(self, node: Node, action: str, path: str, sid: str | None) -> None:
        if action == "*":
            return
        if not _ACTION.fullmatch(action):
            self.error(
                node,
                "invalid-action",
                f"{action!r} is not an action.",
                'Actions look like "service:ActionName", e.g. "batch:SubmitJob".',
                path,
                sid=sid,
            )
            return
        data = self.dataset
        service = action.partition(":")[0]
        if not data.has_service(service):
            guess = data.suggest(action)
            self.error(
                node,
                "unknown-service",
                f"Unknown service prefix {service!r} in {action!r}.",
                _did_you_mean(guess),
                path,
                sid=sid,
            )
        elif "*" in action or "?" in action:
            if not _expands(action):
                self.error(
                    node,
                    "action-matches-nothing",
                    f"{action!r} matches no action of {service!r}.",
                    _did_you_mean(data.suggest(action.replace("*", ""))),
                    path,
                    sid=sid,
                )
        elif not data.exists(action):
            self.error(
                node,
                "unknown-action",
                f"Unknown action {action!r}.",
                _did_you_mean(data.suggest(action)),
                path,
                sid=sid,
            )

    def _check_arns(self, node: Node, arns: tuple[str, ...], path: str, sid: str | None) -> None:
        nodes = node.value if node.kind == "array" else [node]
        by_value = {n.value: n for n in nodes if n.kind == "string"}
        for arn in arns:
            problem = arn_problem(arn)
            if problem:
                self.error(
                    by_value.get(arn, node),
                    "invalid-arn",
                    f"Invalid resource {arn!r}: {problem}.",
                    'Use "*" or an ARN like "arn:aws:service:region:account:resource".',
                    path,
                    sid=sid,
                )
            for code, message, hint, severity in arn_remarks(arn):
                self.error(by_value.get(arn, node), code, message, hint, path, severity, sid)

    def _conditions(
        self, node: Node | None, path: str, sid: str | None
    ) -> tuple[ConditionClause, ...]:
        if node is None:
            return ()
        if node.kind != "object":
            self.error(
                node,
                "invalid-condition",
                "Condition must be an object of operators.",
                '{"StringEquals": {"aws:ResourceTag/team": "genomics"}}',
                path,
                sid=sid,
            )
            return ()
        clauses: list[ClauseInput] = []
        for op_node, body in node.value:
            clauses.extend(self._operator(op_node, body, f"{path}.{op_node.value}", sid))
        return tuple(_clause(*c) for c in clauses)

    def _operator(self, op_node: Node, body: Node, path: str, sid: str | None) -> list[ClauseInput]:
        raw = op_node.value
        parts = split_operator(raw)
        if parts is None:
            fix = closest_operator(raw)
            self.error(
                op_node,
                "unknown-condition-operator",
                f"Unknown condition operator {raw!r}.",
                f"Did you mean {fix!r}? Operator names are case-sensitive."
                if fix
                else "See the IAM condition operators reference.",
                path,
                sid=sid,
            )
            keys = [k.value for k, _ in body.value] if body.kind == "object" else []
            # IAM refuses the document; evaluated, the clause never holds (see conditions)
            return [(raw, None, k, ()) for k in keys or [""]]
        if body.kind != "object" or not body.value:
            self.error(
                body,
                "invalid-condition",
                f"{raw} must map condition keys to values.",
                None,
                path,
                sid=sid,
            )
            return []
        out: list[ClauseInput] = []
        for key, values in body.value:
            texts = self._condition_values(key, values, f"{path}.{key.value}", sid)
            if texts is not None:
                out.append((raw, parts, key.value, texts))
                self._check_set_operator(key, parts, f"{path}.{key.value}", sid)
        return out

    def _check_set_operator(
        self, key: Node, parts: tuple[str | None, str, bool], path: str, sid: str | None
    ) -> None:
        """A plain operator on a multivalued key compares one value only (never a set)."""
        qualifier, base, _ = parts
        if qualifier or base == "Null" or not self.validate_actions:
            return
        if key.value.lower() not in self.dataset_multivalued_keys():
            return
        self.error(
            key,
            "multivalued-key-without-set-operator",
            f"{key.value!r} can have several values in a request, and {base} compares a single "
            "value: with more than one value in the request it does not match.",
            f"Use ForAnyValue:{base} or ForAllValues:{base} (IAM: multivalued context keys "
            "require a condition set operator).",
            path,
            Severity.WARNING,
            sid,
        )

    def dataset_multivalued_keys(self) -> frozenset[str]:
        return multivalued_keys(self.dataset)

    def _condition_values(
        self, key: Node, values: Node, path: str, sid: str | None
    ) -> tuple[str, ...] | None:
        """The values of one condition key as strings; None (reported) when malformed."""
        scalars = values.value if values.kind == "array" else [values]
        if not scalars or any(v.kind not in ("string", "number", "bool") for v in scalars):
            self.error(
                values,
                "invalid-condition",
                f"Values of {key.value!r} must be strings (or a non-empty list of them).",
                None,
                path,
                sid=sid,
            )
            return None
        if ":" not in key.value:
            self.error(
                key,
                "invalid-condition-key",
                f"{key.value!r} is not a condition key.",
                'Keys look like "aws:ResourceTag/Name" or "iam:PassedToService".',
                path,
                Severity.WARNING,
                sid,
            )
        return tuple(_scalar_text(v.value) for v in scalars)

    def check_sids(self, statements: list[Statement]) -> None:
        seen: dict[str, Statement] = {}
        for st in statements:
            if st.sid is None or st.sid == "":
                continue
            if st.sid in seen:
                self.findings.append(
                    Finding(
                        Severity.ERROR,
                        "duplicate-sid",
                        f"Sid {st.sid!r} is used twice (first at line {seen[st.sid].line}).",
                        "Give every statement a unique Sid.",
                        st.line,
                        None,
                        f"Statement[{st.index}].Sid",
                        st.sid,
                    )
                )
            else:
                seen[st.sid] = st


ClauseInput = tuple[str, tuple[str | None, str, bool] | None, str, tuple[str, ...]]
_GLOBAL_MULTIVALUED = frozenset(
    {"aws:tagkeys", "aws:principalservicenameslist", "aws:calledvia", "aws:principalorgpaths"}
)


def multivalued_keys(data: IamDataset) -> frozenset[str]:
    """Lower-cased condition keys the IAM reference types ``ArrayOf...`` (plus global ones)."""
    cached = getattr(data, "_multivalued_keys", None)
    if cached is None:
        found = set(_GLOBAL_MULTIVALUED)
        for service in data._raw.values():
            for name, info in service.get("conditions", {}).items():
                if str(info.get("type", "")).startswith("ArrayOf"):
                    found.add(name.lower())
        cached = frozenset(found)
        data._multivalued_keys = cached  # type: ignore[attr-defined]
    return cached


def _clause(
    raw: str, parts: tuple[str | None, str, bool] | None, key: str, values: tuple[str, ...]
) -> ConditionClause:
    if parts is None:
        return ConditionClause(raw, raw, None, False, key, values, known=False)
    qualifier, base, if_exists = parts
    return ConditionClause(
        raw_operator=raw,
        operator=base,
        qualifier=qualifier,
        if_exists=if_exists,
        key=key,
        values=values,
    )


def _scalar_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@lru_cache(maxsize=2048)
def _expands(action: str) -> bool:
    """Whether an action glob matches some action of the (static, process-wide) dataset."""
    from batchforge.iam.actions import dataset

    return bool(dataset().expand(action))


def _did_you_mean(candidates: list[str]) -> str | None:
    if not candidates:
        return None
    return "Did you mean " + " or ".join(repr(c) for c in candidates) + "?"


def arn_remarks(arn: str) -> list[tuple[str, str, str, Severity]]:
    """Parts of a valid-looking Resource ARN that do not do what they look like in AWS:
    a wildcard in the resource type, a variable before the fifth colon, upper case."""
    out: list[tuple[str, str, str, Severity]] = []
    parts = split_arn(arn)
    if parts is None:
        return out
    cut = wildcard_type_end(parts[2], parts[5])
    if cut:
        out.append(
            (
                "wildcard-in-resource-type",
                f"{arn!r} has a wildcard in the resource type {parts[5][:cut]!r}; AWS does not "
                "allow one there, so this entry matches no resource.",
                "Write the resource type out, e.g. job-queue/TowerForge-*.",
                Severity.ERROR,
            )
        )
    early = variables_before_resource(arn)
    if early:
        out.append(
            (
                "variable-outside-resource-part",
                f"{arn!r} uses {', '.join(early)} before the fifth colon; AWS replaces policy "
                "variables only in the resource part, so it stays literal and matches nothing.",
                "Write the region and account out, or use a condition such as aws:RequestedRegion.",
                Severity.WARNING,
            )
        )
    upper = [n for n in upper_case_parts(arn) if n in ("service", "region")]
    if upper:
        out.append(
            (
                "arn-upper-case",
                f"{arn!r} has upper case in the {', '.join(upper)}; AWS writes these in lower "
                "case and matches ARNs case-sensitively, so this entry matches no resource.",
                "Write the " + ", ".join(upper) + " in lower case.",
                Severity.WARNING,
            )
        )
    return out


def arn_problem(arn: str) -> str | None:
    """Why ``arn`` is not a valid Resource value, or None when it is fine."""
    if arn == "*":
        return None
    if arn.lower().startswith("arn:") and not arn.startswith("arn:"):
        return 'an ARN starts with "arn:" in lower case (AWS matches ARNs case-sensitively)'
    if not arn.startswith("arn:"):
        return 'an ARN starts with "arn:"'
    if "${" in _VARIABLE.sub("x", arn):
        return "a policy variable ${...} is not closed"
    placeholder = re.search(r"<[A-Za-z_ -]+>", arn)
    if placeholder:
        return f"the placeholder {placeholder.group()} was not replaced"
    parts = arn.split(":", 5)
    if len(parts) < 6:
        return (
            "an ARN has six parts arn:partition:service:region:account:resource "
            f"(found {len(parts)})"
        )
    if not _ARN_PARTITIONS.fullmatch(parts[1]):
        if _ARN_PARTITIONS.fullmatch(parts[1].lower()):
            return (
                f"the partition {parts[1]!r} must be written in lower case "
                f"({parts[1].lower()!r}); AWS matches ARNs case-sensitively"
            )
        return f"unknown partition {parts[1]!r}"
    if not parts[2]:
        return "the service part is empty"
    if not parts[5]:
        return "the resource part is empty"
    return None
