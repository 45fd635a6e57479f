"""Stand-ins for the orchestration tests: a tiny district, fake notebooks, a fake district stage.

The notebooks run with the real papermill kernel ``canbao``; the district stage only copies
hukou.csv to registry.csv, so orchestration, status and verify are tested apart from the
pipeline stages.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pandas as pd

DISTRICT = "430321"
TOWNSHIPS = {"430321100": "易俗河镇", "430321101": "谭家山镇", "430321102": "故障镇"}
PARAMS = """\
bulletin:
  unit: 湘潭县人力资源和社会保障局
"""


def notebook(*cells: str, params: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    first = nbformat.v4.new_code_cell(params)
    first.metadata["tags"] = ["parameters"]
    nb.cells = [first, *(nbformat.v4.new_code_cell(c) for c in cells)]
    nb.metadata["kernelspec"] = {"name": "canbao", "display_name": "canbao", "language": "python"}
    return nb


BASE_PARAMS = 'district_code = ""\nperiod = ""\nperiod_dir = ""\nout_root = ""\nparams_dir = ""'


def write_fake_notebooks(nb_dir: Path) -> Path:
    """A district notebook that writes registry.csv from hukou.csv, and a township notebook
    that fails for the township named 故障镇 (a deliberate, parameter-driven failure)."""
    nb_dir.mkdir(parents=True, exist_ok=True)
    district = notebook(
        "from pathlib import Path\nimport pandas as pd\n"
        "out = Path(out_root) / district_code / period\n"
        "hukou = pd.read_csv(Path(period_dir) / 'hukou.csv', dtype=str, encoding='gbk')\n"
        "(out / 'exports').mkdir(parents=True, exist_ok=True)\n"
        "reg = hukou.rename(columns={'公民身份号码': 'id_number', '乡镇街道代码': 'township_code'})"
        "[['id_number', 'township_code']].sort_values('id_number')\n"
        "reg.to_csv(out / 'exports' / 'registry.csv', index=False)",
        "print('户籍人数', len(reg))",
        params=BASE_PARAMS,
    )
    township = notebook(
        "from pathlib import Path\nimport pandas as pd\n"
        "reg = pd.read_csv(Path(out_root) / district_code / period / 'exports' / 'registry.csv',"
        " dtype=str)",
        "if township_name == '故障镇':\n    raise ValueError('故意失败 ' + township_code)",
        "print(township_name, int((reg['township_code'] == township_code).sum()))",
        params=BASE_PARAMS + '\ntownship_code = ""\ntownship_name = ""',
    )
    nbformat.write(district, str(nb_dir / "10_district.ipynb"))
    nbformat.write(township, str(nb_dir / "20_township.ipynb"))
    return nb_dir


def write_period(raw: Path, period: str, people: list[tuple[str, str]]) -> Path:
    d = raw / DISTRICT / period
    d.mkdir(parents=True, exist_ok=True)
    df = pd.DataFrame(people, columns=["公民身份号码", "乡镇街道代码"])
    df.insert(1, "姓名", ["张伟", "李娜", "王芳", "刘洋", "陈静", "杨磊"][: len(df)])
    df.to_csv(d / "hukou.csv", index=False, encoding="gbk")
    return d


PEOPLE = [
    ("430321199001011234", "430321100"),
    ("43032119851212002X", "430321101"),
    ("430321200203030011", "430321102"),
    ("430321197707070022", "430321100"),
]


class FakeStage:
    """Stand-in for canbao.run.pipeline.run_period: counts calls, writes registry.csv."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __call__(self, cfg, ctx) -> None:  # noqa: ANN001
        self.calls.append(ctx.period.isoformat())
        hukou = pd.read_csv(ctx.period_dir / "hukou.csv", dtype=str, encoding="gbk")
        ctx.exports_dir.mkdir(parents=True, exist_ok=True)
        hukou.rename(columns={"乡镇街道代码": "township_code"}).to_csv(
            ctx.exports_dir / "registry.csv", index=False
        )
