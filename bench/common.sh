# Sourced by the benchmarks: what they all measure the same way.

# Runs a command, its output dropped; prints "seconds max_rss_kib".
measure() { /usr/bin/time -f "%e %M" "$@" 2>&1 >/dev/null | tail -1; }

# The median of the numbers on stdin, one a line.
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# The demo's 2017 request (every record of Emma's Diary decided, stored,
# logged and vouched for), measured: share_2017 BIN DB OUTDIR.
share_2017() {
  measure "$1" --db "$2" share emmas-diary --to experian --on-behalf-of labour \
    --purpose PoliticalCampaign --categories Name,PhysicalAddress,PostalCode,custody:ChildBirthDate \
    --at 2017-05-10 --out "$3/allowed.csv" --refused "$3/refused.csv"
}
