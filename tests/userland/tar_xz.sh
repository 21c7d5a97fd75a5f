# tar piped through multi-threaded xz and back. tar's headers carry names,
# modes, owners and times (all fixed here), and xz -T2's output depends only
# on its input and settings, so both archives are byte for byte the same.
set -eu
mkdir -p src/docs src/bin src/empty
awk 'BEGIN { x = 7; for (i = 0; i < 60000; i++) { x = (x * 69069 + 1) % 4294967296; printf "%08x %d\n", x, i } }' > src/data.txt
seq 1 50000 > src/docs/seq.txt
head -c 1000000 /dev/zero | tr '\0' 'z' > src/zeros
printf '#!/bin/sh\necho hi\n' > src/bin/tool; chmod 755 src/bin/tool
ln -s ../data.txt src/docs/data.link
ln src/docs/seq.txt src/docs/seq.hard
truncate -s 2M src/hole; printf tail >> src/hole
find src -exec touch -h -d '2020-02-02 02:02:02' {} +
tar --sort=name --owner=0 --group=0 --numeric-owner --format=gnu -cf - src | xz -T2 -3 --block-size=256KiB > src.tar.xz
xz -l src.tar.xz | awk 'NR == 2 { print $1, $2, $5 }'
xz -t -T2 src.tar.xz && echo "xz -t ok"
sha256sum src.tar.xz
xz -d -T2 -c src.tar.xz | sha256sum
xz -d -T2 -c src.tar.xz | tar -tvf - --numeric-owner | awk '{ print $1, $2, $3, $6 }'
mkdir out
xz -d -T2 -c src.tar.xz | tar -C out -xf -
diff -r src out/src && echo "round trip identical"
find out/src \( -type d -printf '%P %M %TY-%Tm-%Td\n' \) -o -printf '%P %M %s %TY-%Tm-%Td %l\n' | sort
[ "$(stat -c %i out/src/docs/seq.txt)" = "$(stat -c %i out/src/docs/seq.hard)" ] && echo "hard link restored"
# The other way: xz file in place, then tar's own -J.
cp src/data.txt d.txt; xz -T2 -k d.txt; unxz -c d.txt.xz | cmp - d.txt && echo "xz -k round trip"; ls d.txt*
tar -C src -cJf j.tar.xz --sort=name --mtime=@0 --owner=0 --group=0 docs bin
tar -tJf j.tar.xz
xzcat j.tar.xz | tar -xOf - bin/tool
# Several xz streams concatenated, and a corrupted one.
printf one | xz > c.xz; printf two | xz >> c.xz; xzcat c.xz; echo
head -c 40 src.tar.xz > broken.xz; xz -t broken.xz 2>&1 || echo "status $?"
echo end
