"""The README's table of who may do what is ``authz.TABLE``: rendered from it here, so the two
cannot drift (on a change of the table, paste the rendering this test prints into README.md)."""

from __future__ import annotations

from pathlib import Path

from switchyard_auth.domain.authz import TABLE, Op, Reach, Role

README = Path(__file__).resolve().parents[3] / "README.md"
START = "<!-- roles-table: generated from services/auth/src/switchyard_auth/domain/authz.py"
END = "<!-- /roles-table -->"
# Column order: from the widest role to the narrowest.
ROLES = (
    Role.SUPER_ADMIN,
    Role.PROXY_ADMIN,
    Role.PROXY_ADMIN_VIEWER,
    Role.INTERNAL_USER,
    Role.INTERNAL_USER_VIEWER,
    Role.TEAM_ADMIN,
    Role.TEAM_USER,
    Role.KEY,
)
WORDS = {
    Reach.ALL: "all",
    Reach.ACCOUNT: "account",
    Reach.TEAM: "team",
    Reach.OWN: "own",
    Reach.SELF: "self",
    Reach.NONE: "\u2013",  # an en dash, as in docs/tenancy.md
}


def render() -> str:
    """The table: one row per run of operations on the same noun (in the table's order) with the
    same reaches."""
    rows: list[tuple[list[Op], tuple[Reach, ...]]] = []
    for op in Op:
        reaches = tuple(TABLE[op].get(role, Reach.NONE) for role in ROLES)
        if rows and rows[-1][1] == reaches and rows[-1][0][0].value.split(".")[0] == op.value.split(".")[0]:
            rows[-1][0].append(op)
        else:
            rows.append(([op], reaches))
    lines = [
        "| operation | " + " | ".join(f"`{r.value}`" for r in ROLES) + " |",
        "|---" * (len(ROLES) + 1) + "|",
    ]
    for ops, reaches in rows:
        names = ", ".join(f"`{op.value}`" for op in ops)
        lines.append(f"| {names} | " + " | ".join(WORDS[r] for r in reaches) + " |")
    return "\n".join(lines)


def test_the_readme_roles_table_is_the_authorization_table() -> None:
    text = README.read_text()
    start = text.index(START)
    body = text[text.index("\n", start) + 1 : text.index(END)].strip()
    assert body == render(), "README.md's roles table is stale; replace it with:\n" + render()
