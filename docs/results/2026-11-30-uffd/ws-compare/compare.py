# Compares one function's three page lists written by -Dthaw.record.dump (run.sh): <fn>-uffd-faults.txt (the extra uffd
# record, taken first), <fn>-uffd-faults-2.txt (the uffd record restores use), <fn>-pagemap-pages.txt.
# Usage: python3 compare.py FUNCTION   (in the dump directory)
import sys
def uffd(path):
    lines=open(path).read().split('\n')
    loaded=int(lines[0].split()[1]); resumed=int(lines[1].split()[1])
    f=[l.split() for l in lines[2:] if l]
    return [int(x[0]) for x in f], [int(x[1]) for x in f], loaded, resumed
def pm(path): return set(int(x) for x in open(path).read().split())
fn=sys.argv[1]
a,at,al,ar=uffd(f'{fn}-uffd-faults.txt')      # the extra uffd record (run first)
b,bt,bl,br=uffd(f'{fn}-uffd-faults-2.txt')    # the record restores use
p=pm(f'{fn}-pagemap-pages.txt')
A,B=set(a),set(b)
print(f"{fn}: uffd#1 {len(A)}  uffd#2 {len(B)}  pagemap {len(p)}")
print(f"  uffd#2 - uffd#1: {len(B-A)}   uffd#1 - uffd#2: {len(A-B)}")
print(f"  uffd#2 - pagemap: {len(B-p)}   uffd#1 - pagemap: {len(A-p)}   both uffd - pagemap: {len(A&B-p)}")
print(f"  restore-phase faults (before resume): #1 {ar}  #2 {br}; of those not in pagemap: {len(set(b[:br])-p)}")
ph=lambda i: 'restore' if i<br else 'run'
for i,pg in enumerate(b):
    if pg not in p: print(f"    #2-only-vs-pagemap page {pg} fault {i} ({ph(i)}) t={bt[i]/1000:.1f} ms  in uffd#1: {pg in A}")
