import time, sys, statistics
from pathlib import Path
from netdiag.data.read import Source, read_source
from netdiag.data import validate
from netdiag.data.schema import TABLES
src = Source("load", Path(sys.argv[1]), "csv")
rs, cs = [], []
for i in range(int(sys.argv[2])):
    t0 = time.perf_counter(); raw = read_source(src); t1 = time.perf_counter()
    typed, pr = validate.check_table(TABLES["load"], raw); t2 = time.perf_counter()
    rs.append(t1 - t0); cs.append(t2 - t1)
print(f"{sys.argv[3]}: read min {min(rs):.2f} median {statistics.median(rs):.2f}  check min {min(cs):.2f} median {statistics.median(cs):.2f}  rows {len(raw)}")
