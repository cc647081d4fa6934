"""Files that replace earlier ones (`-- apply_sql: replaces NNN`): which pending files are recorded, not run.

A file already applied on deployed databases never changes (its checksum is
in their ledgers); when it cannot apply to a live database, a later file
applies the same objects in its place where it is still pending, and changes
nothing where it was applied (docs/apply-sql.md, "Files that replace earlier ones").
"""

from approvals.sql_runner.files import MigrationFile, version_key


def replacements(files: list[MigrationFile]) -> dict[str, MigrationFile]:
    """Each replaced version (as the replacing file spells it, normalised) and the file that replaces it."""
    return {str(version_key(version)): f for f in files for version in f.replaces}


def replacement_for(replaced: dict[str, MigrationFile], version: str) -> MigrationFile | None:
    return replaced.get(str(version_key(version)))


def replacement_problems(files: list[MigrationFile]) -> list[str]:
    """A file may replace only earlier files that are in the folder, and nothing replaces a replacement."""
    by_number = {version_key(f.version): f for f in files}
    replaced = replacements(files)
    problems = []
    for replacing in files:
        for version in replacing.replaces:
            target = by_number.get(version_key(version))
            if target is None or version_key(version) >= version_key(replacing.version):
                problems.append(
                    f"{replacing.name}: says `-- apply_sql: replaces {version}`, but a file replaces only an "
                    "earlier file that is still in the folder."
                )
            elif target.replaces or replacement_for(replaced, replacing.version):
                problems.append(f"{replacing.name}: replaces {target.name}, which is itself a replacement.")
    return problems
