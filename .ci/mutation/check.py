"""The mutation check (`make mutation`, a step of .ci/run): mutmut changes the functions that hold
the rules that matter most (targets.toml) one small change at a time, runs the tests that guard
them, and fails if a change survives that equivalent.toml does not excuse with a reason.

Speed (about 2.5 minutes of CPU time, under 4 minutes on two cores): only the functions named
in targets.toml are mutated; each file's mutants run only its own tests from targets.toml, and
of those only the ones that call the mutated function (mutmut's stats run), in the order the
file names them, fastest first, stopping at the first failure; every test session starts from a
copy of a migrated SQLite template (tests/mutation_db.py) instead of migrating anew; mutmut's
second clean run of all tests is skipped (its stats run has just run the same tests on the same
code, and stops on a failure). Run it with `nice` on shared machines: `make mutation` does.

mutmut is pinned in requirements.txt; this uses its module API (configuration reader, `_run`,
results), so a mutmut upgrade is checked here first.
"""

import ast
import os
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
SOURCE_PATHS = ["config", "incidents", "escalation", "notifications"]
CLASS_SEPARATOR = "ǁ"  # how mutmut names methods: module.xǁClassǁmethod__mutmut_N


def mutant_pattern(file: str, function: str) -> str:
    module = file.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
    if "." in function:
        cls, method = function.split(".")
        return f"{module}.x{CLASS_SEPARATOR}{cls}{CLASS_SEPARATOR}{method}__mutmut_*"
    return f"{module}.x_{function}__mutmut_*"


def load_targets() -> list[dict]:
    targets = tomllib.loads((HERE / "targets.toml").read_text())["target"]
    for target in targets:
        missing = [t for t in target["tests"] if not (ROOT / t.split("::")[0]).exists()]
        if missing or not (ROOT / target["file"]).exists():
            sys.exit(f"targets.toml names files that do not exist: {target['file']} {missing}")
        target["patterns"] = [mutant_pattern(target["file"], f) for f in target["functions"]]
    return targets


def load_equivalent() -> dict[str, dict]:
    entries = tomllib.loads((HERE / "equivalent.toml").read_text()).get("equivalent", [])
    for entry in entries:
        if not entry.get("reason", "").strip() or not entry.get("change", "").strip():
            sys.exit(f"equivalent.toml: {entry.get('mutant')} needs a `change` and a `reason`")
    return {entry["mutant"]: entry for entry in entries}


def build_db_template() -> Path:
    """A migrated SQLite database; each test session copies it (tests/mutation_db.py)."""
    template = ROOT / "var" / "mutation" / "template.sqlite3"
    template.parent.mkdir(parents=True, exist_ok=True)
    template.unlink(missing_ok=True)
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{template}"}
    env.pop("REDIS_URL", None)
    subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    return template


def function_lines(file: str, functions: list[str]) -> set[int]:
    """The body lines of the named functions ("name" or "Class.method") in a file."""
    tree = ast.parse((ROOT / file).read_text())
    lines: set[int] = set()
    for name in functions:
        scope, _, function = name.rpartition(".")
        body = tree.body
        if scope:
            [cls] = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == scope] or [
                None
            ]
            body = cls.body if cls else []
        found = [n for n in body if isinstance(n, ast.FunctionDef) and n.name == function]
        if not found:
            sys.exit(f"targets.toml: {file} has no function {name}")
        lines.update(range(found[0].body[0].lineno, found[0].end_lineno + 1))
    return lines


def configure_mutmut(targets: list[dict]) -> None:
    from mutmut import configuration

    tests = sorted({test for target in targets for test in target["tests"]})
    options = {
        "source_paths": SOURCE_PATHS,
        "only_mutate": sorted({target["file"] for target in targets}),
        "also_copy": ["templates", "manage.py"],
        "pytest_add_cli_args": ["-p", "tests.mutation_db", "--reuse-db"],
        "pytest_add_cli_args_test_selection": tests,
        "track_dependencies": False,
        "mutate_only_covered_lines": True,  # "covered" = the target functions' lines, see below
        "use_git_change_detection": False,
    }
    configuration._config_reader = lambda: options.get  # instead of [tool.mutmut] in pyproject
    configuration.reset_config()


def restrict_tests_to_targets(targets: list[dict]) -> None:
    """After mutmut's stats run (which test calls which function), keep for each function only
    the tests targets.toml names for its file: the mapping, not chance calls, decides."""
    import mutmut.__main__ as mutmut_main
    from mutmut.state import state

    by_prefix = {
        target["file"].removesuffix(".py").replace("/", ".") + ".": target for target in targets
    }
    original = mutmut_main.collect_or_load_stats

    def collect_then_restrict(*args, **kwargs):
        original(*args, **kwargs)
        duration = state().duration_by_test
        by_function = state().tests_by_mangled_function_name
        for function, tests in list(by_function.items()):
            target = next((t for p, t in by_prefix.items() if function.startswith(p)), None)
            allowed = list(target["tests"]) if target else []

            def rank(test, allowed=allowed):
                file = next(i for i, a in enumerate(allowed) if test.startswith(a))
                return (file, duration.get(test, 0.0))

            # A list, in the order targets.toml names the test files, fastest first: mutmut runs
            # a mutant's tests in this order and stops at the first failure.
            mapped = [t for t in tests if t.startswith(tuple(allowed))]
            by_function[function] = sorted(mapped, key=rank)

    mutmut_main.collect_or_load_stats = collect_then_restrict

    def target_lines_only():
        """mutmut's `mutate_only_covered_lines` without coverage: mutate only target lines."""
        lines: dict[str, set[int]] = {}
        for t in targets:  # two targets may name functions of one file
            path = str((ROOT / "mutants" / t["file"]).absolute())
            lines.setdefault(path, set()).update(function_lines(t["file"], t["functions"]))
        state()._covered_lines = lines
        state()._excluded_lines = {}

    mutmut_main.store_lines_covered_by_tests = target_lines_only

    from mutmut.workers.isolation import ForkRunner

    ForkRunner.run_clean_tests = lambda self, tests: 0  # the stats run was this run


def changed_line(mutant: str) -> str:
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    with _cwd(ROOT):
        diff = get_diff_for_mutant(mutant)
    added = [
        line[1:].strip()
        for line in diff.splitlines()
        if line.startswith("+") and not line.startswith("+++")
    ]
    return " / ".join(added)


class _cwd:
    def __init__(self, path: Path):
        self.path, self.old = path, None

    def __enter__(self):
        self.old = os.getcwd()
        os.chdir(self.path)

    def __exit__(self, *exc):
        os.chdir(self.old)


def main() -> int:
    os.chdir(ROOT)
    started = time.monotonic()
    targets = load_targets()
    equivalent = load_equivalent()
    os.environ["MUTATION_DB_TEMPLATE"] = str(build_db_template())
    os.environ.pop("REDIS_URL", None)
    os.environ["DATABASE_URL"] = f"sqlite:///{ROOT / 'var' / 'mutation' / 'unused.sqlite3'}"
    shutil.rmtree(ROOT / "mutants", ignore_errors=True)  # a fresh run every time

    configure_mutmut(targets)
    restrict_tests_to_targets(targets)
    import mutmut.__main__ as mutmut_main
    from mutmut.stats import status_by_exit_code

    patterns = [p for target in targets for p in target["patterns"]]
    mutmut_main._run(patterns, max_children=int(os.environ.get("MUTATION_JOBS", "2")))

    mutants, _ = mutmut_main.collect_source_file_mutation_data(mutant_names=patterns)
    results = {}
    for data, name, _result in mutants:
        results[name.replace("__init__.", "")] = status_by_exit_code[
            data.exit_code_by_key.get(name)
        ]

    killed = [m for m, s in results.items() if s in ("killed", "timeout")]
    excused, unexcused = [], []
    for mutant, status in sorted(results.items()):
        if status in ("killed", "timeout"):
            continue
        entry = equivalent.get(mutant)
        line = changed_line(mutant)
        if entry and entry["change"].strip() == line:
            excused.append(mutant)
        else:
            unexcused.append((mutant, status, line))
    stale = [m for m in equivalent if m not in results or results[m] in ("killed", "timeout")]

    print()
    for target in targets:
        prefix = target["file"].removesuffix(".py").replace("/", ".") + "."
        mine = [m for m in results if m.startswith(prefix)]
        dead = [m for m in mine if m in killed]
        print(f"  {target['file']:42} {len(dead):4} killed of {len(mine):4}  ({target['rule']})")
    for mutant, status, line in unexcused:
        print(f"SURVIVED ({status}): {mutant}\n    {line}")
    if unexcused:
        print(
            "Each change above (the line as mutated) went unnoticed by every test: write the test "
            "that fails on it, or, if it changes nothing, list it in .ci/mutation/equivalent.toml "
            "with the reason."
        )
    for mutant in stale:
        print(f"equivalent.toml lists {mutant}, which is gone or killed: remove the entry")
    total = len(results) - len(excused)
    score = 100.0 * len(killed) / total if total else 100.0
    minutes, seconds = divmod(round(time.monotonic() - started), 60)
    print(
        f"\nMutation score: {score:.1f} % ({len(killed)} of {total} mutants killed; "
        f"{len(excused)} equivalent ones excused in .ci/mutation/equivalent.toml) "
        f"in {minutes} min {seconds} s"
    )
    if not results:
        print("no mutants: targets.toml names functions that do not exist")
        return 1
    return 1 if unexcused or stale else 0


if __name__ == "__main__":
    sys.exit(main())
