"""Vendor plotly.js's cartesian partial bundle, gzipped, for the HTML pages.

    python tools/vendor_plotly.py     # after an upgrade of the plotly Python package

The pages (reports, stories, the hindcast) embed plotly.js so that they open
offline. plotly's full bundle is 4.8 MB; the cartesian one (the trace types
``bar``, ``box``, ``contour``, ``heatmap``, ``histogram``, ``histogram2d``,
``histogram2dcontour``, ``image``, ``pie``, ``scatter``, ``scatterternary``,
``violin``) is 1.5 MB, and 0.5 MB gzipped. This fetches the npm package
``plotly.js-cartesian-dist-min`` of the plotly.js version the installed plotly
Python package writes figures for (``npm pack``, so it needs npm and the
registry, once, here; never at report time) and writes it, gzipped
deterministically (no name, no time stamp), with its MIT license, to
``sim/present/vendor/``, replacing any other version there.
:func:`sim.present.pages.plotly_bundle` uses it when its version is the
installed plotly's, and falls back to plotly's full bundle otherwise.
"""

from __future__ import annotations

import gzip
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "sim" / "present" / "vendor"
PACKAGE = "plotly.js-cartesian-dist-min"


def main() -> None:
    """Fetch the bundle matching the installed plotly and write it to ``VENDOR``."""
    from plotly.offline import get_plotlyjs_version

    version = get_plotlyjs_version()
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run(
            ["npm", "pack", f"{PACKAGE}@{version}", "--silent"],
            cwd=tmp,
            capture_output=True,
            text=True,
        )
        if done.returncode:
            sys.exit(f"error: npm pack {PACKAGE}@{version} failed: {done.stderr.strip()}")
        (tgz,) = Path(tmp).glob("*.tgz")
        with tarfile.open(tgz) as tar:
            script = tar.extractfile("package/plotly-cartesian.min.js")
            license_ = tar.extractfile("package/LICENSE")
            assert script is not None and license_ is not None
            code, license_text = script.read(), license_.read()
    if f"v{version}".encode() not in code[:200]:
        sys.exit(f"error: the bundle's header does not name plotly.js v{version}")
    VENDOR.mkdir(parents=True, exist_ok=True)
    for old in VENDOR.glob("plotly-cartesian-*.min.js.gz"):
        old.unlink()
    out = VENDOR / f"plotly-cartesian-{version}.min.js.gz"
    out.write_bytes(gzip.compress(code, compresslevel=9, mtime=0))
    (VENDOR / "LICENSE-plotly.js").write_bytes(license_text)
    print(f"wrote {out.relative_to(ROOT)} ({out.stat().st_size:,} bytes; {len(code):,} unpacked)")


if __name__ == "__main__":
    main()
