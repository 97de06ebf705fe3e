#!/usr/bin/env bash
# The app's predeploy step: refreshes the dataset in the persistent filesystem.
# On the platform it runs before the app starts; locally `de-cli predeploy`
# runs it with ../mount pointing at the local mount folder.
# This example generates its data (deterministically) instead of downloading it.
set -euo pipefail
out=../mount/data
mkdir -p "$out/daily"
awk 'BEGIN {
    srand(42)
    print "region,product,units,revenue"
    split("north south east west", regions, " ")
    split("widget gadget gizmo doohickey", products, " ")
    for (i = 0; i < 20000; i++) {
        u = int(rand() * 100) + 1
        printf "%s,%s,%d,%.2f\n", regions[i % 4 + 1], products[int(i / 4) % 4 + 1], u, u * (3 + rand() * 7)
    }
}' >"$out/sales.csv"
for day in 01 02 03 04 05 06 07; do
    awk -v day="$day" 'BEGIN {
        srand(day + 0)
        print "hour,visits"
        for (h = 0; h < 24; h++) printf "%02d,%d\n", h, int(rand() * 1000)
    }' >"$out/daily/2026-11-$day.csv"
done
# A larger binary blob stands in for an HDF5/Parquet file.
head -c $((8 * 1024 * 1024)) /dev/zero | tr '\0' 'x' >"$out/cache.bin"
echo "fetchdata: wrote $(find "$out" -type f | wc -l) files into $out"
