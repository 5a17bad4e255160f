"""Install-time build of the cell fast path's C loop (`engine/_cells.c`), as a hatchling hook.

pip runs it for every install, editable or not. Where a C compiler and Python's headers are at
hand it compiles the one file with the interpreter's own settings; where they are not it says
so and the install goes on: the engine then runs the same tokens through its Python loop
(engine/cellpath.py), about twice as slow on full-screen redraws. Not part of the package.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import (  # type: ignore[import-not-found]
    BuildHookInterface,
)


def compile_cells(source: Path, target: Path) -> str | None:
    """Compile `source` into the extension module `target`; returns why it could not, or
    None. The module is written beside and then moved in place: a running process that has
    the old one loaded keeps it intact."""
    include = sysconfig.get_paths()["include"]
    if not Path(include, "Python.h").exists():
        return f"no Python.h in {include}"
    cc = shlex.split(os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc")
    link = ["-bundle", "-undefined", "dynamic_lookup"] if sys.platform == "darwin" else ["-shared"]
    partial = target.with_name(target.name + ".part")
    command = [*cc, *link, "-fPIC", "-O2", f"-I{include}", str(source), "-o", str(partial)]
    try:
        subprocess.run(command, check=True, capture_output=True, text=True, timeout=600)
    except subprocess.CalledProcessError as error:
        return f"{shlex.join(command)}: {error.stderr.strip() or error}"
    except (OSError, subprocess.SubprocessError) as error:
        return f"{shlex.join(command)}: {error}"
    os.replace(partial, target)
    return None


class CellsBuildHook(BuildHookInterface):  # type: ignore[misc]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        engine = Path(self.root, "engine")
        target = engine / ("_cells" + sysconfig.get_config_var("EXT_SUFFIX"))
        why = compile_cells(engine / "_cells.c", target)
        if why is not None:
            self.app.display_warning(
                f"engine/_cells.c was not built, so full-screen redraws take the slower "
                f"Python loop: {why}"
            )
            return
        build_data["pure_python"] = False
        build_data["infer_tag"] = True
        if version != "editable":  # an editable install imports it from the source tree
            build_data["force_include"][str(target)] = f"engine/{target.name}"
